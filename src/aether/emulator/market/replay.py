"""Replay OHLCV bars as trades: each bar becomes a seeded, deterministic run of prints.

Rules a bar's trades keep (prices in whole ticks of the pair's grid; a bar's prices off the
grid are first rounded to the nearest tick):

* the first trade is at the open and the last at the close; the high and the low are both
  touched, and no trade is outside [low, high];
* the path visits the extreme nearer the open first (open -> high -> low -> close when the
  high is at least as near); on a tie it goes against the close, so a bar that closes
  below its open visits the high first;
* the trade count is the bar's count capped at ``max_trades_per_bar``, but never fewer than
  the distinct points of the path (a four-point path needs four trades);
* sizes are whole lots, each at least one lot, summing exactly to the bar's volume rounded
  down to the lot (the remainder goes to the last trade); a volume with fewer lots than the
  path has points shortens the path to open and close (one lot: a single trade at the close);
* timestamps are strictly increasing inside the bar's (speed-mapped) interval.

Bars with no volume give no step at all, and missing intervals stay gaps. Each bar draws from
its own generator seeded by ``(seed, bar.start)``, so a bar replays the same wherever the
replay starts.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from itertools import pairwise

from aether.domain.bars import Bar
from aether.domain.orders import Side
from aether.emulator.market.generator import (
    NS_PER_SECOND,
    MarketConfigError,
    MarketStep,
    PairGrid,
    SyntheticTrade,
)

__all__ = ["BarReplay", "parse_ohlcvt", "replay_bar", "shipped_bars"]

_MIN_TRADES = 4  # open, both extremes and close
_SEED_MIX = 0x9E3779B97F4A7C15  # spreads consecutive seeds far apart before the bar time
_BUY, _SELL = Side.BUY, Side.SELL


def parse_ohlcvt(lines: Iterable[str], symbol: str, interval: int) -> list[Bar]:
    """Bars from Kraken's headerless OHLCVT CSV lines (time, open, high, low, close, volume,
    trades); blank lines are skipped, anything else malformed raises ValueError."""
    bars = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        cells = text.split(",")
        if len(cells) != 7:
            raise ValueError(f"line {number}: expected 7 columns, got {len(cells)}")
        try:
            start, trades = int(cells[0]), int(cells[6])
            o, h, lo, c, v = (Decimal(cell) for cell in cells[1:6])
        except (ArithmeticError, ValueError):
            raise ValueError(f"line {number}: not an OHLCVT row: {text!r}") from None
        bars.append(Bar(symbol, start, interval, o, h, lo, c, v, trades))
    return bars


def shipped_bars(
    name: str = "kraken_XBTUSD_60.csv", symbol: str = "XBTUSD", interval: int = 3600
) -> list[Bar]:
    """Bars of a history slice shipped in ``aether/marketdata/data`` (read as a package
    resource: the emulator does not import the marketdata package)."""
    resource = resources.files("aether").joinpath("marketdata", "data", name)
    return parse_ohlcvt(resource.read_text(encoding="ascii").splitlines(), symbol, interval)


def _path(o: int, h: int, lo: int, c: int) -> list[int]:
    """The bar's key prices in visiting order, with repeated neighbours merged."""
    low_first = o - lo < h - o or (o - lo == h - o and c > o)
    points = [o, lo, h, c] if low_first else [o, h, lo, c]
    path = [points[0]]
    for point in points[1:]:
        if point != path[-1]:
            path.append(point)
    return path


def _check_bar(bar: Bar) -> None:
    if bar.low > min(bar.open, bar.close) or bar.high < max(bar.open, bar.close):
        raise ValueError(f"bar at {bar.start}: open and close must lie within [low, high]")
    if bar.volume < 0 or bar.trades < 0:
        raise ValueError(f"bar at {bar.start}: volume and trades must not be negative")


def replay_bar(
    bar: Bar,
    grid: PairGrid,
    start_ns: int,
    end_ns: int,
    *,
    seed: int = 0,
    max_trades: int = 20,
    noise: float = 0.1,
) -> tuple[SyntheticTrade, ...]:
    """The trades of one bar, timed inside [start_ns, end_ns) (see the module rules).

    ``noise`` is the spread of the in-between prices around the straight path, as a fraction
    of the bar's range. Raises ValueError for a bar whose open or close lies outside
    [low, high], and when the window has fewer nanoseconds than trades.
    """
    _check_bar(bar)
    total_lots = grid.lots(bar.volume)
    if total_lots <= 0:
        return ()
    # A reproducible simulation, not a secret: a seeded Mersenne Twister is what is wanted.
    rng = random.Random(seed * _SEED_MIX + bar.start)  # noqa: S311
    o, h, lo, c = (grid.ticks(p) for p in (bar.open, bar.high, bar.low, bar.close))
    path = _path(o, h, lo, c)
    if total_lots < len(path):
        path = [c] if total_lots == 1 else [o, c]
    count = min(max(min(bar.trades, max_trades), len(path)), total_lots)
    span = end_ns - start_ns
    if span < count:
        raise ValueError(f"bar at {bar.start}: {span} ns cannot hold {count} trades")
    prices = _prices(rng, path, count, lo, h, noise)
    sizes = _sizes(rng, count, total_lots)
    slot = span // count
    trades = []
    previous, side = prices[0], _BUY if rng.random() < 0.5 else _SELL
    for i in range(count):
        price = prices[i]
        # Tick rule: an uptick was a buyer lifting the ask, a downtick a seller hitting the bid.
        if price > previous:
            side = _BUY
        elif price < previous:
            side = _SELL
        previous = price
        ts = start_ns + i * slot + rng.randrange(slot)
        trades.append(SyntheticTrade(ts, grid.price(price), grid.quantity(sizes[i]), side))
    return tuple(trades)


