"""Order throughput of the Kraken emulator: orders per second it accepts and matches, and the
acknowledgement latency each client sees; prints a table.

    .venv/bin/python benchmarks/bench_emulator.py [--clients 1,4,16] [--orders 300]

A fresh emulator is started for the run as a user starts it (``python -m aether.cli emulator
--market synthetic --rate-limits off``, in its own process, on a free loopback port). Every
client has its own account and API key and sends its orders one after another (the next once
the previous is acknowledged), all clients at once. The orders mix resting limits far from
the market (a buy at half the bid, a sell at twice the ask) and marketable market orders
(buys and sells in turn, so balances do not drift); ``--marketable`` sets the share of the
latter.

Each transport is one function taking the emulator's URL, the clients and their orders and
returning a ``Round`` (acknowledgement latencies, wall time, refused orders); ``TRANSPORTS``
lists them, and every transport is measured at every ``--clients`` level. REST: a signed
``POST /0/private/AddOrder`` per order (form body, ``API-Sign`` per Kraken's guide, via
``aether.venues.kraken.signing``) over a keep-alive httpx connection per client. WS: Kraken's
WebSocket v2 ``add_order`` (the same orders in v2's names: ``symbol`` ``BTC/USD``, ``side``,
``order_type``, ``order_qty``, ``limit_price``) over one ``/v2`` connection per client (the
``websockets`` library), each with its own token from ``GetWebSocketsToken``; an order is
acknowledged by the response with its ``req_id`` (heartbeats in between are skipped).

Columns: orders/s is answered orders over the wall time of the whole round; p50/p99 the
acknowledgement latency; fills the trades the marketable orders made (TradesHistory);
server CPU the emulator process's CPU time per order (the clients run in this process, so
on a small machine they compete with the server for cores).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import psutil
from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import ClientConnection, connect

from aether.ops.localstack.processes import free_ports
from aether.venues.kraken.signing import api_sign

PAIR = "XBTUSD"
TICK = Decimal("0.1")
VOLUME = "0.001"
FUNDS = {"USD": "100000000", "XBT": "1000"}
ADD_ORDER = "/0/private/AddOrder"
WS_AUTH = "/0/private/GetWebSocketsToken"
WS_SYMBOL = "BTC/USD"  # XBTUSD's WebSocket v2 symbol


@dataclass(frozen=True)
class Order:
    """One AddOrder's parameters (besides the nonce)."""

    params: dict[str, str]
    marketable: bool


