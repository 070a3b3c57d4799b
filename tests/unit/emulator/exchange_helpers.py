"""Shared set-up for the exchange-core tests: a two-tier XBTUSD and an ETHUSD, accounts and
short-hand order placement. Fees: 0.25 % maker / 0.40 % taker below 10 000 USD of 30-day
volume, 0.20 % / 0.35 % from there (Kraken's first two spot tiers)."""

from __future__ import annotations

from decimal import Decimal

from aether.domain.instruments import FeeSchedule, FeeTier, Instrument
from aether.emulator.exchange.matching import Exchange, PlaceResult
from aether.emulator.exchange.orders import OrderRequest

D = Decimal
SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND

FEES = FeeSchedule(
    (
        FeeTier(D(0), D("0.0025"), D("0.0040")),
        FeeTier(D(10_000), D("0.0020"), D("0.0035")),
    )
)
#: A buy holds quote for its price plus the schedule's highest rate.
HOLD_FACTOR = D("1.004")


def xbtusd() -> Instrument:
    return Instrument(
        symbol="XBTUSD",
        base="XBT",
        quote="USD",
        tick_size=D("0.1"),
        lot_size=D("0.00000001"),
        min_quantity=D("0.0001"),
        min_cost=D("0.5"),
        fees=FEES,
    )


def ethusd() -> Instrument:
    return Instrument(
        symbol="ETHUSD",
        base="ETH",
        quote="USD",
        tick_size=D("0.01"),
        lot_size=D("0.00000001"),
        min_quantity=D("0.001"),
        min_cost=D("0.5"),
        fees=FEES,
    )


def new_exchange(**kwargs: int) -> Exchange:
    return Exchange({"XBTUSD": xbtusd(), "ETHUSD": ethusd()}, **kwargs)


def funded(ex: Exchange, usd: str = "1000000", xbt: str = "100", volume: str = "0") -> str:
    """A new account's API key, holding ``usd`` USD and ``xbt`` XBT."""
    key, _ = ex.create_account({"USD": D(usd), "XBT": D(xbt)}, volume_30d_usd=D(volume))
    return key


def order(
    ex: Exchange,
    account: str,
    side: str,
    volume: str | Decimal,
    price: str | None = None,
    ordertype: str | None = None,
    now: int = T0,
    pair: str = "XBTUSD",
    **fields: object,
) -> PlaceResult:
    """Place an order; a price without an order type means a limit order."""
    kind = ordertype or ("limit" if price is not None else "market")
    request = OrderRequest(pair, side, kind, volume, price, **fields)  # type: ignore[arg-type]
    return ex.place(account, request, now)


def txid_of(result: PlaceResult) -> str:
    assert result.txid is not None
    return result.txid
