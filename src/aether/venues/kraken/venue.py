"""KrakenVenue: the ``Venue`` protocol for live trading on Kraken spot, over WebSocket v2.

Rules a caller must know:

* ``start()`` on the running event loop before the first command. ``submit`` and ``cancel``
  never block: they schedule ``add_order`` / ``cancel_order`` on that loop (from another
  thread too) and what Kraken did arrives later through ``poll``.
* Events come from the ``executions`` channel in the order received: ``new`` is
  ``OrderAccepted``, ``trade`` is ``OrderFilled``, ``canceled`` is ``OrderCancelled`` (with
  Kraken's reason), ``expired`` is ``OrderExpired``; a refused ``add_order`` is
  ``OrderRejected`` with Kraken's error string as the reason. A refused cancel is an
  ``OrderRejected`` for an order already accepted or finished (the engine ignores it then).
* Fills carry Kraken's ``exec_id`` as ``trade_id`` and are reported once per id, so the
  executions snapshot after a reconnect (open orders, last 50 fills) adds only what was
  missed. Orders open here but absent from that snapshot, and orders whose ``add_order``
  got no answer, are looked up over REST by ``cl_ord_id``.
* ``start_dead_man(timeout_s)`` keeps Kraken's ``cancel_all_orders_after`` armed while the
  engine polls: if polling stops for ``timeout_s``, refreshes stop and Kraken cancels every
  open order of the key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aether.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)
from aether.domain.executions import Fill, Liquidity
from aether.domain.orders import OrderRequest, OrderType, Side, TimeInForce
from aether.ops.tasks import stop_task
from aether.venues.kraken.errors import KrakenError
from aether.venues.kraken.symbols import V2_ASSET_NAMES, SymbolMap, UnknownSymbolError
from aether.venues.kraken.symbols import shipped_symbols as _shipped_symbols
from aether.venues.kraken.timestamps import ns_rfc3339, rfc3339_ns
from aether.venues.kraken.ws_private import ConnectionLost, KrakenPrivateSession, RequestTimeout

__all__ = ["KrakenVenue", "order_params", "rfc3339_ns"]

log = logging.getLogger(__name__)

_REST_ASSET = {v2: rest for rest, v2 in V2_ASSET_NAMES.items()}  # BTC -> XBT
_TRIGGERED = {OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT}
_TRIGGERED |= {OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT}
_PRICED = {OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT}
NOT_FOUND = "EOrder:Unknown order: no answer to add_order and not found at Kraken"


def order_params(request: OrderRequest, symbols: SymbolMap) -> dict[str, Any]:
    """An ``add_order``'s params (without the token) for ``request``; raises
    UnknownSymbolError for a pair the map does not know."""
    params: dict[str, Any] = {
        "order_type": request.type.value,
        "side": request.side.value,
        "order_qty": request.quantity,
        "symbol": symbols.by_altname(request.symbol).ws_symbol,
        "cl_ord_id": request.cl_ord_id,
        "time_in_force": request.time_in_force.value.lower(),
    }
    if request.type in _PRICED and request.price is not None:
        params["limit_price"] = request.price
    if request.type in _TRIGGERED and request.trigger_price is not None:
        params["triggers"] = {"reference": "last", "price": request.trigger_price}
    if request.type is OrderType.TRAILING_STOP and request.trailing_offset is not None:
        params["triggers"] = {
            "reference": "last",
            "price": request.trailing_offset,
            "price_type": "quote",
        }
    if request.time_in_force is TimeInForce.GTD and request.expire_at_ns is not None:
        params["expire_time"] = ns_rfc3339(request.expire_at_ns)
    if request.post_only:
        params["post_only"] = True
    return params  # reduce_only is a margin flag on Kraken: spot orders do not send it


@dataclass(slots=True)
class _Tracked:
    request: OrderRequest
    order_id: str | None = None
    accepted: bool = False
    closed: bool = False
    unknown: bool = False  # add_order's answer was lost: look the order up
    in_flight: bool = True  # add_order sent (or waiting to be), no answer yet
    cancel_wanted: bool = False  # a cancel Kraken refused before it knew the order


class KrakenVenue:
    """Live trading for one API key through its private WebSocket session."""

    name = "kraken"

    def __init__(
        self,
        session: KrakenPrivateSession,
        *,
        symbols: SymbolMap | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.session = session
        self.symbols = symbols or _shipped_symbols()
        self.clock = clock
        session.on_executions = self._on_executions
        self._events: deque[VenueEvent] = deque()
        self._orders: dict[str, _Tracked] = {}
        self._by_order_id: dict[str, str] = {}
        self._seen_trades: set[str] = set()
        self.replayed_fills = 0  # fills Kraken sent again (snapshots) and were not repeated
        self._tasks: set[asyncio.Future[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dead_man: asyncio.Task[None] | None = None
        self._last_poll = time.monotonic()

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        """Connect and wait for the first executions snapshot."""
        self._loop = asyncio.get_running_loop()
        self.session.start()
        await self.session.wait_ready()

    async def stop(self) -> None:
        await self.stop_dead_man(disarm=False)
        for task in list(self._tasks):
            task.cancel()
        await self.session.stop()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        loop = self._loop
        if loop is None:
            work.close()
            raise RuntimeError("KrakenVenue.start() must run before the first command")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        task: asyncio.Future[Any]
        if running is loop:
            task = loop.create_task(work)
        else:
            task = asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, loop), loop=loop)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- Venue ----------------------------------------------------------------------------
    def submit(self, request: OrderRequest, now_ns: int) -> None:
        cl_ord_id = request.cl_ord_id
        try:
            params = order_params(request, self.symbols)
        except UnknownSymbolError as exc:
            self._events.append(OrderRejected(cl_ord_id, str(exc), now_ns))
            return
        duplicate = cl_ord_id in self._orders
        if not duplicate:
            self._orders[cl_ord_id] = _Tracked(request)
        self._spawn(self._add(cl_ord_id, params, duplicate))

    def cancel(self, cl_ord_id: str, now_ns: int) -> None:
        self._spawn(self._cancel(cl_ord_id))

    def poll(self) -> list[VenueEvent]:
        self._last_poll = time.monotonic()
        events: list[VenueEvent] = []
        while self._events:
            events.append(self._events.popleft())
        return events

    @property
    def balances(self) -> dict[str, Decimal]:
        """The key's balances as the ``balances`` channel last reported (v2 asset names)."""
        return dict(self.session.balances)

    # --- commands -------------------------------------------------------------------------
    async def _add(self, cl_ord_id: str, params: dict[str, Any], duplicate: bool) -> None:
        tracked = None if duplicate else self._orders.get(cl_ord_id)
        try:
            result = await self.session.add_order(params)
        except KrakenError as exc:
            if tracked is not None:
                tracked.closed = True
            self._events.append(OrderRejected(cl_ord_id, exc.message, self.clock()))
            return
        except (ConnectionLost, RequestTimeout):
            if tracked is not None:
                tracked.unknown = True
                tracked.in_flight = False
                await self._reconcile(cl_ord_id)
            return
        finally:
            if tracked is not None:
                tracked.in_flight = False
        order_id = result.get("order_id") if isinstance(result, dict) else None
        if tracked is not None and isinstance(order_id, str):
            tracked.order_id = order_id
            self._by_order_id[order_id] = cl_ord_id

    async def _cancel(self, cl_ord_id: str) -> None:
        try:
            await self.session.cancel_order(cl_ord_id=[cl_ord_id])
        except KrakenError as exc:
            tracked = self._orders.get(cl_ord_id)
            if tracked is None or tracked.accepted or tracked.closed:
                self._events.append(OrderRejected(cl_ord_id, exc.message, self.clock()))
            else:  # sent before Kraken knew the order: again once it is reported
                tracked.cancel_wanted = True
        except (ConnectionLost, RequestTimeout):
            log.warning("cancel %s: no answer; the executions channel will tell", cl_ord_id)

    # --- reconciliation -----------------------------------------------------------------
    async def _reconcile(self, cl_ord_id: str) -> None:
        """Settle an order whose state was missed, from Kraken's REST order lists."""
        with contextlib.suppress(TimeoutError):
            await self.session.wait_ready(timeout=60.0)
        rest = self.session.rest
        try:
            opened = await rest.private("OpenOrders", {"cl_ord_id": cl_ord_id})
            closed = await rest.private("ClosedOrders", {"cl_ord_id": cl_ord_id})
        except Exception:
            log.exception("reconcile %s: REST lookup failed", cl_ord_id)
            return
        tracked = self._orders.get(cl_ord_id)
        if tracked is None or tracked.closed or tracked.in_flight:
            return  # settled meanwhile, or sent again and answered by its own add_order
        tracked.unknown = False
        now = self.clock()
        for txid, order in (opened.get("open") or {}).items():
            if order.get("cl_ord_id") == cl_ord_id:
                self._by_order_id[str(txid)] = cl_ord_id
                self._accept(tracked, cl_ord_id, now)
                return
        for txid, order in (closed.get("closed") or {}).items():
            if order.get("cl_ord_id") != cl_ord_id:
                continue
            self._by_order_id[str(txid)] = cl_ord_id
            self._accept(tracked, cl_ord_id, now)
            status = order.get("status")
            tracked.closed = True
            if status == "canceled":
                self._events.append(OrderCancelled(cl_ord_id, order.get("reason") or "", now))
            elif status == "expired":
                self._events.append(OrderExpired(cl_ord_id, now))
            return  # "closed": filled; its fills come with the executions snapshot
        if not tracked.accepted:
            tracked.closed = True
            self._events.append(OrderRejected(cl_ord_id, NOT_FOUND, now))

    def _accept(self, tracked: _Tracked, cl_ord_id: str, ts_ns: int) -> None:
        if tracked.accepted:
            return
        tracked.accepted = True
        self._events.append(OrderAccepted(cl_ord_id, ts_ns))
        if tracked.cancel_wanted:
            tracked.cancel_wanted = False
            self._spawn(self._cancel(cl_ord_id))

    # --- executions ---------------------------------------------------------------------
    def _on_executions(self, kind: str, entries: list[dict[str, Any]]) -> None:
        open_now: set[str] = set()  # in a snapshot, "new" entries are the open orders
        for entry in entries:
            cl_ord_id = self._cl_ord_id(entry)
            if cl_ord_id is None:
                continue  # not placed through this venue
            if entry.get("exec_type") == "new":
                open_now.add(cl_ord_id)
            self._on_entry(cl_ord_id, entry)
        if kind == "snapshot":
            for cl_ord_id, tracked in list(self._orders.items()):
                if not tracked.closed and not tracked.in_flight and cl_ord_id not in open_now:
                    tracked.unknown = True
                    self._spawn(self._reconcile(cl_ord_id))

    def _cl_ord_id(self, entry: dict[str, Any]) -> str | None:
        order_id = entry.get("order_id")
        cl_ord_id = entry.get("cl_ord_id")
        if isinstance(cl_ord_id, str) and cl_ord_id in self._orders:
            if isinstance(order_id, str):
                self._by_order_id.setdefault(order_id, cl_ord_id)
            return cl_ord_id
        return self._by_order_id.get(order_id) if isinstance(order_id, str) else None

    def _on_entry(self, cl_ord_id: str, entry: dict[str, Any]) -> None:
        tracked = self._orders[cl_ord_id]
        exec_type = entry.get("exec_type")
        stamp = entry.get("timestamp")
        ts = rfc3339_ns(stamp) if isinstance(stamp, str) else self.clock()
        if tracked.order_id is None and isinstance(entry.get("order_id"), str):
            tracked.order_id = entry["order_id"]
        if exec_type == "trade":
            fill = self._fill(cl_ord_id, entry, ts)
            if fill is not None:
                self._accept(tracked, cl_ord_id, ts)
                self._seen_trades.add(fill.trade_id)
                self._events.append(OrderFilled(fill))
        elif tracked.closed:
            return
        elif exec_type == "new":
            self._accept(tracked, cl_ord_id, ts)
        elif exec_type == "canceled":
            self._accept(tracked, cl_ord_id, ts)
            tracked.closed = True
            reason = entry.get("reason")
            self._events.append(OrderCancelled(cl_ord_id, str(reason or "canceled"), ts))
        elif exec_type == "expired":
            self._accept(tracked, cl_ord_id, ts)
            tracked.closed = True
            self._events.append(OrderExpired(cl_ord_id, ts))
        if exec_type == "filled" or entry.get("order_status") == "filled":
            tracked.closed = True

    def _fill(self, cl_ord_id: str, entry: dict[str, Any], ts: int) -> Fill | None:
        symbol = self.symbols.by_ws_symbol(str(entry["symbol"]))
        exec_id = entry.get("exec_id")
        trade_id = str(exec_id) if exec_id else f"{symbol.ws_symbol}:{entry.get('trade_id')}"
        if trade_id in self._seen_trades:
            self.replayed_fills += 1
            return None  # a replay (the snapshot after a reconnect)
        fees = [f for f in entry.get("fees") or [] if isinstance(f, dict)]
        fee = sum((Decimal(str(f.get("qty", 0))) for f in fees), Decimal(0))
        quote = symbol.wsname.split("/")[1]
        asset = str(fees[0].get("asset", quote)) if fees else quote
        liquidity = Liquidity.MAKER if entry.get("liquidity_ind") == "m" else Liquidity.TAKER
        return Fill(
            trade_id=trade_id,
            cl_ord_id=cl_ord_id,
            symbol=symbol.altname,
            side=Side(str(entry["side"])),
            quantity=Decimal(str(entry["last_qty"])),
            price=Decimal(str(entry["last_price"])),
            fee=fee,
            fee_currency=_REST_ASSET.get(asset, asset),
            liquidity=liquidity,
            ts_ns=ts,
        )

    # --- dead man's switch --------------------------------------------------------------
    async def refresh_dead_man(self, timeout_s: int) -> Any:
        """Arm (or re-arm) Kraken's cancel-all timer for ``timeout_s`` seconds (0 disarms)."""
        return await self.session.cancel_all_orders_after(timeout_s)

    def start_dead_man(self, timeout_s: int, every_s: float | None = None) -> None:
        """Refresh the switch every ``every_s`` (default a quarter of the timeout) while
        ``poll`` was called within ``timeout_s``; runs on the venue's loop."""
        if timeout_s <= 0:
            raise ValueError("the dead man's switch needs a positive timeout")
        interval = every_s if every_s is not None else timeout_s / 4
        if self._dead_man is None:
            self._dead_man = asyncio.get_running_loop().create_task(
                self._keep_alive(timeout_s, interval)
            )

    async def stop_dead_man(self, *, disarm: bool = True) -> None:
        """Stop refreshing; ``disarm`` also switches the timer off at Kraken."""
        task, self._dead_man = self._dead_man, None
        await stop_task(task)
        if disarm:
            await self.refresh_dead_man(0)

    async def _keep_alive(self, timeout_s: int, interval: float) -> None:
        while True:
            if time.monotonic() - self._last_poll < timeout_s:
                try:
                    await self.refresh_dead_man(timeout_s)
                except (KrakenError, ConnectionLost, RequestTimeout) as exc:
                    log.warning("dead man's switch refresh failed: %s", exc)
            await asyncio.sleep(interval)