@dataclass
class Client:
    """One emulated account: its key, secret and strictly increasing nonce."""

    key: str
    secret: str
    nonce: int = field(default_factory=lambda: time.time_ns() // 1000)

    def signed(self, path: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
        """The form body and headers of one private call."""
        self.nonce += 1
        body = urlencode({"nonce": self.nonce, **params})
        headers = {
            "API-Key": self.key,
            "API-Sign": api_sign(path, self.nonce, body, self.secret),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return body, headers


@dataclass
class Round:
    """What one transport measured for one number of clients."""

    latencies: list[float]
    seconds: float
    errors: int


Transport = Callable[[str, list[Client], list[list[Order]]], Coroutine[Any, Any, Round]]


# --- the emulator ---------------------------------------------------------------------------


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "aether.cli", "emulator", *args]


@contextlib.contextmanager
def emulator(speed: float) -> Iterator[tuple[str, psutil.Process]]:
    """A fresh emulator process, its rate limits off: its URL and the process."""
    (port,) = free_ports(1)
    flags = ("--market", "synthetic", "--speed", f"{speed:g}", "--rate-limits", "off")
    command = _cli("--port", str(port), *flags)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                assert process.stderr is not None
                raise SystemExit(f"the emulator exited: {process.stderr.read().decode()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/0/public/Time", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the emulator did not start within 30 s")
            time.sleep(0.1)
        yield url, psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _accounts(url: str, count: int) -> list[Client]:
    clients = []
    with httpx.Client(base_url=url, timeout=10) as http:
        for _ in range(count):
            response = http.post("/emulator/accounts", json={"balances": FUNDS})
            response.raise_for_status()
            creds = response.json()
            clients.append(Client(creds["api_key"], creds["api_secret"]))
    return clients


def _plan(url: str, clients: int, orders: int, marketable: float) -> list[list[Order]]:
    """Each client's orders: resting limits far from the market and marketable orders,
    spread evenly (Bresenham) so every client's mix is the same."""
    ticker = httpx.get(f"{url}/0/public/Ticker", params={"pair": PAIR}, timeout=10).json()
    (entry,) = ticker["result"].values()
    bid, ask = Decimal(entry["b"][0]), Decimal(entry["a"][0])
    low = (bid / 2).quantize(TICK, rounding=ROUND_DOWN)
    high = (ask * 2).quantize(TICK, rounding=ROUND_DOWN)
    common = {"pair": PAIR, "volume": VOLUME}
    resting = itertools.cycle(
        [
            {**common, "type": "buy", "ordertype": "limit", "price": f"{low}"},
            {**common, "type": "sell", "ordertype": "limit", "price": f"{high}"},
        ]
    )
    market = itertools.cycle(
        [
            {**common, "type": "buy", "ordertype": "market"},
            {**common, "type": "sell", "ordertype": "market"},
        ]
    )
    mix: list[Order] = []
    for n in range(orders):
        take = int((n + 1) * marketable) > int(n * marketable)
        mix.append(Order(next(market), True) if take else Order(next(resting), False))
    return [list(mix) for _ in range(clients)]


def _private(url: str, client: Client, method: str) -> dict[str, object]:
    path = f"/0/private/{method}"
    body, headers = client.signed(path, {})
    answer: dict[str, object] = httpx.post(
        f"{url}{path}", content=body, headers=headers, timeout=30
    ).json()
    return answer


def _fills(url: str, clients: list[Client]) -> int:
    total = 0
    for client in clients:
        result = _private(url, client, "TradesHistory")["result"]
        assert isinstance(result, dict)
        total += int(result["count"])
    return total


def _cancel_all(url: str, clients: list[Client]) -> None:
    for client in clients:
        _private(url, client, "CancelAll")


# --- transports -----------------------------------------------------------------------------


async def rest_orders(url: str, clients: list[Client], plans: list[list[Order]]) -> Round:
    """Signed AddOrder calls over REST, one keep-alive connection per client."""
    latencies: list[float] = []

    async def one_client(http: httpx.AsyncClient, client: Client, plan: list[Order]) -> int:
        errors = 0
        for order in plan:
            body, headers = client.signed(ADD_ORDER, order.params)
            started = time.perf_counter()
            response = await http.post(ADD_ORDER, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or response.json().get("error"):
                errors += 1
        return errors

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    https = [httpx.AsyncClient(base_url=url, timeout=30, limits=limits) for _ in clients]
    try:
        # Warm up: one validate-only order per client opens its connection.
        for http, client in zip(https, clients, strict=True):
            params = {**plans[0][0].params, "validate": "true"}
            body, headers = client.signed(ADD_ORDER, params)
            (await http.post(ADD_ORDER, content=body, headers=headers)).raise_for_status()
        started = time.perf_counter()
        errors = await asyncio.gather(
            *(one_client(h, c, p) for h, c, p in zip(https, clients, plans, strict=True))
        )
        seconds = time.perf_counter() - started
    finally:
        for http in https:
            await http.aclose()
    return Round(latencies, seconds, sum(errors))


def _ws_params(params: dict[str, str]) -> dict[str, object]:
    """An AddOrder's REST parameters in WebSocket v2's ``add_order`` names (numbers as JSON
    numbers, as Kraken's v2 takes them)."""
    assert params["pair"] == PAIR
    out: dict[str, object] = {
        "symbol": WS_SYMBOL,
        "side": params["type"],
        "order_type": params["ordertype"],
        "order_qty": float(params["volume"]),
    }
    if "price" in params:
        out["limit_price"] = float(params["price"])
    return out


async def _ws_token(http: httpx.AsyncClient, client: Client) -> str:
    body, headers = client.signed(WS_AUTH, {})
    response = await http.post(WS_AUTH, content=body, headers=headers)
    response.raise_for_status()
    answer = response.json()
    if answer["error"]:
        raise SystemExit(f"GetWebSocketsToken refused: {answer['error']}")
    return str(answer["result"]["token"])


async def _ws_reply(ws: ClientConnection, req_id: int) -> dict[str, Any]:
    """The response to ``req_id``; heartbeats (and anything else) in between are skipped."""
    while True:
        message: dict[str, Any] = json.loads(await ws.recv())
        if message.get("req_id") == req_id:
            return message


async def ws_orders(url: str, clients: list[Client], plans: list[list[Order]]) -> Round:
    """WebSocket v2 ``add_order`` requests, one ``/v2`` connection and token per client."""
    latencies: list[float] = []

    async def one_client(ws: ClientConnection, token: str, plan: list[Order]) -> int:
        errors = 0
        for req_id, order in enumerate(plan, start=1):
            params = {**_ws_params(order.params), "token": token}
            text = json.dumps({"method": "add_order", "params": params, "req_id": req_id})
            started = time.perf_counter()
            await ws.send(text)
            answer = await _ws_reply(ws, req_id)
            latencies.append(time.perf_counter() - started)
            if answer.get("success") is not True:
                errors += 1
        return errors

    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
        tokens = [await _ws_token(http, client) for client in clients]
        endpoint = url.replace("http://", "ws://", 1) + "/v2"
        sockets = [await stack.enter_async_context(connect(endpoint)) for _ in clients]
        # Warm up: one validate-only order per connection.
        for ws, token in zip(sockets, tokens, strict=True):
            params = {**_ws_params(plans[0][0].params), "token": token, "validate": True}
            await ws.send(json.dumps({"method": "add_order", "params": params, "req_id": 0}))
            answer = await _ws_reply(ws, 0)
            if answer.get("success") is not True:
                raise SystemExit(f"the validate-only add_order was refused: {answer}")
        started = time.perf_counter()
        errors = await asyncio.gather(
            *(one_client(w, t, p) for w, t, p in zip(sockets, tokens, plans, strict=True))
        )
        seconds = time.perf_counter() - started
    return Round(latencies, seconds, sum(errors))


TRANSPORTS: dict[str, Transport] = {"REST": rest_orders, "WS": ws_orders}


# --- the table ------------------------------------------------------------------------------


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", default="1,4,16", help="client counts, comma-separated")
    parser.add_argument("--orders", type=int, default=300, help="orders per client")
    parser.add_argument("--marketable", type=float, default=0.5, help="share of market orders")
    parser.add_argument("--speed", type=float, default=1.0, help="the synthetic market's speed")
    args = parser.parse_args()
    levels = [int(n) for n in args.clients.split(",")]
    if not levels or min(levels) < 1 or args.orders < 1 or not 0 <= args.marketable <= 1:
        raise SystemExit("--clients and --orders must be positive, --marketable in [0, 1]")

    with emulator(args.speed) as (url, server):
        table = Table(
            title=f"Kraken emulator: {args.orders} orders per client, {PAIR}, "
            f"{args.marketable:.0%} marketable, rate limits off, loopback"
        )
        columns = ("transport", "clients", "orders", "seconds", "orders/s", "p50 ms", "p99 ms")
        for column in (*columns, "fills", "errors", "server CPU ms/order"):
            table.add_column(column, justify="left" if column == "transport" else "right")
        for (name, transport), count in itertools.product(TRANSPORTS.items(), levels):
            clients = _accounts(url, count)
            plans = _plan(url, count, args.orders, args.marketable)
            cpu = server.cpu_times()
            result = asyncio.run(transport(url, clients, plans))
            after = server.cpu_times()
            server_cpu = (after.user + after.system) - (cpu.user + cpu.system)
            fills = _fills(url, clients)
            _cancel_all(url, clients)  # the next round starts on the market's own book
            ordered = sorted(result.latencies)
            table.add_row(
                name,
                f"{count}",
                f"{len(ordered):,}",
                f"{result.seconds:.2f}",
                f"{len(ordered) / result.seconds:,.0f}",
                f"{statistics.median(ordered) * 1000:.2f}",
                f"{_percentile(ordered, 0.99) * 1000:.2f}",
                f"{fills:,}",
                f"{result.errors:,}",
                f"{server_cpu * 1000 / len(ordered):.2f}",
            )
    console = Console() if sys.stdout.isatty() else Console(width=120)
    console.print(table)


if __name__ == "__main__":
    main()
