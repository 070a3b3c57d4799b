"""Injected faults: the admin JSON is checked field by field, and the state the REST and
WebSocket layers consume counts down as it is taken."""

from __future__ import annotations

from typing import Any

import pytest

from aether.emulator.faults import FaultError, FaultRequest, Faults, parse_faults


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_parse_accepts_each_fault() -> None:
    assert parse_faults({"latency_ms": 200}) == FaultRequest(latency_ms=200.0)
    assert parse_faults({"rest_error": "EService:Unavailable", "count": 3}) == FaultRequest(
        rest_error="EService:Unavailable", count=3
    )
    assert parse_faults({"rest_error": "EAPI:Rate limit exceeded", "scope": "private"}).scope == (
        "private"
    )
    assert parse_faults({"ws_drop": True}).ws_drop
    assert parse_faults({"book_checksum_corrupt": 1}).book_checksum_corrupt == 1
    assert parse_faults({"stall_s": 5}).stall_s == 5.0
    assert parse_faults({"clear": True}).clear


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latency_ms": "fast"}, "latency_ms"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": True}, "latency_ms"),
        ({"latency_ms": 10**9}, "latency_ms"),
        ({"rest_error": "Unavailable"}, "rest_error"),
        ({"rest_error": 3}, "rest_error"),
        ({"rest_error": "EService:Unavailable", "count": 0}, "count"),
        ({"rest_error": "EService:Unavailable", "count": 1.5}, "count"),
        ({"rest_error": "EService:Unavailable", "scope": "ws"}, "scope"),
        ({"count": 2}, "count"),
        ({"ws_drop": "yes"}, "ws_drop"),
        ({"book_checksum_corrupt": -1}, "book_checksum_corrupt"),
        ({"book_checksum_corrupt": "2"}, "book_checksum_corrupt"),
        ({"stall_s": float("nan")}, "stall_s"),
        ({"clear": 1}, "clear"),
        ({"latency": 5}, "latency"),
        ({}, "at least one"),
        ([], "JSON object"),
    ],
)
def test_parse_refuses_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(FaultError, match=field):
        parse_faults(body)


def test_rest_errors_count_down_within_their_scope() -> None:
    faults = Faults()
    faults.apply(
        parse_faults({"rest_error": "EService:Unavailable", "count": 2, "scope": "private"})
    )
    assert faults.take_rest_error("public") is None
    assert faults.take_rest_error("private") == "EService:Unavailable"
    assert faults.state()["rest_error_left"] == 1
    assert faults.take_rest_error("private") == "EService:Unavailable"
    assert faults.take_rest_error("private") is None
    assert faults.state()["rest_error"] is None


def test_websocket_faults_are_taken_once_each() -> None:
    clock = Clock()
    faults = Faults(clock)
    faults.apply(parse_faults({"ws_drop": True, "book_checksum_corrupt": 2, "stall_s": 5}))
    assert faults.ws_drop_epoch == 1
    assert faults.take_ws_drop()
    assert not faults.take_ws_drop()
    assert [faults.take_checksum_corruption() for _ in range(3)] == [True, True, False]
    assert faults.stalled()
    assert faults.stalled_until == 1005.0
    assert faults.state()["stall_remaining_s"] == 5.0
    clock.now = 1005.0
    assert not faults.stalled()


def test_clear_restores_a_healthy_exchange_and_applies_after_it() -> None:
    faults = Faults()
    faults.apply(parse_faults({"latency_ms": 300, "rest_error": "EService:Busy", "ws_drop": True}))
    assert faults.latency_s == 0.3
    faults.apply(parse_faults({"clear": True, "latency_ms": 50}))
    assert faults.latency_ms == 50
    assert faults.take_rest_error("public") is None
    assert not faults.take_ws_drop()
    assert faults.ws_drop_epoch == 1  # the epoch never goes back