def _prices(
    rng: random.Random, path: list[int], count: int, lo: int, hi: int, noise: float
) -> list[int]:
    """``count`` prices in ticks through every point of ``path``, first and last exact."""
    if len(path) == 1:
        return path * count
    # Give each leg of the path trades in proportion to its length; every point gets its own.
    legs = [abs(b - a) for a, b in pairwise(path)]
    length = sum(legs) or 1
    at = [0]
    walked = 0
    for k, leg in enumerate(legs[:-1], start=1):
        walked += leg
        room_after = len(path) - 1 - k
        at.append(
            min(max(round((count - 1) * walked / length), at[-1] + 1), count - 1 - room_after)
        )
    at.append(count - 1)
    sigma = noise * (hi - lo)
    prices = []
    for k in range(len(path) - 1):
        first, last, a, b = at[k], at[k + 1], path[k], path[k + 1]
        prices.append(a)
        for i in range(first + 1, last):
            straight = a + (b - a) * (i - first) / (last - first)
            prices.append(min(hi, max(lo, round(straight + rng.gauss(0.0, sigma)))))
    prices.append(path[-1])
    return prices


def _sizes(rng: random.Random, count: int, total_lots: int) -> list[int]:
    """``count`` sizes in lots, each at least one, summing to ``total_lots``."""
    # Integer weights (sizes vary up to five-fold): exact shares, so no float rounding can
    # overdraw a large volume.
    weights = [256 + rng.getrandbits(10) for _ in range(count)]
    spare, whole = total_lots - count, sum(weights)
    sizes = [1 + spare * w // whole for w in weights]
    sizes[-1] += total_lots - sum(sizes)
    return sizes


class BarReplay:
    """Bars replayed as a :class:`~.generator.MarketGenerator`, one step per bar.

    Bar time maps to emulator time as ``start_ns + (bar.start - first bar.start) / speed``
    seconds (``speed=3600`` plays an hour a second); a step's ``ts_ns`` is its bar's mapped
    start and its ``last_price`` the bar's close. Bars must ascend by start without overlap.
    """

    def __init__(
        self,
        bars: Sequence[Bar],
        grid: PairGrid,
        *,
        seed: int = 0,
        speed: float | Decimal | Fraction = 1,
        max_trades_per_bar: int = 20,
        noise: float = 0.1,
    ) -> None:
        if max_trades_per_bar < _MIN_TRADES:
            raise MarketConfigError(
                "max_trades_per_bar",
                f"must be >= {_MIN_TRADES} (open, both extremes, close), got {max_trades_per_bar}",
            )
        if not speed > 0:
            raise MarketConfigError("speed", f"must be positive, got {speed}")
        if not 0 <= noise <= 1:
            raise MarketConfigError("noise", f"must be within [0, 1], got {noise}")
        ratio = Fraction(speed)
        # Kept as integers: a float loses nanoseconds past 2**53 (about 104 days of them).
        self._speed_num, self._speed_den = ratio.numerator, ratio.denominator
        for before, after in pairwise(bars):
            if after.start < before.end:
                raise MarketConfigError(
                    "bars", f"bar at {after.start} starts before the previous bar ends"
                )
        for bar in bars:
            if self._offset_ns(bar.interval) < max_trades_per_bar:
                raise MarketConfigError(
                    "speed", f"{speed} leaves a {bar.interval}s bar too few nanoseconds"
                )
        self._bars = tuple(bars)
        self._grid = grid
        self._seed = seed
        self._max_trades = max_trades_per_bar
        self._noise = noise

    @property
    def pair(self) -> str:
        return self._grid.pair

    def _offset_ns(self, seconds: int) -> int:
        """Bar seconds as emulator nanoseconds at this speed (exact integer arithmetic)."""
        return seconds * NS_PER_SECOND * self._speed_den // self._speed_num

    def steps(self, start_ns: int) -> Iterator[MarketStep]:
        """One step per bar with volume, starting at ``start_ns``; finite."""
        if not self._bars:
            return
        origin = self._bars[0].start
        for bar in self._bars:
            bar_ns = start_ns + self._offset_ns(bar.start - origin)
            end_ns = start_ns + self._offset_ns(bar.end - origin)
            trades = replay_bar(
                bar,
                self._grid,
                bar_ns,
                end_ns,
                seed=self._seed,
                max_trades=self._max_trades,
                noise=self._noise,
            )
            if trades:
                yield MarketStep(bar_ns, self._grid.pair, trades[-1].price, trades, None)
