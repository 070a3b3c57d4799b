"""A real local HTTP server answers 429 with ``Retry-After`` and then 200: the retry policy,
and the CoinGecko client built on it, wait (really, on the event loop's clock) as long as the
header asked before sending the request again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from aether.marketdata.imports.coingecko_client import CoinGeckoClient
from aether.ops.retrying import RetryPolicy, retry_after_seconds

BODY = b'{"prices":[[1704067241331,42261.0406175669]],"market_caps":[],"total_volumes":[]}'


@dataclass
class Throttling:
    """The server's script: how many 429s first, with which ``Retry-After``."""

    refusals: int
    retry_after: str
    arrivals: list[float] = field(default_factory=list)  # monotonic time of each request


@contextmanager
def throttling_server(script: Throttling) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            script.arrivals.append(time.monotonic())
            if len(script.arrivals) <= script.refusals:
                self.send_response(429)
                self.send_header("Retry-After", script.retry_after)
                body = b'{"status":{"error_code":429}}'
            else:
                self.send_response(200)
                body = BODY
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="throttling-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


class RateLimited(Exception):
    def __init__(self, retry_after: float | None) -> None:
        super().__init__("HTTP 429")
        self.retry_after = retry_after


def requested(exc: BaseException) -> float | None:
    return exc.retry_after if isinstance(exc, RateLimited) else None


async def test_the_policy_waits_as_long_as_retry_after_says() -> None:
    script = Throttling(refusals=1, retry_after="1")
    # The backoff alone would wait 0.01 s: only the header can make the wait a second long.
    policy = RetryPolicy(attempts=3, first_wait=0.01, max_wait=30.0)
    with throttling_server(script) as url:
        async with httpx.AsyncClient() as http:

            async def fetch() -> httpx.Response:
                response = await http.get(url + "/thing")
                if response.status_code == 429:
                    header = response.headers.get("retry-after")
                    raise RateLimited(retry_after_seconds(header, time.time()))
                return response

            response = await policy.run(fetch, RateLimited, hint=requested)
    assert response.status_code == 200
    first, second = script.arrivals
    assert second - first >= 1.0
    assert second - first < 30.0  # sanity only: a loaded machine may be slow


async def test_the_coingecko_client_waits_out_a_429_before_asking_again() -> None:
    script = Throttling(refusals=2, retry_after="1")
    with throttling_server(script) as url:
        async with CoinGeckoClient(url, backoff=0.01) as client:
            points = await client.market_chart_range("bitcoin", 1704067200, 1704070800)
    assert [p.price_usd for p in points] == [Decimal("42261.0406175669")]
    assert len(script.arrivals) == 3
    assert all(b - a >= 1.0 for a, b in zip(script.arrivals, script.arrivals[1:], strict=False))
    assert client.waited_s == 2.0
