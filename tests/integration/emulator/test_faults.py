"""Faults injected through ``/emulator/faults`` on a running emulator, over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.integration.emulator.conftest import Emulator


@pytest.fixture
def healthy(emulator: Emulator) -> Iterator[Emulator]:
    """The module's emulator, with every fault cleared after the test."""
    yield emulator
    assert emulator.http.post("/emulator/faults", json={"clear": True}).status_code == 200


def set_faults(emulator: Emulator, **body: object) -> dict[str, object]:
    response = emulator.http.post("/emulator/faults", json=body)
    assert response.status_code == 200, response.text
    state: dict[str, object] = response.json()
    return state


def test_an_injected_error_answers_exactly_n_calls_then_clears(healthy: Emulator) -> None:
    client = healthy.account(USD="100")
    state = set_faults(healthy, rest_error="EService:Unavailable", count=3)
    assert state["rest_error"] == "EService:Unavailable"
    assert state["rest_error_left"] == 3
    answers = [
        healthy.public("Time")["error"],
        client.call("Balance")["error"],
        healthy.public("SystemStatus")["error"],
        healthy.public("Time")["error"],
        client.call("Balance")["error"],
    ]
    assert answers == [["EService:Unavailable"]] * 3 + [[], []]
    assert healthy.http.get("/emulator/faults").json()["rest_error"] is None


def test_an_injected_error_can_target_private_calls_only(healthy: Emulator) -> None:
    client = healthy.account(USD="100")
    set_faults(healthy, rest_error="EAPI:Rate limit exceeded", count=2, scope="private")
    assert healthy.public("Time")["error"] == []
    assert client.call("Balance")["error"] == ["EAPI:Rate limit exceeded"]
    assert client.call("BalanceEx")["error"] == ["EAPI:Rate limit exceeded"]
    assert client.call("Balance")["error"] == []


def _timed(call: Callable[[], object]) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def test_latency_is_added_to_every_answer(healthy: Emulator) -> None:
    set_faults(healthy, latency_ms=300)
    started = time.monotonic()
    assert healthy.public("Time")["error"] == []
    assert time.monotonic() - started >= 0.3
    client = healthy.account(USD="1")
    started = time.monotonic()
    assert client.call("Balance")["error"] == []
    assert time.monotonic() - started >= 0.3
    set_faults(healthy, clear=True)
    # One answer in under 0.3 s proves the latency is gone (a loaded machine may slow some).
    assert min(_timed(lambda: healthy.public("Time")) for _ in range(5)) < 0.3


def test_websocket_faults_show_in_the_state(healthy: Emulator) -> None:
    state = set_faults(healthy, ws_drop=True, book_checksum_corrupt=2, stall_s=5)
    assert state["ws_drop_pending"] == 1
    assert state["book_checksum_corrupt"] == 2
    assert 4 < float(str(state["stall_remaining_s"])) <= 5
    cleared = set_faults(healthy, clear=True)
    assert cleared["ws_drop_pending"] == 0
    assert cleared["book_checksum_corrupt"] == 0
    assert cleared["stall_remaining_s"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latency_ms": "slow"}, "latency_ms"),
        ({"rest_error": "Unavailable"}, "rest_error"),
        ({"rest_error": "EService:Unavailable", "count": -2}, "count"),
        ({"count": 2}, "count"),
        ({"ws_drop": "yes"}, "ws_drop"),
        ({"stall_s": -1}, "stall_s"),
        ({"nonsense": 1}, "nonsense"),
        (["latency_ms"], "JSON object"),
    ],
)
def test_bad_fault_json_is_a_400_naming_the_field(
    healthy: Emulator, body: object, field: str
) -> None:
    response = healthy.http.post("/emulator/faults", json=body)
    assert response.status_code == 400
    assert field in response.json()["error"]
    assert healthy.http.get("/emulator/faults").json()["latency_ms"] == 0


def test_a_body_that_is_not_json_is_a_400(healthy: Emulator) -> None:
    response = healthy.http.post("/emulator/faults", content=b"{latency")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]
