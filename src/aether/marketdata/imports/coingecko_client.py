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
* HTTP 429 and network failures are retried under the platform's
  :class:`~aether.ops.retrying.RetryPolicy`: after the server's ``Retry-After`` (seconds or
  an HTTP date) when it sends one, else with exponential backoff (``backoff`` doubling), up
  to ``max_retries`` times and never waiting longer than ``max_wait_s`` at once (a longer
  ``Retry-After`` ends the import with an error); other failures raise ImportSourceError
  naming the request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from aether.domain import decimal_json
from aether.marketdata.imports.errors import ImportSourceError
from aether.marketdata.records import ReferencePrice
from aether.ops.retrying import RetryPolicy, retry_after_seconds

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
    payload = decimal_json.loads(text, floats="decimal")
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


class _RateLimited(Exception):
    """HTTP 429; ``retry_after`` is the server's requested wait in seconds, if it sent one."""

    def __init__(self, retry_after: float | None) -> None:
        super().__init__("HTTP 429")
        self.retry_after = retry_after


def _requested_wait(exc: BaseException) -> float | None:
    return exc.retry_after if isinstance(exc, _RateLimited) else None


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
        attempts = self.max_retries + 1
        policy = RetryPolicy(attempts=attempts, first_wait=self.backoff, max_wait=self.max_wait_s)
        tries = 0

        async def once() -> httpx.Response:
            nonlocal tries
            tries += 1
            response = await self._client.get(
                self.base_url + path, params=params, headers=self._headers
            )
            if response.status_code == 200:
                return response
            if response.status_code != 429:
                raise ImportSourceError(
                    f"{where}: HTTP {response.status_code}: {response.text[:300]}"
                )
            header = response.headers.get("retry-after")
            raise _RateLimited(retry_after_seconds(header, self._wall_clock()))

        try:
            return await policy.run(
                once,
                (httpx.HTTPError, _RateLimited),
                sleep=self._sleep,
                hint=_requested_wait,
                on_wait=self._count_wait,
            )
        except httpx.HTTPError as exc:
            raise ImportSourceError(f"{where}: {type(exc).__name__}: {exc}") from None
        except _RateLimited as exc:
            if tries == attempts or exc.retry_after is None:
                raise ImportSourceError(
                    f"{where}: still rate limited (HTTP 429) after {tries} attempts"
                ) from None
            raise ImportSourceError(
                f"{where}: rate limited (HTTP 429); CoinGecko asks to wait "
                f"{exc.retry_after:.0f} s, more than {self.max_wait_s:.0f} s: "
                "run the import again later"
            ) from None

    def _count_wait(self, exc: BaseException, seconds: float) -> None:
        if isinstance(exc, _RateLimited):
            self.waited_s += seconds
