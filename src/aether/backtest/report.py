"""A backtest result as one self-contained HTML file: run, summary, charts and round trips.

The charting library (TradingView Lightweight Charts, vendored) and the data are inlined, so
the file opens offline from disk and fetches nothing.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path
from string import Template

from aether.backtest.results import BacktestResult, RoundTrip, RunSpec, Summary
from aether.backtest.trades_csv import plain, write_atomic
from aether.domain.timestamps import iso_utc

#: The table shows the latest round trips only: a browser chokes long before the CSV does.
MAX_TABLE_ROWS = 500
_LIBRARY = "vendor/lightweight-charts.standalone.production.js"
_TEMPLATE = "report_template.html"
_NS_PER_SECOND = 1_000_000_000


def write_report(path: Path, result: BacktestResult) -> None:
    """Write the HTML report of ``result`` to ``path`` atomically.

    ``result.equity_ts`` must increase strictly (the chart refuses anything else).
    """
    _check_times(result.equity_ts)
    spec = result.spec
    page = Template(_resource(_TEMPLATE)).substitute(
        title=escape(f"Backtest · {spec.strategy} · {spec.pair}"),
        heading=f"Backtest: {escape(spec.strategy)} on {escape(spec.pair)}",
        subtitle=escape(
            f"{_when(spec.start)} to {_when(spec.end)} UTC · {_interval(spec.interval)} bars"
            f" · {result.bars:,} bars · {len(result.fills):,} fills"
        ),
        spec=_spec_html(spec),
        summary=_summary_html(result.summary),
        trips=_trips_html(result.round_trips),
        data=_script_json(_chart_data(result)),
        library=_library(),
    )
    write_atomic(path, page.encode("utf-8"))


@cache
def _resource(name: str) -> str:
    return resources.files("aether.backtest").joinpath(name).read_text(encoding="utf-8")


def _library() -> str:
    code = _resource(_LIBRARY)
    # Inlined code ends its <script> at the first "</script"; the vendored build has none,
    # and a future upgrade that brings one must fail here, not render a broken page.
    if "</script" in code.lower():
        raise ValueError(f"{_LIBRARY} contains '</script' and cannot be inlined")
    return code


def _check_times(times: Sequence[int]) -> None:
    for index in range(1, len(times)):
        if times[index] <= times[index - 1]:
            raise ValueError(
                f"equity_ts must increase strictly: {times[index - 1]} then {times[index]}"
                f" at index {index}"
            )


def _chart_data(result: BacktestResult) -> dict[str, object]:
    """Compact columns for the page's script: times, equity in cents, trade markers."""
    times = list(result.equity_ts)
    values = [round(v, 2) if math.isfinite(v) else None for v in result.equity]
    markers: list[tuple[int, str, str]] = []
    last = len(times) - 1
    seen: set[tuple[int, str, str]] = set()
    for fill in result.fills:
        if last < 0:
            break
        # A marker must sit on a bar of the series: the first bar closing at or after the
        # fill, i.e. the bar it happened in (the last bar for anything later). Rounding the
        # nanoseconds up keeps a fill just after a close out of that closed bar.
        bar = min(bisect_left(times, -(-fill.ts_ns // _NS_PER_SECOND)), last)
        key = (bar, fill.side.value, fill.cl_ord_id)
        if key in seen:  # partial fills of one order in one bar: one arrow is enough
            continue
        seen.add(key)
        reason = result.fill_reasons.get(fill.cl_ord_id, "")
        markers.append((times[bar], fill.side.value, reason))
    markers.sort(key=lambda marker: marker[0])  # the chart wants markers in time order
    return {"cash": float(result.summary.starting_cash), "t": times, "v": values, "m": markers}


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' can end or confuse it."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _spec_html(spec: RunSpec) -> str:
    params = "".join(
        f'<span class="param">{escape(key)}={escape(value)}</span>'
        for key, value in spec.params.items()
    )
    rows = [
        ("Strategy", escape(spec.strategy)),
        ("Parameters", params or "none"),
        ("Pair", escape(spec.pair)),
        ("Data", escape(spec.data)),
        ("Interval", escape(_interval(spec.interval))),
        ("Period", escape(f"{_when(spec.start)} to {_when(spec.end)} UTC")),
        ("Starting cash", escape(_usd(spec.cash))),
        ("Fees", escape(spec.fee)),
        ("Sizing", escape(spec.sizing)),
        ("Exits", escape(spec.exits)),
        ("Risk limits", escape(spec.risk)),
    ]
    items = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<dl class="spec">{items}</dl>'


def _summary_html(summary: Summary) -> str:
    rows = [
        (
            "Final equity",
            _usd(summary.final_equity),
            _sign(summary.final_equity - summary.starting_cash),
        ),
        ("Total return", _pct(summary.total_return), _sign(summary.total_return)),
        ("Annualised return", _pct(summary.annualised_return), _sign(summary.annualised_return)),
        ("Max drawdown", _pct(summary.max_drawdown), "neg" if summary.max_drawdown else ""),
        ("Sharpe", f"{summary.sharpe:.2f}", ""),
        ("Sortino", f"{summary.sortino:.2f}", ""),
        ("Round trips", f"{summary.trades:,}", ""),
        ("Win rate", _pct(summary.win_rate), ""),
        ("Exposure", _pct(summary.exposure_time), ""),
        ("Fees paid", _usd(summary.fees_paid), ""),
        ("Starting cash", _usd(summary.starting_cash), ""),
    ]
    body = "".join(
        f'<tr><td>{label}</td><td class="num {css}">{escape(value)}</td></tr>'
        for label, value, css in rows
    )
    return f'<table class="summary"><tbody>{body}</tbody></table>'


def _trips_html(trips: Sequence[RoundTrip]) -> str:
    if not trips:
        return '<p class="note">No round trips were closed.</p>'
    first = max(0, len(trips) - MAX_TABLE_ROWS)
    head = "".join(
        f'<th class="{"num" if numeric else ""}">{label}</th>'
        for label, numeric in (
            ("#", True), ("Symbol", False), ("Entry (UTC)", False), ("Exit (UTC)", False),
            ("Quantity", True), ("Entry price", True), ("Exit price", True), ("Fees", True),
            ("PnL", True), ("Return", True), ("Exit reason", False),
        )
    )  # fmt: skip
    body = "".join(_trip_row(number, trip) for number, trip in enumerate(trips[first:], first + 1))
    table = (
        f'<div class="scroll"><table class="trips"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )
    if first:
        table += (
            f'<p class="note">Showing the last {MAX_TABLE_ROWS:,} of {len(trips):,} round trips;'
            " the trades CSV of this run lists all of them.</p>"
        )
    return table


def _trip_row(number: int, trip: RoundTrip) -> str:
    css = _sign(trip.pnl)
    cells: Iterable[tuple[str, str]] = (
        (str(number), "num"),
        (trip.symbol, ""),
        (_when(trip.entry_ts), ""),
        (_when(trip.exit_ts), ""),
        (plain(trip.quantity), "num"),
        (plain(trip.entry_price), "num"),
        (plain(trip.exit_price), "num"),
        (f"{trip.fees:,.2f}", "num"),
        (f"{trip.pnl:,.2f}", f"num {css}"),
        (_pct(trip.return_fraction), f"num {css}"),
        (trip.exit_reason, ""),
    )
    return "<tr>" + "".join(f'<td class="{c}">{escape(v)}</td>' for v, c in cells) + "</tr>"


def _when(epoch_seconds: int) -> str:
    return iso_utc(epoch_seconds)[:16].replace("T", " ")


def _interval(seconds: int) -> str:
    for unit, size in (("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _usd(value: Decimal) -> str:
    return f"${value:,.2f}" if value >= 0 else f"-${-value:,.2f}"


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.2f}%"


def _sign(value: Decimal | float) -> str:
    return "pos" if value > 0 else "neg" if value < 0 else ""
