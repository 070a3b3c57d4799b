"""Kraken bulk OHLCVT history: load the CSV into bars, find gaps, resample to coarser bars.

Kraken's bulk download has no header and seven columns
``unix_time_seconds, open, high, low, close, volume, trades``, one row per interval that had
at least one trade. Missing intervals are real gaps: nothing here invents or forward-fills a bar.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn

from aether.domain.bars import Bar
from aether.marketdata.gaps import Gap, missing_runs

__all__ = ["Gap", "HistoryFormatError", "find_gaps", "load_kraken_csv", "resample"]

_COLUMNS = 7
_LAYOUT = "unix_time_seconds, open, high, low, close, volume, trades"
_ZERO = Decimal(0)


class HistoryFormatError(ValueError):
    """A history file that does not follow Kraken's OHLCVT layout; names the file and line."""

    def __init__(self, path: Path, line: int, why: str) -> None:
        self.path = path
        self.line = line
        self.why = why
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {why}")


class _RowRejected(Exception):
    """Internal: the fast path saw a bad row; ``_diagnose`` names what is wrong with it."""


def _decimal(path: Path, line: int, name: str, text: str) -> Decimal:
    """``text`` as a finite Decimal, else HistoryFormatError naming the column."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise HistoryFormatError(path, line, f"{name} {text!r} is not a number") from None
    if not value.is_finite():
        raise HistoryFormatError(path, line, f"{name} {text!r} is not a finite number")
    return value


def _integer(path: Path, line: int, name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        hint = " (a header or an unknown layout?)" if line == 1 else ""
        raise HistoryFormatError(
            path, line, f"{name} {text!r} is not an integer{hint}; expected {_LAYOUT}"
        ) from None


def _diagnose(path: Path, line: int, row: list[str], interval: int, previous: int) -> NoReturn:
    """Raise the HistoryFormatError that says exactly what is wrong with a rejected row.

    Kept off the hot path: the loader checks a row with a few cheap comparisons and only comes
    here, re-checking one rule at a time, once it knows the row is bad.
    """
    if len(row) != _COLUMNS:
        raise HistoryFormatError(
            path, line, f"expected {_COLUMNS} columns ({_LAYOUT}), got {len(row)}: {row!r}"
        )
    ts = _integer(path, line, "unix_time_seconds", row[0])
    o, h, lo, c, v = (
        _decimal(path, line, name, text)
        for name, text in zip(("open", "high", "low", "close", "volume"), row[1:6], strict=True)
    )
    n = _integer(path, line, "trades", row[6])
    if o <= _ZERO or h <= _ZERO or lo <= _ZERO or c <= _ZERO:
        raise HistoryFormatError(path, line, f"prices must be positive: {row!r}")
    if v < _ZERO or n < 0:
        raise HistoryFormatError(path, line, f"volume and trades must not be negative: {row!r}")
    if h < max(o, c):
        raise HistoryFormatError(path, line, f"high {row[2]} is below max(open, close): {row!r}")
    if lo > min(o, c):
        raise HistoryFormatError(path, line, f"low {row[3]} is above min(open, close): {row!r}")
    if ts < 0:
        raise HistoryFormatError(path, line, f"timestamp {ts} is negative")
    if ts % interval:
        raise HistoryFormatError(
            path, line, f"timestamp {ts} is not aligned to the {interval} s interval"
        )
    if ts <= previous:
        raise HistoryFormatError(
            path,
            line,
            f"timestamp {ts} is not after the previous row's {previous} "
            "(rows must be strictly increasing)",
        )
    raise HistoryFormatError(path, line, f"row rejected: {row!r}")  # unreachable by design


def load_kraken_csv(
    path: Path,
    symbol: str,
    interval: int = 3600,
    *,
    start: int | None = None,
    end: int | None = None,
) -> list[Bar]:
    """Bars from a Kraken OHLCVT CSV, oldest first, with ``start <= bar.start < end``.

    Every row of the file is validated, also those outside the window: a malformed file is
    refused whole (HistoryFormatError naming the file and 1-based line), never skipped around.
    ``interval`` is in seconds and must match the file (timestamps must be aligned to it).
    """
    if interval <= 0:
        raise ValueError(f"interval must be a positive number of seconds, got {interval}")
    path = Path(path)
    lower = start if start is not None else -1
    upper = end
    bars: list[Bar] = []
    append = bars.append
    number = Decimal
    zero = _ZERO
    previous = -1
    line = 0
    # surrogateescape: a stray non-ASCII byte reaches int()/Decimal() as a lone surrogate and is
    # refused there with its true line number, instead of failing a whole read-ahead chunk.
    with path.open(newline="", encoding="ascii", errors="surrogateescape") as handle:
        try:
            for line, row in enumerate(csv.reader(handle), start=1):
                # Hot loop (50k rows per backtest): parse and check with plain comparisons and
                # no calls beyond the constructors; any failure goes to _diagnose for the message.
                try:
                    ts_text, o_text, h_text, lo_text, c_text, v_text, n_text = row
                    ts = int(ts_text)
                    o = number(o_text)
                    h = number(h_text)
                    lo = number(lo_text)
                    c = number(c_text)
                    v = number(v_text)
                    n = int(n_text)
                    # NaN makes any ordering comparison raise InvalidOperation. With low > 0 and
                    # high >= max(open, close) >= min(open, close) >= low, an infinite price
                    # forces an infinite high, so high and volume are the only finiteness checks.
                    if not (
                        lo > zero
                        and h >= o >= lo
                        and h >= c >= lo
                        and v >= zero
                        and n >= 0
                        and (h + v).is_finite()
                        and ts > previous
                        and not ts % interval
                    ):
                        raise _RowRejected
                except (ValueError, ArithmeticError, _RowRejected):
                    _diagnose(path, line, row, interval, previous)
                previous = ts
                if ts >= lower and (upper is None or ts < upper):
                    append(Bar(symbol, ts, interval, o, h, lo, c, v, n))
        except csv.Error as exc:
            raise HistoryFormatError(path, line + 1, f"unreadable CSV: {exc}") from None
    if line == 0:
        raise HistoryFormatError(path, 0, f"file is empty; expected rows of {_LAYOUT}")
    return bars


def _check_series(bars: Sequence[Bar]) -> int:
    """The common interval of a one-symbol, strictly increasing series, else ValueError."""
    first = bars[0]
    interval = first.interval
    previous = first
    for bar in bars[1:]:
        if bar.interval != interval or bar.symbol != first.symbol:
            raise ValueError(
                f"series mixes bars: {first.symbol}/{interval}s and {bar.symbol}/{bar.interval}s"
            )
        if bar.start < previous.end:
            raise ValueError(
                f"{bar.symbol}: bar at {bar.start} overlaps or precedes the bar at {previous.start}"
            )
        previous = bar
    return interval


def find_gaps(bars: Sequence[Bar]) -> list[Gap]:
    """Runs of missing intervals between consecutive bars (none before the first or after the last).

    The series must be one symbol and interval, in increasing order (else ValueError).
    """
    if not bars:
        return []
    interval = _check_series(bars)
    return missing_runs((bar.start for bar in bars), interval, bars[0].start, bars[-1].end)


def resample(bars: Sequence[Bar], interval: int) -> list[Bar]:
    """Bars of a coarser ``interval`` (seconds, a multiple of the source's), aligned to the epoch.

    open=first, high=max, low=min, close=last, volume and trades summed. A bucket without any
    source bar is absent; a partly filled bucket (gaps, or the series' edges) still yields a bar
    from the bars it has. The series must be one symbol and interval, in increasing order.
    """
    if not bars:
        return []
    source = _check_series(bars)
    if interval <= 0 or interval % source:
        raise ValueError(
            f"cannot resample {source} s bars to {interval} s: "
            f"the target must be a positive multiple of {source} s"
        )
    # A source bar off its own grid could straddle two target buckets; refuse rather than split.
    for bar in bars:
        if bar.start % source:
            raise ValueError(f"{bar.symbol}: bar at {bar.start} is not aligned to {source} s")
    out: list[Bar] = []
    bucket_bars: list[Bar] = []
    bucket = bars[0].start - bars[0].start % interval
    for bar in bars:
        key = bar.start - bar.start % interval
        if key != bucket:
            out.append(_merge(bucket_bars, bucket, interval))
            bucket_bars = []
            bucket = key
        bucket_bars.append(bar)
    out.append(_merge(bucket_bars, bucket, interval))
    return out


def _merge(group: list[Bar], start: int, interval: int) -> Bar:
    first = group[0]
    return Bar(
        symbol=first.symbol,
        start=start,
        interval=interval,
        open=first.open,
        high=max(b.high for b in group),
        low=min(b.low for b in group),
        close=group[-1].close,
        volume=sum((b.volume for b in group), _ZERO),
        trades=sum(b.trades for b in group),
    )
