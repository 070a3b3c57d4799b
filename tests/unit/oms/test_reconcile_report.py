"""Which cl_ord_ids reconciliation takes for ours, and how its corrections are counted."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client import CollectorRegistry

from aether.oms.reconcile_report import (
    Correction,
    ReconciliationMetrics,
    ReconciliationReport,
    is_our_cl_ord_id,
)


def test_a_generated_cl_ord_id_is_ours() -> None:
    assert is_our_cl_ord_id(str(uuid.uuid4()))


@pytest.mark.parametrize(
    "cl_ord_id",
    [
        None,
        "",
        "manual-1",
        # Fixed values: xdist workers must collect the same parameters.
        "1A1B994B-AABF-4924-917A-469C0048A649",  # upper case, not as the service writes it
        "f12b9c1a-ef3f-11f1-aae1-02fc00000001",  # a version 1 UUID
        "0154dd1b62834587b1c3297cb34b9444",  # no hyphens
        "{b4ee0851-82ac-4694-be5b-7bf8ba20ad54}",
    ],
)
def test_anything_else_is_foreign(cl_ord_id: str | None) -> None:
    assert not is_our_cl_ord_id(cl_ord_id)


def test_corrections_are_counted_by_kind() -> None:
    registry = CollectorRegistry()
    metrics = ReconciliationMetrics(registry)
    report = ReconciliationReport(uuid.uuid4())
    report.corrections += [Correction("fill", "a", "t1"), Correction("fill", "a", "t2")]
    report.corrections.append(Correction("adopted", "b", "O1"))
    for correction in report.corrections:
        metrics.count(correction.kind)

    assert report.kinds() == {"fill": 2, "adopted": 1}
    name = "aether_reconciliation_corrections_total"
    assert registry.get_sample_value(name, {"kind": "fill"}) == 2
    assert registry.get_sample_value(name, {"kind": "adopted"}) == 1
