"""Whatever a strategy asks, the engine sends nothing that breaks a configured limit, and the
books stay consistent (the venue's balances agree with the portfolio's)."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aether.domain.bars import Bar
from aether.domain.events import VenueEvent
from aether.domain.orders import OrderRequest, OrderType, Side
from aether.engine.config import SizingConfig, SizingMethod, TradingConfig
from aether.engine.loop import Engine
from aether.engine.portfolio import Portfolio
from aether.engine.strategy import Strategy, StrategyContext
from aether.risk.limits import RiskLimits
from aether.risk.sizing import Costs
from aether.venues.sim.broker import SimBroker
from tests.unit.domain.conftest import make_instrument

XBT = make_instrument()
NS = 1_000_000_000


class Recording:
    """The SimBroker, plus a record of what was sent with the engine's view at that moment."""

    name = "recording"

    def __init__(self, inner: SimBroker) -> None:
        self.inner = inner
        self.engine: Engine | None = None
        self.sent: list[tuple[OrderRequest, D, D, int, int]] = []

    def submit(self, request: OrderRequest, now_ns: int) -> None:
        assert self.engine is not None
        mark = self.engine.last_price(request.symbol)
        assert mark is not None
        held = self.engine.position(request.symbol)
        # The engine counts the order as open before it sends it.
        self.sent.append((request, mark, held, len(self.engine.ledger.open_orders), now_ns))
        self.inner.submit(request, now_ns)

    def cancel(self, cl_ord_id: str, now_ns: int) -> None:
        self.inner.cancel(cl_ord_id, now_ns)

    def poll(self) -> list[VenueEvent]:
        return self.inner.poll()


actions = st.sampled_from(["long", "flat", "limit", "big", "sell", "nothing"])


class Random(Strategy):
    def __init__(self, plan: list[str]) -> None:
        self.plan = plan
        self.i = 0

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        action = self.plan[self.i % len(self.plan)]
        self.i += 1
        price = bar.close
        if action == "long":
            ctx.target_long(bar.symbol)
        elif action == "flat":
            ctx.target_flat(bar.symbol)
        elif action == "limit":
            limit = (price * D("0.99")).quantize(D("0.1"))
            ctx.place(bar.symbol, Side.BUY, D("0.5"), type=OrderType.LIMIT, price=limit)
        elif action == "big":
            ctx.place(bar.symbol, Side.BUY, D("50"))
        elif action == "sell":
            ctx.place(bar.symbol, Side.SELL, D("1"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plan=st.lists(actions, min_size=1, max_size=12),
    moves=st.lists(st.integers(-30, 30), min_size=5, max_size=60),
    max_order=st.integers(50, 3000),
    max_position=st.integers(100, 5000),
    max_open=st.integers(1, 4),
    rate=st.integers(1, 5),
)
def test_no_order_sent_breaks_a_limit(
    plan: list[str], moves: list[int], max_order: int, max_position: int, max_open: int, rate: int
) -> None:
    limits = RiskLimits(
        max_order_notional=D(max_order),
        max_position_notional=D(max_position),
        max_open_orders=max_open,
        max_orders_per_minute=rate,
    )
    config = TradingConfig(
        SizingConfig(SizingMethod.FIXED, D("0.5")), None, Costs(D("0.004")), limits
    )
    instruments = {"XBTUSD": XBT}
    sim = SimBroker(instruments, {"USD": D(5000)})
    venue = Recording(sim)
    engine = Engine(
        instruments=instruments,
        portfolio=Portfolio(instruments, D(5000)),
        venue=venue,
        strategy=Random(plan),
        config=config,
    )
    venue.engine = engine
    price = D(1000)
    bars = []
    for i, move in enumerate(moves):
        open_ = price
        price = max(D(100), price + D(move))
        high, low = max(open_, price) + 2, min(open_, price) - 2
        bars.append(Bar("XBTUSD", i * 60, 60, open_, high, low, price, D(100), 5))
    engine.run(bars, market=sim)
    for request, mark, held, open_orders, now in venue.sent:
        value_price = request.price or mark
        notional = request.quantity * value_price
        assert open_orders <= max_open
        in_window = [s for s in venue.sent if now - 60 * NS < s[4] <= now]
        assert len(in_window) <= rate
        if request.side is Side.BUY:
            assert notional <= max_order
            assert (held + request.quantity) * value_price <= max_position
        else:
            assert request.quantity <= held
    portfolio = engine.portfolio
    assert sim.balances["USD"] == portfolio.cash
    assert sim.balances.get("XBT", D(0)) == portfolio.total("XBT")
    for asset in ("USD", "XBT"):
        assert portfolio.total(asset) >= 0
        assert 0 <= portfolio.reserved(asset) <= portfolio.total(asset)
