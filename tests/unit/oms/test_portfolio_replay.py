"""Fills replayed through the engine's Portfolio for the read model: a live account's replay
books what it bought and lists (never guesses) a sell of holdings bought elsewhere; a paper
replay spends only its starting cash."""

from __future__ import annotations

from decimal import Decimal

from aether.domain.executions import Fill, Liquidity
from aether.domain.orders import Side
from aether.oms.portfolio_replay import replay_fills
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot

XBT = load_instrument_snapshot()["XBTUSD"]


def _fill(trade_id: str, side: Side, quantity: str, price: str, fee: str = "0") -> Fill:
    return Fill(
        trade_id=trade_id,
        cl_ord_id="c1",
        symbol="XBTUSD",
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        fee=Decimal(fee),
        fee_currency="USD",
        liquidity=Liquidity.TAKER,
        ts_ns=1,
    )


def test_a_live_replay_lists_a_sell_of_holdings_it_never_bought_and_books_the_rest() -> None:
    fills = [
        _fill("kraken:1", Side.SELL, "0.5", "30000"),  # the account held XBT before Aether
        _fill("kraken:2", Side.BUY, "0.2", "20000", "16"),
        _fill("kraken:3", Side.SELL, "0.1", "25000", "10"),
    ]
    replay = replay_fills({"XBTUSD": XBT}, fills, starting_cash=None)
    assert replay.unmatched == ["kraken:1"]
    assert replay.starting_cash is None
    position = replay.portfolio.position("XBTUSD")
    assert (position.quantity, position.cost) == (Decimal("0.1"), Decimal("2000"))
    assert replay.portfolio.realized_pnl == Decimal("500")  # 0.1 * (25000 - 20000)
    assert replay.portfolio.fees_paid_usd == Decimal("26")


def test_a_paper_replay_spends_only_its_starting_cash() -> None:
    fills = [
        _fill("paper:1", Side.BUY, "0.1", "20000"),
        _fill("paper:2", Side.BUY, "0.1", "20000"),  # 4000 USD of 3000
    ]
    replay = replay_fills({"XBTUSD": XBT}, fills, starting_cash=Decimal("3000"))
    assert replay.unmatched == ["paper:2"]
    assert replay.portfolio.cash == Decimal("1000")
    assert replay.portfolio.position("XBTUSD").quantity == Decimal("0.1")
