"""The trading methods of the emulator's WebSocket v2: ``add_order``, ``batch_add``,
``cancel_order``, ``batch_cancel``, ``cancel_all`` and ``cancel_all_orders_after``.

Each takes the request's ``params`` (with a ``token`` from GetWebSocketsToken) and returns
the ``result`` of one response, or a list of results for ``cancel_order`` (one response per
order named); refusals raise :class:`~aether.emulator.ws.protocol.WsError` with the exchange
core's Kraken error string. ``amend_order`` changes an open order in place (the exchange
core's amend); ``edit_order`` is not implemented and answers an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from aether.emulator.exchange.errors import INSUFFICIENT_FUNDS, ExchangeError
from aether.emulator.exchange.orders import OrderRequest, is_userref, new_txid
from aether.emulator.runtime import EmulatorRuntime
from aether.emulator.ws.private import account_for
from aether.emulator.ws.protocol import Symbols, WsError, rfc3339

__all__ = ["UNSUPPORTED_METHODS", "Trading"]

BATCH_SIZES = range(2, 16)
CANCEL_BATCH_SIZES = range(2, 51)
UNSUPPORTED_METHODS = ("edit_order",)
_TIF = {"gtc": "GTC", "ioc": "IOC", "gtd": "GTD"}
_FEE_FLAGS = {"base": "fcib", "quote": "fciq"}


def _invalid(name: str) -> WsError:
    return WsError(f"EGeneral:Invalid arguments:{name}")


def _number(params: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise _invalid(name)
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _invalid(name)
    return f"{value:f}" if isinstance(value, Decimal) else str(value)


def _decimal(params: dict[str, Any], name: str) -> Decimal | None:
    text = _number(params, name)
    return Decimal(text) if text is not None else None


def _string(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise _invalid(name)
    return value


def _bool(params: dict[str, Any], name: str) -> bool:
    value = params.get(name, False)
    if not isinstance(value, bool):
        raise _invalid(name)
    return value


def _trigger_price(triggers: object, trailing: bool) -> str:
    """A v2 ``triggers`` object as a REST ``price``: static, or an offset from the last
    trade in quote currency (``quote``) or percent (``pct``)."""
    if not isinstance(triggers, dict):
        raise _invalid("triggers")
    if triggers.get("reference", "last") != "last":
        raise _invalid("triggers.reference")  # the emulator has no index price
    price = _number(triggers, "price", required=True)
    kind = triggers.get("price_type", "static")
    if kind == "static" and not trailing:
        return str(price)
    if kind not in ("quote", "pct"):
        raise _invalid("triggers.price_type")
    assert price is not None
    sign = "+" if trailing or not price.startswith("-") else ""
    return f"{sign}{price.lstrip('+')}{'%' if kind == 'pct' else ''}"


class Trading:
    """The trading methods against one runtime."""

    def __init__(self, runtime: EmulatorRuntime, symbols: Symbols) -> None:
        self.runtime = runtime
        self.symbols = symbols

    def _request(self, params: dict[str, Any], symbol: object, validate: bool) -> OrderRequest:
        pair = self.symbols.pair(symbol)
        order_type = _string(params, "order_type") or ""
        side = _string(params, "side") or ""
        price = _number(params, "limit_price")
        price2 = None
        if "triggers" in params:
            price2 = price
            price = _trigger_price(params["triggers"], order_type.startswith("trailing"))
        tif = _string(params, "time_in_force") or "gtc"
        if tif not in _TIF:
            raise _invalid("time_in_force")
        flags = ["post"] if _bool(params, "post_only") else []
        fee = _string(params, "fee_preference")
        if fee is not None:
            if fee not in _FEE_FLAGS:
                raise _invalid("fee_preference")
            flags.append(_FEE_FLAGS[fee])
        if _bool(params, "no_mpp"):
            flags.append("nompp")
        userref = params.get("order_userref")
        if userref is not None and not is_userref(userref):
            raise _invalid("order_userref")
        return OrderRequest(
            pair=pair.altname,
            side=side,
            ordertype=order_type,
            volume=_number(params, "order_qty", required=True) or "",
            price=price,
            price2=price2,
            oflags=",".join(flags),
            timeinforce=_TIF[tif],
            expiretm=self._expiry(params),
            userref=userref,
            cl_ord_id=_string(params, "cl_ord_id"),
            stptype=(_string(params, "stp_type") or "cancel_newest").replace("_", "-"),
            validate=validate,
        )

    @staticmethod
    def _expiry(params: dict[str, Any]) -> str | None:
        text = _string(params, "expire_time")
        if text is None:
            return None
        if text.startswith("+"):
            return text
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid("expire_time") from None
        if when.tzinfo is None:
            raise _invalid("expire_time")
        return str(int(when.timestamp()))

    def _place(self, account: str, request: OrderRequest) -> dict[str, Any]:
        try:
            placed = self.runtime.exchange.place(account, request, self.runtime.now_ns())
        except ExchangeError as exc:
            raise WsError(exc.kraken_error) from None
        result: dict[str, Any] = {}
        if placed.txid is not None:
            result["order_id"] = placed.txid
        if request.cl_ord_id is not None:
            result["cl_ord_id"] = request.cl_ord_id
        if request.userref is not None:
            result["order_userref"] = request.userref
        return result

    # --- methods ------------------------------------------------------------------------

    def add_order(self, params: dict[str, Any]) -> Any:
        account = account_for(self.runtime, params)
        request = self._request(params, params.get("symbol"), _bool(params, "validate"))
        return self._place(account, request)

    def amend_order(self, params: dict[str, Any]) -> Any:
        """Change an open order (by ``order_id`` or ``cl_ord_id``) in place: its quantity,
        limit price or trigger price; the order keeps its id."""
        account = account_for(self.runtime, params)
        order_id, cl_ord_id = _string(params, "order_id"), _string(params, "cl_ord_id")
        ref = order_id or cl_ord_id
        if not ref:
            raise _invalid("order_id")
        try:
            amended = self.runtime.exchange.amend(
                account,
                ref,
                self.runtime.now_ns(),
                order_qty=_decimal(params, "order_qty"),
                limit_price=_decimal(params, "limit_price"),
                trigger_price=_decimal(params, "trigger_price"),
                post_only=_bool(params, "post_only"),
            )
        except ExchangeError as exc:
            raise WsError(exc.kraken_error) from None
        result: dict[str, Any] = {"amend_id": new_txid("T"), "order_id": amended.order.txid}
        if amended.order.cl_ord_id is not None:
            result["cl_ord_id"] = amended.order.cl_ord_id
        return result

    def batch_add(self, params: dict[str, Any]) -> Any:
        """2 to 15 orders on one symbol, all validated (funds too) before any is placed:
        one refusal refuses the batch."""
        account = account_for(self.runtime, params)
        orders = params.get("orders")
        if not isinstance(orders, list) or len(orders) not in BATCH_SIZES:
            raise _invalid("orders")
        if not all(isinstance(order, dict) for order in orders):
            raise _invalid("orders")
        symbol = params.get("symbol")
        requests = [self._request(order, symbol, True) for order in orders]
        for request in requests:
            self._place(account, request)
        if _bool(params, "validate"):
            return [{} for _ in requests]
        results: list[dict[str, Any]] = []
        for request in requests:
            try:
                results.append(self._place(account, dataclasses.replace(request, validate=False)))
            except WsError as exc:  # funds another order of the batch took
                if exc.error != INSUFFICIENT_FUNDS:
                    raise
                results.append({"error": exc.error})
        return results

    def cancel_order(self, params: dict[str, Any]) -> list[dict[str, Any] | WsError]:
        """One result (or error) per order named by ``order_id``, ``cl_ord_id`` or
        ``order_userref`` (each a list)."""
        account = account_for(self.runtime, params)
        refs: list[tuple[str, str | int]] = []
        for name in ("order_id", "cl_ord_id", "order_userref"):
            values = params.get(name)
            if values is None:
                continue
            if not isinstance(values, list) or not values:
                raise _invalid(name)
            for value in values:
                wanted = int if name == "order_userref" else str
                if isinstance(value, bool) or not isinstance(value, wanted):
                    raise _invalid(name)
                refs.append((name, value))
        if not refs:
            raise _invalid("order_id")
        answers: list[dict[str, Any] | WsError] = []
        for name, ref in refs:
            try:
                self.runtime.exchange.cancel(account, ref, self.runtime.now_ns())
                answers.append({name: ref})
            except ExchangeError as exc:
                answers.append(WsError(exc.kraken_error, **{name: ref}))
        return answers

    def batch_cancel(self, params: dict[str, Any]) -> Any:
        """2 to 50 order ids or cl_ord_ids; the count of orders cancelled."""
        account = account_for(self.runtime, params)
        orders = params.get("orders")
        if not isinstance(orders, list) or len(orders) not in CANCEL_BATCH_SIZES:
            raise _invalid("orders")
        if not all(isinstance(ref, str) for ref in orders):
            raise _invalid("orders")
        count = 0
        for ref in orders:
            try:
                count += self.runtime.exchange.cancel(account, ref, self.runtime.now_ns())
            except ExchangeError:
                continue
        return {"count": count}

    def cancel_all(self, params: dict[str, Any]) -> Any:
        account = account_for(self.runtime, params)
        return {"count": self.runtime.exchange.cancel_all(account, self.runtime.now_ns())}

    def cancel_all_orders_after(self, params: dict[str, Any]) -> Any:
        account = account_for(self.runtime, params)
        timeout = params.get("timeout")
        if isinstance(timeout, bool) or not isinstance(timeout, int):
            raise _invalid("timeout")
        try:
            switch = self.runtime.exchange.cancel_all_after(account, timeout, self.runtime.now_ns())
        except ExchangeError as exc:
            raise WsError(exc.kraken_error) from None
        return {
            "currentTime": rfc3339(switch.current_ns),
            "triggerTime": rfc3339(switch.trigger_ns) if switch.trigger_ns else "0",
        }

    def methods(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        return {
            "add_order": self.add_order,
            "amend_order": self.amend_order,
            "batch_add": self.batch_add,
            "batch_cancel": self.batch_cancel,
            "cancel_all": self.cancel_all,
            "cancel_all_orders_after": self.cancel_all_orders_after,
        }
