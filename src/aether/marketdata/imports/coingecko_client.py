"""CoinGecko's ``GET /coins/{id}/market_chart/range`` over httpx, numbers kept exact.

CoinGecko's "Coin Historical Chart Data within Time Range by ID" answers
``{"prices": [[ms, price], ...], "market_caps": [[ms, value], ...],
"total_volumes": [[ms, value], ...]}`` in ``vs_currency`` (here USD). Granularity is chosen
by the range: up to 90 days gives hourly points (the last day before now: 5-minutely),
longer ranges daily points, so callers keep each request within :data:`MAX_WINDOW_S`.

Rules a caller must know:

* Numbers are parsed from the JSON text as Decimal (never through float).
* The API key, when set, goes in the ``x-cg-demo-api-key`` header (``x-cg-pro-api-key`` for
  a ``pro-api.`` base URL); it is never put in a URL, a log line or an error message.
* HTTP 429 is retried after the server's ``Retry-After`` (seconds or an HTTP date; without
  one, exponential backoff), up to ``max_retries`` times and never waiting longer than
  ``max_wait_s`` at once; other failures raise ImportSourceError naming the request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from aether.marketdata.imports.errors import ImportSourceError
from aether.marketdata.records import ReferencePrice

SOURCE = "coingecko"
#: Longest range per request that still gets hourly points (CoinGecko: 2-90 days hourly);
#: a day of margin below the documented bound.
MAX_WINDOW_S = 89 * 86_400
_MS_TO_NS = 1_000_000


def _number(value: object, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError(f"{where}: {value!r} is not a number")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{where}: {value!r} is not finite")
    return number


def _series(payload: dict[str, Any], name: str, required: bool) -> dict[int, Decimal | None]:
    rows = payload.get(name)
    if rows is None and not required:
        return {}
    if not isinstance(rows, list):
        raise ValueError(f"{name!r} is missing or not a list")
    points: dict[int, Decimal | None] = {}
    for index, row in enumerate(rows):
        where = f"{name}[{index}]"
        if not isinstance(row, list) or len(row) != 2:
            raise ValueError(f"{where}: expected [ms, value], got {row!r}")
        ms, value = row
        if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
            raise ValueError(f"{where}: timestamp {ms!r} is not integer milliseconds")
        points[ms] = None if value is None else _number(value, where)
    return points


def parse_market_chart(text: str, coin: str) -> list[ReferencePrice]:
    """Reference prices of ``coin`` from a market_chart/range body, oldest first; a point's
    market cap and volume are matched by timestamp (None when CoinGecko has none).

    ValueError naming the array and index for anything malformed, or a null or non-positive
    price.
    """
    payload = json.loads(text, parse_float=Decimal)
    if not isinstance(payload, dict):
        raise ValueError("the body is not a JSON object")
    prices = _series(payload, "prices", required=True)
    caps = _series(payload, "market_caps", required=False)
    volumes = _series(payload, "total_volumes", required=False)
    points = []
    for ms in sorted(prices):
        price = prices[ms]
        if price is None or price <= 0:
            raise ValueError(f"prices at {ms} ms: {price!r} is not a positive price")
        points.append(
            ReferencePrice(SOURCE, coin, ms * _MS_TO_NS, price, caps.get(ms), volumes.get(ms))
        )
    return points


def retry_after_seconds(header: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if header is None or not header.strip():
        return None
    text = header.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


class CoinGeckoClient:
    """A CoinGecko API session; ``base_url`` is ``settings.coingecko_base_url``."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff: float = 2.0,
        max_wait_s: float = 120.0,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        host = urlsplit(self.base_url).hostname or ""
        header = "x-cg-pro-api-key" if host.startswith("pro-api.") else "x-cg-demo-api-key"
        self._headers = {"accept": "application/json"}
        if api_key:
            self._headers[header] = api_key
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait_s = max_wait_s
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._owns_client = client is None
        self._sleep = sleep
        self._wall_clock = wall_clock
        #: Seconds spent waiting on 429 answers, for the import's report.
        self.waited_s = 0.0

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> CoinGeckoClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def market_chart_range(self, coin: str, from_s: int, to_s: int) -> list[ReferencePrice]:
        """USD prices, market caps and volumes of ``coin`` between two unix times."""
        path = f"/coins/{quote(coin, safe='')}/market_chart/range"
        params = {"vs_currency": "usd", "from": str(from_s), "to": str(to_s)}
        where = f"CoinGecko GET {path}?vs_currency=usd&from={from_s}&to={to_s}"
        response = await self._get(path, params, where)
        try:
            return parse_market_chart(response.text, coin)
        except ValueError as exc:
            raise ImportSourceError(f"{where}: unexpected answer: {exc}") from None

    async def _get(self, path: str, params: dict[str, str], where: str) -> httpx.Response:
        for attempt in range(self.max_retries + 1):
            try:
                response = await self._client.get(
                    self.base_url + path, params=params, headers=self._headers
                )
            except httpx.HTTPError as exc:
                if attempt == self.max_retries:
                    raise ImportSourceError(f"{where}: {type(exc).__name__}: {exc}") from None
                await self._sleep(self.backoff * 2**attempt)
                continue
            if response.status_code == 200:
                return response
            if response.status_code != 429:
                raise ImportSourceError(
                    f"{where}: HTTP {response.status_code}: {response.text[:300]}"
                )
            if attempt == self.max_retries:
                raise ImportSourceError(
                    f"{where}: still rate limited (HTTP 429) after {attempt + 1} attempts"
                )
            hinted = retry_after_seconds(response.headers.get("retry-after"), self._wall_clock())
            wait = hinted if hinted is not None else self.backoff * 2**attempt
            if wait > self.max_wait_s:
                raise ImportSourceError(
                    f"{where}: rate limited (HTTP 429); CoinGecko asks to wait {wait:.0f} s, "
                    f"more than {self.max_wait_s:.0f} s: run the import again later"
                )
            self.waited_s += wait
            await self._sleep(wait)
        raise AssertionError("unreachable")
