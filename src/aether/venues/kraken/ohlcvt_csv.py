"""Kraken's bulk OHLCVT CSV: its file names and its rows as bars.

Kraken's bulk download has no header and seven columns
``unix_time_seconds, open, high, low, close, volume, trades``, one row per interval that had
at least one trade, and names each file ``PAIR_MINUTES.csv`` (``XBTUSD_60.csv``; the slices
Aether ships carry a ``kraken_`` prefix). Missing intervals are real holes: nothing here
invents or forward-fills a bar.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn

from aether.domain.bars import Bar

__all__ = ["HistoryFormatError", "load_kraken_csv", "name_parts"]

_COLUMNS = 7
_LAYOUT = "unix_time_seconds, open, high, low, close, volume, trades"
_ZERO = Decimal(0)
# ``XBTUSD_60.csv`` (pair, minutes), also behind a prefix such as ``kraken_``.
_FILE_NAME = re.compile(r"(?:^|_)([A-Z0-9]+)_(\d+)\.csv$", re.IGNORECASE)


def name_parts(path: Path) -> tuple[str | None, int | None]:
    """(pair, interval in minutes) from a Kraken bulk file name, each None when absent."""
    match = _FILE_NAME.search(path.name)
    if match is None:
        return None, None
    return match.group(1).upper(), int(match.group(2))


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
