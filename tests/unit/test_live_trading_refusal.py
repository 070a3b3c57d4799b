"""Settings.live_trading_refusal: the production profile trades live on Kraken's production
APIs only; every other profile leaves the venue to its own settings."""

from __future__ import annotations

from typing import Any

import pytest

from aether.settings import Settings


def _settings(**values: Any) -> Settings:
    return Settings(**values)


def test_production_on_krakens_own_apis_may_trade_live() -> None:
    assert _settings(profile="production", venue="kraken").live_trading_refusal() is None
    explicit = _settings(
        profile="production",
        venue="kraken",
        kraken_rest_url="https://api.kraken.com/",
        kraken_ws_url="wss://ws.kraken.com/v2",
    )
    assert explicit.live_trading_refusal() is None


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"venue": "emulator"}, ["http://127.0.0.1:8100", "ws://127.0.0.1:8100/v2"]),
        ({"venue": "kraken", "kraken_rest_url": "http://127.0.0.1:9"}, ["http://127.0.0.1:9"]),
        ({"venue": "kraken", "kraken_ws_url": "ws://127.0.0.1:9/v2"}, ["ws://127.0.0.1:9/v2"]),
    ],
)
def test_production_against_anything_else_is_refused_naming_the_urls(
    values: dict[str, Any], named: list[str]
) -> None:
    refusal = _settings(profile="production", **values).live_trading_refusal()
    assert refusal is not None
    assert "AETHER_KRAKEN_REST_URL" in refusal
    for url in named:
        assert url in refusal


@pytest.mark.parametrize("profile", ["local", "test"])
def test_other_profiles_may_trade_live_on_the_emulator(profile: str) -> None:
    assert _settings(profile=profile, venue="emulator").live_trading_refusal() is None
