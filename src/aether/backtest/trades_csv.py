"""The round trips of a backtest as a deterministic CSV file, and the atomic file writer."""

from __future__ import annotations

import csv
import io
import os
import secrets
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from aether.backtest.results import RoundTrip
from aether.domain.timestamps import iso_utc

COLUMNS = (
    "symbol",
    "entry_time",
    "exit_time",
    "quantity",
    "entry_price",
    "exit_price",
    "fees",
    "pnl",
    "return",
    "exit_reason",
)


def write_trades_csv(path: Path, round_trips: Sequence[RoundTrip]) -> None:
    """Write one row per round trip, in the given order; the same input gives the same bytes.

    Times are ISO-8601 UTC ("2024-01-02T03:04:05Z"), money is the exact Decimal in plain
    notation, ``return`` is the net return fraction with six decimals.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for trip in round_trips:
        writer.writerow(
            (
                trip.symbol,
                iso_utc(trip.entry_ts),
                iso_utc(trip.exit_ts),
                plain(trip.quantity),
                plain(trip.entry_price),
                plain(trip.exit_price),
                plain(trip.fees),
                plain(trip.pnl),
                f"{trip.return_fraction:.6f}",
                trip.exit_reason,
            )
        )
    write_atomic(path, buffer.getvalue().encode("utf-8"))


def plain(value: Decimal) -> str:
    """The exact value without an exponent (str() would print 1E-8), for spreadsheets."""
    return format(value, "f")


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: readers see the old file or the new one.

    The data goes to a hidden temporary file in the same directory (``os.replace`` is only
    atomic within one file system), which is removed again if anything fails.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # os.open with 0o666 lets the umask decide the final permissions, as for any new file;
    # tempfile would leave the report readable by its owner only.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
