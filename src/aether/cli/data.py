"""``aether data``: history imports into the platform's database.

``import kraken-csv`` (Kraken's bulk OHLCVT file), ``backfill`` (candles built from Kraken's
REST ``Trades`` beyond the OHLC window) and ``import coingecko`` (USD reference prices).
Each shows a progress bar on a terminal (not with ``--json``), can be interrupted and run
again (it continues where it stopped), adds nothing when re-run over the same data, and
ends with a report of rows added and gaps found.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import asyncpg
import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from aether.cli.context import DataDirOption, database_url, run, settings_for
from aether.cli.output import console, errors, fail, print_json
from aether.cli.times import epoch_seconds
from aether.marketdata.imports.backfill import MAX_PAGE, BackfillFailed, backfill
from aether.marketdata.imports.coingecko import check_coin, import_coingecko
from aether.marketdata.imports.coingecko_client import CoinGeckoClient
from aether.marketdata.imports.errors import ImportInputError, ImportSourceError
from aether.marketdata.imports.kraken_csv import import_kraken_csv, interval_seconds
from aether.marketdata.imports.pairs import spot_usd_pair
from aether.marketdata.imports.report import ImportReport, iso_utc
from aether.settings import Settings
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot
from aether.venues.kraken.ohlcvt_csv import HistoryFormatError
from aether.venues.kraken.rate_limit import Tier
from aether.venues.kraken.rest import KrakenRest

app = typer.Typer(help="History imports: Kraken CSV, Kraken trade backfill, CoinGecko.")
import_app = typer.Typer(help="Import history from a file or a third-party API.")
app.add_typer(import_app, name="import")

T = TypeVar("T")

JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def _epoch(text: str, option: str) -> int:
    moment = epoch_seconds(text, option)
    assert moment is not None  # epoch_seconds returns None only for None
    return moment


def _pair(name: str) -> str:
    try:
        return spot_usd_pair(name).symbol
    except ImportInputError as exc:
        fail(f"--pair: {exc}")


@asynccontextmanager
async def _connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        fail(f"cannot connect to PostgreSQL: {exc}")
    try:
        yield conn
    finally:
        await conn.close()


def _guarded(work: Callable[[], T]) -> T:
    """Run ``work``; turn the errors an import can meet into a clear exit 1."""
    try:
        return work()
    except HistoryFormatError as exc:
        fail(f"{exc} (nothing was stored)")
    except (ImportInputError, ImportSourceError) as exc:
        fail(str(exc))
    except asyncpg.UndefinedTableError as exc:
        fail(f"the database schema is not up to date ({exc}): run `aether db upgrade`")
    except (asyncpg.PostgresError, OSError) as exc:
        fail(f"database error: {exc}")


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}[/]"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=not show,
    )


def _print_report(report: ImportReport) -> None:
    table = Table(title=f"{report.job}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("range", f"{iso_utc(report.first_s)} to {iso_utc(report.end_s)}")
    if report.resumed_from_s is not None:
        table.add_row("resumed from", str(iso_utc(report.resumed_from_s)))
    table.add_row("rows read", f"{report.rows_read:,}")
    for name, rows in report.added.items():
        table.add_row(f"{name} added", f"{rows:,}")
    table.add_row("gaps found", f"{report.gaps_found:,} ({report.gaps_recorded:,} new)")
    for note in report.notes:
        table.add_row("note", note)
    console.print(table)


def _finish(report: ImportReport, as_json: bool) -> None:
    if as_json:
        print_json(report.as_json())
    else:
        _print_report(report)


@import_app.command("kraken-csv")
def kraken_csv(
    file: Annotated[
        Path, typer.Argument(help="Kraken OHLCVT CSV (no header), e.g. XBTUSD_60.csv.")
    ],
    pair: Annotated[str, typer.Option(help="Spot USD pair: XBTUSD, BTC/USD, XBT/USD or XXBTZUSD.")],
    interval: Annotated[
        int | None,
        typer.Option(help="Candle length in minutes [default: from the file name]."),
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import Kraken's bulk OHLCVT candles of one pair (source kraken-csv)."""
    symbol = _pair(pair)
    if not file.is_file():
        fail(f"{file}: no such file")
    try:
        interval_s = interval_seconds(file, interval, symbol, set(load_instrument_snapshot()))
    except ImportInputError as exc:
        fail(str(exc))
    url = database_url(settings_for(data_dir))

    async def work() -> ImportReport:
        with _progress(not as_json and errors.is_terminal) as bar:
            task = bar.add_task(f"{symbol} candles", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            async with _connect(url) as conn:
                return await import_kraken_csv(conn, file, symbol, interval_s, on_progress=advance)

    _finish(_guarded(lambda: run(work)), as_json)


class _BackfillBars:
    """One progress bar per pair, from its start to ``until`` (or now)."""

    def __init__(self, bar: Progress, now_s: int) -> None:
        self._bar = bar
        self._now_s = now_s
        self._tasks: dict[str, tuple[TaskID, int]] = {}

    def begin(self, pair: str, from_s: int, to_s: int | None) -> None:
        total = max(1, (to_s if to_s is not None else self._now_s) - from_s)
        self._tasks[pair] = (self._bar.add_task(f"{pair} trades", total=total), from_s)

    def advance(self, pair: str, at_s: int) -> None:
        task, from_s = self._tasks[pair]
        self._bar.update(task, completed=max(0, at_s - from_s))


@app.command("backfill")
def backfill_command(
    pair: Annotated[
        list[str],
        typer.Option(help="Spot USD pair (XBTUSD, BTC/USD...); repeat for several pairs."),
    ],
    since: Annotated[
        str | None,
        typer.Option(
            help="Start (ISO 8601, UTC) [default: the end of the pair's kraken-csv candles, "
            "else where the last backfill stopped]."
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Stop before this time [default: the present].")
    ] = None,
    interval: Annotated[int, typer.Option(help="Candle length in minutes.")] = 60,
    page_size: Annotated[
        int, typer.Option(help=f"Trades per request (Kraken's count, 1-{MAX_PAGE}).")
    ] = MAX_PAGE,
    parallel: Annotated[int, typer.Option(help="Pairs fetched at the same time.")] = 3,
    tier: Annotated[
        Tier, typer.Option(help="Kraken rate-limit tier the client paces itself to.")
    ] = Tier.STARTER,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Build candles from Kraken's public trades, joining onto imported bulk candles."""
    symbols = list(dict.fromkeys(_pair(name) for name in pair))
    if interval < 1:
        fail(f"--interval {interval}: must be at least 1 minute")
    if not 1 <= page_size <= MAX_PAGE:
        fail(f"--page-size {page_size}: must be 1 to {MAX_PAGE}")
    if parallel < 1:
        fail(f"--parallel {parallel}: must be at least 1")
    since_s, until_s = epoch_seconds(since, "--since"), epoch_seconds(until, "--until")
    settings = settings_for(data_dir)
    url = database_url(settings)

    async def work() -> tuple[list[ImportReport], dict[str, str]]:
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=parallel, timeout=10)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            fail(f"cannot connect to PostgreSQL: {exc}")
        try:
            async with KrakenRest(settings.kraken_rest_base, tier=tier) as rest:
                with _progress(not as_json and errors.is_terminal) as bar:
                    try:
                        reports = await backfill(
                            pool,
                            rest,
                            symbols,
                            interval_s=interval * 60,
                            since_s=since_s,
                            until_s=until_s,
                            page_size=page_size,
                            parallel=parallel,
                            progress=_BackfillBars(bar, int(time.time())),
                        )
                    except BackfillFailed as exc:
                        return exc.reports, {p: str(e) for p, e in exc.errors.items()}
                    return reports, {}
        finally:
            await pool.close()

    reports, failures = _guarded(lambda: run(work))
    if as_json:
        print_json({"reports": [r.as_json() for r in reports], "errors": failures})
    else:
        for report in reports:
            _print_report(report)
    if failures:
        fail(
            "backfill failed for "
            + "; ".join(f"{p}: {e}" for p, e in failures.items())
            + " (progress is saved: run the same command again to continue)"
        )


@import_app.command("coingecko")
def coingecko(
    coin: Annotated[str, typer.Option(help="CoinGecko coin id, e.g. bitcoin.")],
    since: Annotated[str, typer.Option(help="Start (ISO 8601, UTC), e.g. 2026-01-01.")],
    until: Annotated[str | None, typer.Option(help="Stop before this time [default: now].")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import USD prices, market caps and volumes of a coin from CoinGecko (hourly points)."""
    try:
        check_coin(coin)
    except ImportInputError as exc:
        fail(str(exc))
    since_s = _epoch(since, "--since")
    until_s = _epoch(until, "--until") if until is not None else int(time.time())
    if until_s <= since_s:
        fail(f"--until {iso_utc(until_s)} must be after --since {iso_utc(since_s)}")
    settings = settings_for(data_dir)
    url = database_url(settings)

    async def work() -> ImportReport:
        async with _coingecko_client(settings) as client, _connect(url) as conn:
            with _progress(not as_json and errors.is_terminal) as bar:
                task = bar.add_task(f"{coin} prices", total=until_s - since_s)

                def advance(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                return await import_coingecko(
                    conn, client, coin, since_s, until_s, on_progress=advance
                )

    _finish(_guarded(lambda: run(work)), as_json)


def _coingecko_client(settings: Settings) -> CoinGeckoClient:
    key = settings.coingecko_api_key
    return CoinGeckoClient(
        settings.coingecko_base_url, key.get_secret_value() if key is not None else None
    )
