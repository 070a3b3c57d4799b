"""A seeded regime-switching market: four regimes as a Markov chain, each with its own drift
and volatility, printing a few trades per step and recording the true regime.

The log price moves by ``drift * h + vol * sqrt(h) * z`` per step, where ``h`` is the step
length in hours and ``z`` a standard normal draw: regime parameters are per hour and scale to
the step. Transition probabilities are per step as given (they do not scale), and the regime
switches after each step, so a step's regime is the one that produced its move. The same seed
and config give the same stream; the price stays between one tick and a trillion ticks.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from aether.domain.orders import Side
from aether.emulator.market.generator import (
    NS_PER_SECOND,
    MarketConfigError,
    MarketStep,
    PairGrid,
    Regime,
    SyntheticTrade,
)

__all__ = [
    "DEFAULT_REGIMES",
    "RegimeParams",
    "SyntheticConfig",
    "SyntheticMarket",
    "default_transitions",
]

_REGIMES = tuple(Regime)
_SUM_TOLERANCE = 1e-9
_MAX_TICKS = 10**12
_QTY_SPREAD = 0.8  # lognormal sigma of trade sizes around their mean
_BUY, _SELL = Side.BUY, Side.SELL


@dataclass(frozen=True, slots=True)
class RegimeParams:
    """Drift and volatility of the log price per hour (0.004 is about 0.4 % an hour)."""

    drift_per_hour: float
    vol_per_hour: float


# Hourly figures in the range of a large crypto pair: trends of about 2 % a day against 0.4 %
# hourly noise, a quiet range at half that noise, and a stressed market at three times it.
DEFAULT_REGIMES: Mapping[Regime, RegimeParams] = MappingProxyType(
    {
        Regime.TRENDING_UP: RegimeParams(0.0008, 0.004),
        Regime.TRENDING_DOWN: RegimeParams(-0.0008, 0.004),
        Regime.SIDEWAYS: RegimeParams(0.0, 0.002),
        Regime.HIGH_VOLATILITY: RegimeParams(0.0, 0.012),
    }
)

_DEFAULT_STAY: Mapping[Regime, float] = MappingProxyType(
    {
        Regime.TRENDING_UP: 0.985,
        Regime.TRENDING_DOWN: 0.985,
        Regime.SIDEWAYS: 0.98,
        Regime.HIGH_VOLATILITY: 0.95,  # stress passes sooner than trends do
    }
)


def default_transitions(
    stay: Mapping[Regime, float] = _DEFAULT_STAY,
) -> dict[Regime, dict[Regime, float]]:
    """A transition matrix staying in each regime with ``stay[regime]`` per step and moving
    to each other regime with equal shares of the rest."""
    share = len(_REGIMES) - 1
    return {
        src: {dst: stay[src] if dst is src else (1.0 - stay[src]) / share for dst in _REGIMES}
        for src in _REGIMES
    }


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise MarketConfigError(name, f"must be a finite number, got {value}")


@dataclass(frozen=True, slots=True)
class SyntheticConfig:
    """Settings of :class:`SyntheticMarket`; invalid ones raise MarketConfigError naming them.

    ``transitions[a][b]`` is the per-step probability of moving from regime ``a`` to ``b``;
    every regime needs a row, a missing entry in a row is 0, and each row must sum to 1.
    A step prints between 1 and ``2 * trades_per_step - 1`` trades (``trades_per_step`` on
    average) of ``mean_trade_qty`` base units on average.
    """

    start_price: Decimal = Decimal(30000)
    step_seconds: int = 60
    regimes: Mapping[Regime, RegimeParams] = field(default_factory=lambda: dict(DEFAULT_REGIMES))
    transitions: Mapping[Regime, Mapping[Regime, float]] = field(
        default_factory=default_transitions
    )
    initial_regime: Regime = Regime.SIDEWAYS
    trades_per_step: int = 3
    mean_trade_qty: Decimal = Decimal("0.05")

    def __post_init__(self) -> None:
        if not (self.start_price.is_finite() and self.start_price > 0):
            raise MarketConfigError("start_price", f"must be positive, got {self.start_price}")
        if self.step_seconds < 1:
            raise MarketConfigError("step_seconds", f"must be >= 1, got {self.step_seconds}")
        if not 1 <= self.trades_per_step <= 1000:
            raise MarketConfigError(
                "trades_per_step", f"must be within [1, 1000], got {self.trades_per_step}"
            )
        if not (self.mean_trade_qty.is_finite() and self.mean_trade_qty > 0):
            raise MarketConfigError(
                "mean_trade_qty", f"must be positive, got {self.mean_trade_qty}"
            )
        for regime in _REGIMES:
            params = self.regimes.get(regime)
            if params is None:
                raise MarketConfigError(f"regimes[{regime}]", "missing")
            _finite(f"regimes[{regime}].drift_per_hour", params.drift_per_hour)
            _finite(f"regimes[{regime}].vol_per_hour", params.vol_per_hour)
            if params.vol_per_hour < 0:
                raise MarketConfigError(f"regimes[{regime}].vol_per_hour", "must not be negative")
        rows = _checked_transitions(self.transitions)
        # Frozen means frozen: keep read-only copies, so a caller's dict changing later
        # cannot change a running market.
        object.__setattr__(self, "regimes", MappingProxyType(dict(self.regimes)))
        object.__setattr__(self, "transitions", MappingProxyType(rows))


def _checked_transitions(
    transitions: Mapping[Regime, Mapping[Regime, float]],
) -> dict[Regime, Mapping[Regime, float]]:
    """Read-only copies of the rows, after checking every probability and every row sum."""
    rows: dict[Regime, Mapping[Regime, float]] = {}
    for src in _REGIMES:
        row = transitions.get(src)
        if row is None:
            raise MarketConfigError(f"transitions[{src}]", "missing row")
        for dst, p in row.items():
            name = f"transitions[{src}][{dst}]"
            if dst not in _REGIMES:
                raise MarketConfigError(name, "not a regime")
            if not (math.isfinite(p) and 0.0 <= p <= 1.0):
                raise MarketConfigError(name, f"probability {p} is outside [0, 1]")
        total = sum(row.values())
        if abs(total - 1.0) > _SUM_TOLERANCE:
            raise MarketConfigError(f"transitions[{src}]", f"row sums to {total}, must sum to 1")
        rows[src] = MappingProxyType({dst: float(row.get(dst, 0.0)) for dst in _REGIMES})
    return rows


class SyntheticMarket:
    """The regime-switching market as a :class:`~aether.emulator.market.generator.MarketGenerator`.

    ``steps`` never ends (take what you need); step ``i`` starts at
    ``start_ns + i * step_seconds`` seconds. ``regimes()`` is the true regime of every step
    yielded so far by the latest ``steps`` call, which starts the record afresh (kept only
    with ``record_regimes``: a copy that only leads a follower keeps none).
    """

    def __init__(
        self,
        grid: PairGrid,
        config: SyntheticConfig | None = None,
        *,
        seed: int = 0,
        record_regimes: bool = True,
    ) -> None:
        self._grid = grid
        self._config = config if config is not None else SyntheticConfig()
        self._seed = seed
        self._record = record_regimes
        self._history: list[tuple[int, Regime]] = []

    @property
    def pair(self) -> str:
        return self._grid.pair

    @property
    def config(self) -> SyntheticConfig:
        return self._config

    def regimes(self) -> tuple[tuple[int, Regime], ...]:
        """``(step ts_ns, true regime)`` for each step yielded so far, in order."""
        return tuple(self._history)

    def steps(self, start_ns: int) -> Iterator[MarketStep]:
        """The endless stream of steps from ``start_ns``; each call starts over from the seed."""
        history: list[tuple[int, Regime]] = []
        self._history = history
        cfg, grid = self._config, self._grid
        # A reproducible simulation, not a secret: a seeded Mersenne Twister is what is wanted.
        rng = random.Random(self._seed)  # noqa: S311
        hours = cfg.step_seconds / 3600
        moves = {
            r: (p.drift_per_hour * hours, p.vol_per_hour * math.sqrt(hours))
            for r, p in cfg.regimes.items()
        }
        cumulative = {src: _cumulative(cfg.transitions[src]) for src in _REGIMES}
        tick = float(grid.tick_size)
        floor, cap = math.log(tick), math.log(tick * _MAX_TICKS)
        step_ns = cfg.step_seconds * NS_PER_SECOND
        mean_qty = float(cfg.mean_trade_qty)
        qty_mu = -0.5 * _QTY_SPREAD**2  # makes the lognormal's mean exactly one
        log_price = math.log(float(cfg.start_price))
        last_ticks = max(1, round(float(cfg.start_price) / tick))
        side = _BUY if rng.random() < 0.5 else _SELL
        regime = cfg.initial_regime
        ts = start_ns
        while True:
            drift, vol = moves[regime]
            before = log_price
            log_price = min(cap, max(floor, log_price + drift + vol * rng.gauss(0.0, 1.0)))
            count = rng.randint(1, 2 * cfg.trades_per_step - 1)
            slot = step_ns // count
            trades = []
            for i in range(1, count + 1):
                # In-between prints wander around the straight line with a quarter of the
                # step's noise; the last one is the step's price exactly.
                at = before + (log_price - before) * i / count
                if i < count:
                    at += rng.gauss(0.0, 0.25 * vol)
                ticks = max(1, min(_MAX_TICKS, round(math.exp(min(cap, at)) / tick)))
                # Tick rule: an uptick was a buyer lifting the ask, a downtick a seller hitting
                # the bid; an unchanged price keeps the last side.
                if ticks != last_ticks:
                    side = _BUY if ticks > last_ticks else _SELL
                last_ticks = ticks
                lots = grid.float_lots(mean_qty * rng.lognormvariate(qty_mu, _QTY_SPREAD))
                when = ts + (i - 1) * slot + rng.randrange(slot)
                trades.append(SyntheticTrade(when, grid.price(ticks), grid.quantity(lots), side))
            if self._record:
                history.append((ts, regime))
            yield MarketStep(ts, grid.pair, trades[-1].price, tuple(trades), regime)
            regime = _next_regime(rng, cumulative[regime])
            ts += step_ns


def _cumulative(row: Mapping[Regime, float]) -> list[tuple[float, Regime]]:
    """Running totals of a row, skipping impossible moves, for one-draw sampling."""
    running = 0.0
    table = []
    for dst in _REGIMES:
        if row[dst] > 0:
            running += row[dst]
            table.append((running, dst))
    return table


def _next_regime(rng: random.Random, table: list[tuple[float, Regime]]) -> Regime:
    u = rng.random()
    for bound, regime in table:
        if u < bound:
            return regime
    return table[-1][1]  # a row summing to a hair under 1 leaves the top of [0, 1) here
