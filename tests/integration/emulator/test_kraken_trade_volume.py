"""Aether's Kraken REST client reads the account's fee tier from TradeVolume on the emulator:
exact maker and taker fractions per pair, moving to the next tier as the account trades."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from aether.venues.kraken.errors import UnknownAssetPairError
from aether.venues.kraken.nonce import NonceStore
from aether.venues.kraken.rest import Credentials, KrakenRest
from tests.integration.emulator.conftest import Emulator


@pytest.fixture(scope="module")
def emulator(five_pair_emulator: Emulator) -> Emulator:
    """The followers are what this module tests: the five-pair emulator replaces the two-pair."""
    return five_pair_emulator


async def client(emulator: Emulator, tmp_path: Path, volume: str, **balances: str) -> KrakenRest:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{emulator.url}/emulator/accounts",
            json={"balances": balances, "volume_30d_usd": volume},
        )
    creds = response.json()
    return KrakenRest(
        emulator.url,
        credentials=Credentials(creds["api_key"], creds["api_secret"]),
        nonces=NonceStore(tmp_path / f"nonce-{creds['api_key'][:8]}"),
    )


async def test_the_fee_tier_per_pair_comes_back_as_exact_fractions(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with await client(emulator, tmp_path, "120000") as rest:
        volume = await rest.trade_volume(["XBTUSD", "SOLUSD", "ADAUSD"])
    assert volume.currency == "ZUSD"
    assert volume.volume == Decimal("120000.0000")
    assert set(volume.fees) == {"XBTUSD", "SOLUSD", "ADAUSD"}
    for fees in volume.fees.values():
        # Kraken's 100,000 USD tier: 0.12 % maker, 0.22 % taker.
        assert (fees.maker, fees.taker) == (Decimal("0.0012"), Decimal("0.0022"))
        assert fees.taker_tier.next_fee == Decimal("0.0020")
        assert fees.taker_tier.next_volume_usd == Decimal(250000)


async def test_the_tier_follows_the_accounts_own_trades(emulator: Emulator, tmp_path: Path) -> None:
    async with await client(emulator, tmp_path, "9999", USD="100000") as rest:
        before = (await rest.trade_volume(["ETHUSD"])).fees["ETHUSD"]
        assert (before.maker, before.taker) == (Decimal("0.0025"), Decimal("0.0040"))
        await rest.add_order({"pair": "ETHUSD", "type": "buy", "ordertype": "market",
                              "volume": "0.5", "cl_ord_id": "tv-1"})  # fmt: skip
        after = await rest.trade_volume(["ETHUSD"])
    assert after.volume > Decimal(10000)
    assert (after.fees["ETHUSD"].maker, after.fees["ETHUSD"].taker) == (
        Decimal("0.0020"),
        Decimal("0.0035"),
    )


async def test_an_unknown_pair_is_the_venues_error(emulator: Emulator, tmp_path: Path) -> None:
    async with await client(emulator, tmp_path, "0") as rest:
        with pytest.raises(UnknownAssetPairError):
            await rest.trade_volume(["NOPEUSD"])
        assert (await rest.trade_volume([])).fees == {}
