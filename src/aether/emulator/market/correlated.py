"""A synthetic pair that follows a leader's market (XBTUSD) with a set correlation.

Step for step with the leader, the log price moves by ``rho * r + sqrt(1 - rho**2) * s * z``:
``r`` is the leader's log return over its step (last price to last price), ``z`` a standard
normal draw from the pair's own seeded generator, and ``s`` the leader's per-step volatility
as an exponentially weighted estimate of the returns seen so far (so the own noise is as large
as the leader's moves and the returns' correlation is ``rho``). Each step prints a few trades
inside the leader's step (until the leader's next step begins) on the pair's grid, sized
around ``mean_trade_usd`` of quote. The same leader, seed and config give the same stream;
the stream ends when the leader's does (a replay), and every ``steps`` call starts over.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from aether.domain.orders import Side
from aether.emulator.market.generator import (
    NS_PER_SECOND,
    MarketConfigError,
    MarketGenerator,
    MarketStep,
    PairGrid,
    SyntheticTrade,
)

__all__ = ["CorrelatedConfig", "CorrelatedMarket"]

_MAX_TICKS = 10**12
_QTY_SPREAD = 0.8  # lognormal sigma of trade sizes around their mean
_QTY_MU = -0.5 * _QTY_SPREAD**2  # makes the lognormal's mean exactly one
_LAST_STEP_NS = 60 * NS_PER_SECOND  # the span of a finite leader's last step, when alone
_BUY, _SELL = Side.BUY, Side.SELL


@dataclass(frozen=True, slots=True)
class CorrelatedConfig:
    """Settings of :class:`CorrelatedMarket`; invalid ones raise MarketConfigError naming them.

    ``vol_halflife_steps`` is the half-life of the leader volatility estimate; ``prior_vol``
    the per-step volatility assumed before the leader has moved.
    """

    start_price: Decimal
    rho: float = 0.7
    trades_per_step: int = 3
    mean_trade_usd: Decimal = Decimal(1500)
    vol_halflife_steps: int = 50
    prior_vol: float = 0.0005

    def __post_init__(self) -> None:
        if not (self.start_price.is_finite() and self.start_price > 0):
            raise MarketConfigError("start_price", f"must be positive, got {self.start_price}")
        if not (math.isfinite(self.rho) and -1.0 <= self.rho <= 1.0):
            raise MarketConfigError("rho", f"must be within [-1, 1], got {self.rho}")
        if not 1 <= self.trades_per_step <= 1000:
            raise MarketConfigError(
                "trades_per_step", f"must be within [1, 1000], got {self.trades_per_step}"
            )
        if not (self.mean_trade_usd.is_finite() and self.mean_trade_usd > 0):
            raise MarketConfigError(
                "mean_trade_usd", f"must be positive, got {self.mean_trade_usd}"
            )
        if self.vol_halflife_steps < 1:
            raise MarketConfigError(
                "vol_halflife_steps", f"must be >= 1, got {self.vol_halflife_steps}"
            )
        if not (math.isfinite(self.prior_vol) and self.prior_vol > 0):
            raise MarketConfigError("prior_vol", f"must be positive, got {self.prior_vol}")


class CorrelatedMarket:
    """A :class:`~.generator.MarketGenerator` whose returns follow ``leader``'s.

    ``leader`` must be a generator of its own (not the one a feed already drives): calling
    ``steps`` on a synthetic generator restarts its regime record.
    """

    def __init__(
        self, grid: PairGrid, leader: MarketGenerator, config: CorrelatedConfig, *, seed: int = 0
    ) -> None:
        self._grid = grid
        self._leader = leader
        self._config = config
        self._seed = seed

    @property
    def pair(self) -> str:
        return self._grid.pair

    @property
    def config(self) -> CorrelatedConfig:
        return self._config

    def steps(self, start_ns: int) -> Iterator[MarketStep]:
        """One step per leader step, from the leader's ``steps(start_ns)``."""
        cfg = self._config
        # A reproducible simulation, not a secret: a seeded Mersenne Twister is what is wanted.
        rng = random.Random(self._seed)  # noqa: S311
        own = math.sqrt(max(0.0, 1.0 - cfg.rho * cfg.rho))
        decay = 0.5 ** (1.0 / cfg.vol_halflife_steps)
        variance = cfg.prior_vol * cfg.prior_vol
        log_price = math.log(float(cfg.start_price))
        walk = _Walk(self._grid, rng, float(cfg.mean_trade_usd / cfg.start_price), cfg)
        leader = iter(self._leader.steps(start_ns))
        step = next(leader, None)
        previous: Decimal | None = None
        while step is not None:
            following = next(leader, None)
            end_ns = following.ts_ns if following is not None else step.ts_ns + _LAST_STEP_NS
            r = 0.0 if previous is None else math.log(float(step.last_price / previous))
            vol = math.sqrt(variance)
            before = log_price
            log_price = walk.clamp(before + cfg.rho * r + own * vol * rng.gauss(0.0, 1.0))
            trades = walk.trades(before, log_price, vol, step.ts_ns, end_ns)
            yield MarketStep(step.ts_ns, self._grid.pair, trades[-1].price, trades, None)
            if previous is not None:
                variance = decay * variance + (1.0 - decay) * r * r
            previous, step = step.last_price, following


class _Walk:
    """The prints of one step: a path between two log prices, sizes and the tick-rule side."""

    def __init__(
        self, grid: PairGrid, rng: random.Random, mean_qty: float, cfg: CorrelatedConfig
    ) -> None:
        self._grid = grid
        self._rng = rng
        self._mean_qty = mean_qty
        self._per_step = cfg.trades_per_step
        self._tick = float(grid.tick_size)
        self._floor = math.log(self._tick)
        self._cap = math.log(self._tick * _MAX_TICKS)
        self._last_ticks = max(1, round(float(cfg.start_price) / self._tick))
        self._side = _BUY if rng.random() < 0.5 else _SELL

    def clamp(self, log_price: float) -> float:
        """The log price kept between one tick and a trillion ticks."""
        return min(self._cap, max(self._floor, log_price))

    def trades(
        self, before: float, after: float, vol: float, start_ns: int, end_ns: int
    ) -> tuple[SyntheticTrade, ...]:
        """Between 1 and ``2 * trades_per_step - 1`` prints in ``[start_ns, end_ns)``, the last
        one at ``after`` exactly; a span too short for them gets as many as it has ns."""
        rng, grid = self._rng, self._grid
        span = max(1, end_ns - start_ns)
        count = min(rng.randint(1, 2 * self._per_step - 1), span)
        slot = span // count
        trades = []
        for i in range(1, count + 1):
            # In-between prints wander around the straight line with a quarter of the step's
            # noise; the last one is the step's price exactly.
            at = before + (after - before) * i / count
            if i < count:
                at += rng.gauss(0.0, 0.25 * vol)
            ticks = max(1, min(_MAX_TICKS, round(math.exp(self.clamp(at)) / self._tick)))
            # Tick rule: an uptick was a buyer lifting the ask, a downtick a seller hitting the
            # bid; an unchanged price keeps the last side.
            if ticks != self._last_ticks:
                self._side = _BUY if ticks > self._last_ticks else _SELL
            self._last_ticks = ticks
            lots = grid.float_lots(self._mean_qty * rng.lognormvariate(_QTY_MU, _QTY_SPREAD))
            when = start_ns + (i - 1) * slot + rng.randrange(slot)
            trades.append(SyntheticTrade(when, grid.price(ticks), grid.quantity(lots), self._side))
        return tuple(trades)
