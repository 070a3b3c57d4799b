from __future__ import annotations

import math
from decimal import Decimal

import pytest

from aether.risk.exposure import (
    group_of,
    group_value,
    groups_from_config,
    groups_from_correlation,
    pearson,
)

MAJORS = frozenset({"XBTUSD", "ETHUSD"})
MEMES = frozenset({"DOGEUSD", "SHIBUSD"})


def test_config_groups_are_normalised_in_order() -> None:
    groups = groups_from_config([["XBTUSD", "ETHUSD"], {"DOGEUSD", "SHIBUSD"}])
    assert groups == (MAJORS, MEMES)
    assert all(isinstance(g, frozenset) for g in groups)
    assert groups_from_config([]) == ()


def test_a_symbol_in_two_groups_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"ETHUSD is in two correlated groups \(0 and 1\)"):
        groups_from_config([MAJORS, {"ETHUSD", "SOLUSD"}])


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        (["XBTUSD"], "must be a set of symbols, not 'XBTUSD'"),
        ([set()], "group 0 is empty"),
        ([{"XBTUSD", ""}], "invalid symbol ''"),
        ([{"XBTUSD", 7}], "invalid symbol 7"),
    ],
)
def test_malformed_config_groups_are_refused(groups: list[object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        groups_from_config(groups)  # type: ignore[arg-type]


def test_group_of_finds_the_group_or_none() -> None:
    groups = (MAJORS, MEMES)
    assert group_of("ETHUSD", groups) == MAJORS
    assert group_of("SHIBUSD", groups) == MEMES
    assert group_of("SOLUSD", groups) is None
    assert group_of("XBTUSD", ()) is None


def test_group_value_sums_held_positions_at_their_marks() -> None:
    positions = {
        "XBTUSD": Decimal("0.5"),
        "ETHUSD": Decimal(10),
        "SOLUSD": Decimal(100),
        "DOGEUSD": Decimal(0),
    }
    marks = {"XBTUSD": Decimal(60_000), "ETHUSD": Decimal(3_000), "SOLUSD": Decimal(150)}
    assert group_value(MAJORS, positions, marks) == Decimal(60_000)  # 30,000 + 30,000
    assert group_value({"DOGEUSD", "SHIBUSD"}, positions, marks) == Decimal(
        0
    )  # not held: no mark needed
    with pytest.raises(KeyError, match="XBTUSD"):
        group_value(MAJORS, positions, {"ETHUSD": Decimal(3_000)})


def test_pearson_by_hand() -> None:
    assert pearson([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]) == pytest.approx(1.0)
    assert pearson([1.0, 2.0, 3.0], [6.0, 4.0, 2.0]) == pytest.approx(-1.0)
    # Centred: (-1.5, -.5, .5, 1.5) and (-1.5, .5, -.5, 1.5): sxy = 4, sxx = syy = 5.
    assert pearson([1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0]) == pytest.approx(0.8)
    assert pearson([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) is None  # never moves: undefined
    assert pearson([1.0], [2.0]) is None
    with pytest.raises(ValueError, match="length"):
        pearson([1.0, 2.0], [1.0])


A = [1.0, 2.0, 3.0, 4.0]
B = [2.0, 4.0, 6.0, 8.0]  # r(A, B) = 1
D = [1.0, 3.0, 2.0, 4.0]  # r(A, D) = r(B, D) = 0.8
E = [4.0, 3.0, 2.0, 1.0]  # r(A, E) = -1


def test_correlation_groups_follow_the_threshold() -> None:
    returns = {"A": A, "B": B, "D": D, "E": E}
    assert groups_from_correlation(returns, 0.9) == (frozenset("AB"),)
    assert groups_from_correlation(returns, 0.8) == (frozenset("ABD"),)  # >= includes 0.8
    assert groups_from_correlation(returns, 1.0) == (frozenset("AB"),)
    assert groups_from_correlation({"A": A, "E": E}, 0.5) == ()
    assert groups_from_correlation({"A": A}, 0.5) == ()  # a lone symbol is not a group


def test_groups_are_connected_components() -> None:
    # Y = X + Z with X and Z uncorrelated: r(X, Y) = r(Y, Z) = 1/sqrt(2), r(X, Z) = 0.
    x, z = [1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]
    y = [a + b for a, b in zip(x, z, strict=True)]
    assert pearson(x, z) == pytest.approx(0.0)
    assert pearson(x, y) == pytest.approx(1 / math.sqrt(2))
    assert groups_from_correlation({"X": x, "Y": y, "Z": z}, 0.7) == (frozenset("XYZ"),)
    assert groups_from_correlation({"X": x, "Y": y, "Z": z}, 0.71) == ()


def test_two_groups_come_sorted_and_disjoint() -> None:
    returns = {"Q": E, "P": [8.0, 6.0, 4.0, 2.0], "B": B, "A": A}
    assert groups_from_correlation(returns, 0.99) == (frozenset("AB"), frozenset("PQ"))


def test_series_are_aligned_on_their_latest_return() -> None:
    # Only the last four returns of the longer series are compared with B; aligned on the
    # start instead, (100, -50, 1, 2) against B would be negatively correlated.
    longer = [100.0, -50.0, *A]
    assert groups_from_correlation({"L": longer, "B": B}, 0.99) == (frozenset("LB"),)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="returns of B contain a non-finite value"):
        groups_from_correlation({"A": A, "B": [1.0, math.nan]}, 0.5)
    with pytest.raises(ValueError, match="threshold"):
        groups_from_correlation({"A": A}, 1.5)
    with pytest.raises(ValueError, match="threshold"):
        groups_from_correlation({"A": A}, math.nan)
