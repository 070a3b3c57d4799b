"""A local server that answers CoinGecko's ``/coins/{id}/market_chart/range`` in its
documented JSON shape, with deterministic data.

``{"prices": [[ms, price], ...], "market_caps": [[ms, cap], ...], "total_volumes": [[ms,
volume], ...]}``, numbers written as JSON numbers with many decimals (as CoinGecko does).
Granularity follows CoinGecko's auto rule: a range up to 90 days gets hourly points (37 s
past each hour, to prove nobody assumes alignment), a longer range daily points at 00:00
UTC. Hours in ``missing_hours`` (epoch hour numbers) have no point. ``rate_limit_first``
answers that many requests with HTTP 429 and ``Retry-After: 1`` first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aether.platform.sidecars import Sidecar, SidecarThread
from tests.support.network import free_port

COINS = {"bitcoin": Decimal("40000"), "ethereum": Decimal("2500")}
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
JITTER_MS = 37_000


def price_at(coin: str, hour: int) -> Decimal:
    """The deterministic price the server gives ``coin`` in epoch hour ``hour``."""
    return COINS[coin] + Decimal(hour % 997) + Decimal("0.0406175669")


@dataclass
class CoinGeckoServer:
    url: str  # the API base, like settings.coingecko_base_url
    missing_hours: set[int] = field(default_factory=set)
    rate_limit_first: int = 0
    #: Every request: its query parameters and the API key header it carried (or None).
    requests: list[dict[str, str | None]] = field(default_factory=list)

    def body(self, coin: str, from_s: int, to_s: int) -> str:
        start_ms, end_ms = from_s * 1000, to_s * 1000
        step = HOUR_MS if to_s - from_s <= 90 * 86_400 else DAY_MS
        first = -(-start_ms // step) * step  # the first boundary at or after ``from``
        rows: list[tuple[int, Decimal]] = []
        for boundary in range(first - step, end_ms + 1, step):
            ms = boundary + (JITTER_MS if step == HOUR_MS else 0)
            hour = boundary // HOUR_MS
            if start_ms <= ms <= end_ms and hour not in self.missing_hours:
                rows.append((ms, price_at(coin, hour)))

        def series(scale: Decimal) -> str:
            return "[" + ",".join(f"[{ms},{price * scale}]" for ms, price in rows) + "]"

        return (
            f'{{"prices":{series(Decimal(1))},'
            f'"market_caps":{series(Decimal("19500000.5"))},'
            f'"total_volumes":{series(Decimal("312345.25"))}}}'
        )

    async def market_chart_range(self, request: Request) -> Response:
        query = request.query_params
        self.requests.append(
            {
                "coin": request.path_params["coin"],
                "vs_currency": query.get("vs_currency"),
                "from": query.get("from"),
                "to": query.get("to"),
                "api_key": request.headers.get("x-cg-demo-api-key"),
            }
        )
        if self.rate_limit_first > 0:
            self.rate_limit_first -= 1
            return JSONResponse(
                {"status": {"error_code": 429, "error_message": "You've exceeded the Rate Limit"}},
                status_code=429,
                headers={"Retry-After": "1"},
            )
        coin = request.path_params["coin"]
        if coin not in COINS:
            return JSONResponse({"error": "coin not found"}, status_code=404)
        try:
            from_s, to_s = int(query["from"]), int(query["to"])
        except (KeyError, ValueError):
            return JSONResponse({"error": "invalid from/to"}, status_code=400)
        if query.get("vs_currency") != "usd":
            return JSONResponse({"error": "invalid vs_currency"}, status_code=400)
        return Response(self.body(coin, from_s, to_s), media_type="application/json")


@contextmanager
def serve_coingecko(
    *, missing_hours: set[int] | None = None, rate_limit_first: int = 0
) -> Iterator[CoinGeckoServer]:
    """Run the server on a free loopback port until the block ends."""
    port = free_port()
    state = CoinGeckoServer(
        f"http://127.0.0.1:{port}/api/v3", missing_hours or set(), rate_limit_first
    )
    app = Starlette(
        routes=[
            Route(
                "/api/v3/coins/{coin}/market_chart/range",
                state.market_chart_range,
                methods=["GET"],
            )
        ]
    )
    server = SidecarThread(Sidecar("CoinGecko test server", app, "127.0.0.1", port))
    server.start()
    try:
        yield state
    finally:
        server.stop()
