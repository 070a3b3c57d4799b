"""The order service's Kraken venue, over the REST client (``AddOrder``, ``CancelOrder``,
``AmendOrder``, ``OpenOrders``/``ClosedOrders`` by ``cl_ord_id``, ``BalanceEx``, ``Ticker``,
``TradesHistory``).

Rules a caller must know:

* It is built with one account's credentials and nonce store; it never reads a vault or
  settings itself (the composition root passes them in).
* ``submit`` relies on :meth:`KrakenRest.add_order`, which after a lost answer looks the order
  up by ``cl_ord_id`` before anything is resent; when even that look-up fails the outcome is
  :class:`VenueOutcomeUnknown`, never a second order.
* Balances are what is available (``balance - hold_trade``), found under Kraken's asset codes
  (``XXBT`` for ``XBT``, ``ZUSD`` for ``USD``; newer assets carry no prefix). ``balances``
  gives every asset under its plain name (``XBT``, ``USD``).
* The reconciliation reads (``open_orders``, ``query``, ``balances``) never change anything at
  the venue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from aether.domain.orders import OrderRequest, OrderType, TimeInForce
from aether.oms.errors import VenueUnavailable
from aether.oms.venue_port import (
    VenueBalance,
    VenueOpenOrder,
    VenueOrder,
    VenueOrderState,
    VenueOutcomeUnknown,
    VenueQuote,
    VenueRefused,
    VenueTrade,
)
from aether.venues.kraken.errors import KrakenError
from aether.venues.kraken.rest import KrakenRest, KrakenTransportError
from aether.venues.kraken.symbols import altname_for_pair_key

_NS = 1_000_000_000
_PAGE = 50  # TradesHistory's page size
_QUERY_BATCH = 50  # QueryOrders' most ids a call
_CLOSED_STATES = {
    "closed": VenueOrderState.FILLED,
    "canceled": VenueOrderState.CANCELLED,
    "expired": VenueOrderState.EXPIRED,
}
# Kraken's legacy asset codes carry an X (crypto) or Z (fiat) prefix; newer codes do not.
_PREFIXED_ASSETS = frozenset(
    {"XXBT", "XETH", "XLTC", "XXRP", "XXLM", "XXMR", "XZEC", "XETC", "XXDG", "XREP", "XMLN"}
    | {"ZUSD", "ZEUR", "ZGBP", "ZCAD", "ZJPY", "ZAUD"}
)
_TRIGGER_ONLY = {OrderType.STOP_LOSS, OrderType.TAKE_PROFIT}
_TRIGGER_AND_LIMIT = {OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT}


def _plain(value: Decimal) -> str:
    return f"{value:f}"


def add_order_params(request: OrderRequest) -> dict[str, str | int]:
    """AddOrder's form fields for ``request`` (Kraken's REST spelling)."""
    params: dict[str, str | int] = {
        "pair": request.symbol,
        "type": request.side.value,
        "ordertype": request.type.value,
        "volume": _plain(request.quantity),
        "timeinforce": request.time_in_force.value,
        "cl_ord_id": request.cl_ord_id,
    }
    if request.type is OrderType.LIMIT and request.price is not None:
        params["price"] = _plain(request.price)
    elif request.type in _TRIGGER_ONLY and request.trigger_price is not None:
        params["price"] = _plain(request.trigger_price)
    elif request.type in _TRIGGER_AND_LIMIT:
        if request.trigger_price is not None:
            params["price"] = _plain(request.trigger_price)
        if request.price is not None:
            params["price2"] = _plain(request.price)
    elif request.type is OrderType.TRAILING_STOP and request.trailing_offset is not None:
        params["price"] = "+" + _plain(request.trailing_offset)
    if request.time_in_force is TimeInForce.GTD and request.expire_at_ns is not None:
        params["expiretm"] = request.expire_at_ns // _NS
    if request.post_only:
        params["oflags"] = "post"
    return params


def _asset_codes(asset: str) -> tuple[str, ...]:
    return (asset, "X" + asset, "Z" + asset)


class KrakenOrderVenue:
    """One account's orders on Kraken (or the emulator) through its REST API."""

    name = "kraken"
    supports_amend = True

    def __init__(self, rest: KrakenRest) -> None:
        if rest.credentials is None:
            raise ValueError("the Kraken order venue needs the account's credentials")
        self.rest = rest

    async def aclose(self) -> None:
        await self.rest.aclose()

    async def submit(self, request: OrderRequest) -> str:
        try:
            result = await self.rest.add_order(add_order_params(request))
        except KrakenError as exc:
            raise VenueRefused(exc.message) from exc
        except KrakenTransportError as exc:
            # Every attempt went unanswered and each look-up found nothing: still, the last
            # request may land late, so the caller resolves by cl_ord_id before resending.
            raise VenueOutcomeUnknown(str(exc)) from exc
        except Exception as exc:  # the look-up after a lost answer failed: outcome unknown
            raise VenueOutcomeUnknown(f"{type(exc).__name__}: {exc}") from exc
        txids = result.get("txid") if isinstance(result, dict) else None
        if not txids:
            raise VenueOutcomeUnknown(f"AddOrder answered without a txid: {result!r}")
        return str(txids[0])

    async def cancel(self, cl_ord_id: str) -> bool:
        try:
            result = await self.rest.private("CancelOrder", {"cl_ord_id": cl_ord_id})
        except KrakenError as exc:
            if "Unknown order" in exc.message:
                return False
            raise VenueRefused(exc.message) from exc
        except KrakenTransportError as exc:
            raise VenueOutcomeUnknown(str(exc)) from exc
        return int(result.get("count", 0)) > 0

    async def amend(
        self,
        cl_ord_id: str,
        *,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> str:
        """AmendOrder in place: the order keeps its txid and, unless its limit price moves
        or its quantity grows, its queue priority. Kraken's refusals (a price on an order
        type without one, a trigger on a triggered order, off the tick) are VenueRefused."""
        try:
            answer = await self.rest.amend_order(
                cl_ord_id=cl_ord_id,
                order_qty=quantity,
                limit_price=price,
                trigger_price=trigger_price,
            )
        except KrakenError as exc:
            raise VenueRefused(exc.message) from exc
        except KrakenTransportError as exc:
            raise VenueOutcomeUnknown(str(exc)) from exc
        return answer.amend_id

    async def find(self, cl_ord_id: str) -> VenueOrder | None:
        try:
            opened = await self.rest.private("OpenOrders", {"cl_ord_id": cl_ord_id})
            for txid, order in (opened.get("open") or {}).items():
                if order.get("cl_ord_id") == cl_ord_id:
                    return VenueOrder(
                        str(txid), VenueOrderState.OPEN, Decimal(order.get("vol_exec", "0"))
                    )
            closed = await self.rest.private("ClosedOrders", {"cl_ord_id": cl_ord_id})
        except KrakenTransportError as exc:
            raise VenueOutcomeUnknown(str(exc)) from exc
        for txid, order in (closed.get("closed") or {}).items():
            if order.get("cl_ord_id") == cl_ord_id:
                state = _CLOSED_STATES.get(str(order.get("status")), VenueOrderState.FILLED)
                return VenueOrder(str(txid), state, Decimal(order.get("vol_exec", "0")))
        return None

    async def open_orders(self) -> list[VenueOpenOrder]:
        """Every order the account has open, with or without a ``cl_ord_id``."""
        try:
            opened = await self.rest.private("OpenOrders")
        except KrakenTransportError as exc:
            raise VenueOutcomeUnknown(str(exc)) from exc
        return [_open_order(str(txid), body) for txid, body in (opened.get("open") or {}).items()]

    async def query(self, venue_order_ids: Sequence[str]) -> dict[str, VenueOrder]:
        """The named orders the venue has, open or closed, by id; unknown ids are left out.

        QueryOrders takes 50 ids a call; one id it does not know refuses the whole call, so
        that batch is asked again one id at a time."""
        found: dict[str, VenueOrder] = {}
        ids = list(venue_order_ids)
        for first in range(0, len(ids), _QUERY_BATCH):
            batch = ids[first : first + _QUERY_BATCH]
            known = await self._query(batch)
            if known is None and len(batch) > 1:
                for txid in batch:
                    found.update(await self._query([txid]) or {})
            found.update(known or {})
        return found

    async def _query(self, txids: Sequence[str]) -> dict[str, VenueOrder] | None:
        """One QueryOrders call; None when the venue knows one of ``txids`` not."""
        try:
            result = await self.rest.private("QueryOrders", {"txid": ",".join(txids)})
        except KrakenError as exc:
            if "Invalid order" in exc.message or "Unknown order" in exc.message:
                return None
            raise VenueRefused(exc.message) from exc
        except KrakenTransportError as exc:
            raise VenueOutcomeUnknown(str(exc)) from exc
        orders: dict[str, VenueOrder] = {}
        for txid, body in (result or {}).items():
            status = str(body.get("status"))
            state = (
                VenueOrderState.OPEN
                if status in ("open", "pending")
                else _CLOSED_STATES.get(status, VenueOrderState.FILLED)
            )
            orders[str(txid)] = VenueOrder(str(txid), state, Decimal(str(body.get("vol_exec", 0))))
        return orders

    async def balances(self) -> Mapping[str, VenueBalance]:
        """Every asset of the account: total and held by open orders, under plain names."""
        raw: dict[str, Any] = await self.rest.private("BalanceEx")
        out: dict[str, VenueBalance] = {}
        for code, entry in raw.items():
            if isinstance(entry, dict):
                asset = code[1:] if code in _PREFIXED_ASSETS else code
                total = Decimal(str(entry["balance"]))
                out[asset] = VenueBalance(total, Decimal(str(entry.get("hold_trade", "0"))))
        return out

    async def available(self, assets: Iterable[str]) -> Mapping[str, Decimal]:
        balances: dict[str, Any] = await self._read("private", "BalanceEx")
        out: dict[str, Decimal] = {}
        for asset in assets:
            for code in _asset_codes(asset):
                entry = balances.get(code)
                if isinstance(entry, dict):
                    held = Decimal(str(entry.get("hold_trade", "0")))
                    out[asset] = Decimal(str(entry["balance"])) - held
                    break
        return out

    async def quote(self, symbol: str) -> VenueQuote:
        result: dict[str, Any] = await self._read("public", "Ticker", {"pair": symbol})
        ticker = next(iter(result.values()))
        return VenueQuote(
            bid=Decimal(str(ticker["b"][0])),
            ask=Decimal(str(ticker["a"][0])),
            last=Decimal(str(ticker["c"][0])),
        )

    async def _read(
        self, scope: str, method: str, params: Mapping[str, str | int] | None = None
    ) -> Any:
        """A read the risk check needs; a venue that refuses or does not answer it is
        :class:`VenueUnavailable` (a 502 to the API), never an internal error."""
        call = self.rest.private if scope == "private" else self.rest.public
        try:
            return await call(method, dict(params or {}))
        except (KrakenError, KrakenTransportError) as exc:
            raise VenueUnavailable(f"Kraken did not answer {method}: {exc}") from exc

    async def trades(self, since_ns: int) -> list[VenueTrade]:
        """The account's trades after ``since_ns`` (whole seconds), every page."""
        found: list[VenueTrade] = []
        offset = 0
        while True:
            params: dict[str, str | int] = {"start": since_ns // _NS, "ofs": offset}
            page = await self.rest.private("TradesHistory", params)
            trades: dict[str, Any] = page.get("trades") or {}
            found.extend(_trade(str(txid), body) for txid, body in trades.items())
            offset += len(trades)
            if not trades or offset >= int(page.get("count", 0)):
                return found


def _price(raw: object) -> Decimal | None:
    """A price of an order's ``descr``; Kraken writes ``0`` where there is none."""
    if raw in (None, ""):
        return None
    value = Decimal(str(raw).lstrip("+#"))
    return value if value > 0 else None


def _open_order(txid: str, body: Mapping[str, Any]) -> VenueOpenOrder:
    """One entry of OpenOrders, its prices placed as the order row keeps them."""
    descr: Mapping[str, Any] = body.get("descr") or {}
    kind = OrderType(str(descr["ordertype"]))
    first, second = _price(descr.get("price")), _price(descr.get("price2"))
    price = trigger = None
    if kind is OrderType.LIMIT:
        price = first
    elif kind in _TRIGGER_ONLY:
        trigger = first
    elif kind in _TRIGGER_AND_LIMIT:
        trigger, price = first, second
    expire = int(Decimal(str(body.get("expiretm") or 0)))
    return VenueOpenOrder(
        venue_order_id=txid,
        cl_ord_id=body.get("cl_ord_id") or None,
        symbol=str(descr["pair"]),
        side=str(descr["type"]),
        type=kind.value,
        quantity=Decimal(str(body["vol"])),
        price=price,
        trigger_price=trigger,
        time_in_force=str(body.get("timeinforce") or TimeInForce.GTC.value),
        expire_at_s=expire or None,
        post_only="post" in str(body.get("oflags", "")).split(","),
        filled_quantity=Decimal(str(body.get("vol_exec", "0"))),
        opened_at_ns=int(Decimal(str(body.get("opentm", 0))) * _NS),
    )


def _trade(txid: str, body: Mapping[str, Any]) -> VenueTrade:
    return VenueTrade(
        trade_id=txid,
        venue_order_id=str(body["ordertxid"]),
        symbol=altname_for_pair_key(str(body["pair"])),
        side=str(body["type"]),
        price=Decimal(str(body["price"])),
        quantity=Decimal(str(body["vol"])),
        fee=Decimal(str(body["fee"])),
        maker=bool(body.get("maker", False)),
        ts_ns=int(Decimal(str(body["time"])) * _NS),
    )
