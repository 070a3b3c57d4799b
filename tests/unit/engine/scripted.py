"""A strategy that does what a test tells it to, bar by bar, and records what it was told."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from aether.domain.bars import Bar
from aether.domain.events import Tick
from aether.domain.executions import Fill
from aether.domain.instruments import Instrument
from aether.domain.orders import Order
from aether.engine.config import SizingConfig, SizingMethod, TradingConfig
from aether.engine.loop import Engine
from aether.engine.portfolio import Portfolio
from aether.engine.strategy import Strategy, StrategyContext
from aether.risk.limits import RiskLimits
from aether.risk.sizing import Costs
from aether.venues.sim.broker import SimBroker

HOUR = 3600
Action = Callable[[StrategyContext, Bar], object]


class Scripted(Strategy):
    name = "scripted"

    def __init__(self, actions: dict[int, Action] | None = None) -> None:
        self.actions = actions or {}
        self.started = False
        self.bars: list[int] = []
        self.ticks: list[Decimal] = []
        self.fills: list[Fill] = []
        self.updates: list[tuple[str, str]] = []
        self.results: dict[int, object] = {}

    def on_start(self, ctx: StrategyContext) -> None:
        self.started = True

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        index = bar.start // HOUR
        self.bars.append(index)
        action = self.actions.get(index)
        if action is not None:
            self.results[index] = action(ctx, bar)

    def on_tick(self, ctx: StrategyContext, tick: Tick) -> None:
        self.ticks.append(tick.price)

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        self.fills.append(fill)

    def on_order_update(self, ctx: StrategyContext, order: Order) -> None:
        self.updates.append((order.cl_ord_id, order.status.value))


def bar(hour: int, o: str, h: str, low: str, c: str, volume: str = "1000") -> Bar:
    d = Decimal
    return Bar("XBTUSD", hour * HOUR, HOUR, d(o), d(h), d(low), d(c), d(volume), 10)


def fixed(fraction: str = "1", fee: str = "0.004", **limits: object) -> TradingConfig:
    return TradingConfig(
        sizing=SizingConfig(SizingMethod.FIXED, Decimal(fraction)),
        exits=None,
        costs=Costs(Decimal(fee)),
        limits=RiskLimits(**limits),  # type: ignore[arg-type]
    )


def engine_for(
    instrument: Instrument, strategy: Strategy, config: TradingConfig, cash: str = "1000"
) -> tuple[Engine, SimBroker]:
    instruments = {instrument.symbol: instrument}
    venue = SimBroker(instruments, {"USD": Decimal(cash)})
    engine = Engine(
        instruments=instruments,
        portfolio=Portfolio(instruments, Decimal(cash)),
        venue=venue,
        strategy=strategy,
        config=config,
    )
    return engine, venue
