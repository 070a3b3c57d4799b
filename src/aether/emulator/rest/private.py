"""Kraken's private REST methods (``POST /0/private/<Method>``), answered by the exchange
core for the account whose key signed the request (authentication happens in
:mod:`aether.emulator.app`): the trading methods here, the account reads in :mod:`.account`.

Each handler takes the runtime, the caller's API key and the request's parameters and
returns the ``result`` object, or raises :class:`~aether.emulator.exchange.errors.ExchangeError`.
``EditOrder`` is implemented (cancel and replace, as Kraken's EditOrder is), and so is
``AmendOrder`` (in place, :meth:`~aether.emulator.exchange.matching.Exchange.amend`).

Every call is charged to its key's REST call counter, and order entry to the account's
per-pair trading counter (:mod:`aether.emulator.rate_limits`), unless the runtime runs with
rate limits off.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from aether.domain.money import round_to_step
from aether.emulator.exchange.errors import (
    INSUFFICIENT_FUNDS,
    INVALID_PRICE,
    UNKNOWN_ASSET_PAIR,
    UNKNOWN_ORDER,
    ExchangeError,
    invalid_argument,
)
from aether.emulator.exchange.orders import (
    LIMIT_AFTER_TRIGGER,
    OrderInfo,
    OrderRequest,
    OrderStatus,
    OrderType,
    new_txid,
)
from aether.emulator.exchange.validation import is_plain_number
from aether.emulator.kraken_format import iso_time
from aether.emulator.rate_limits import (
    Cost,
    Transaction,
    batch_add_cost,
    batch_cancel_cost,
    transaction_cost,
)
from aether.emulator.rest.account import ACCOUNT_METHODS, PrivateHandler
from aether.emulator.rest.orders import order_request
from aether.emulator.rest.protocol import Params, json_list, opt_bool, opt_int, opt_str, opt_userref
from aether.emulator.rest.trade_volume import trade_volume
from aether.emulator.runtime import EmulatorRuntime

__all__ = ["PRIVATE_METHODS"]

NS = 1_000_000_000
BATCH_SIZES = range(2, 16)


# --- the trading counter (rate_limits) ---------------------------------------------------


def _now_s(runtime: EmulatorRuntime) -> float:
    return runtime.now_ns() / NS


def _named_pair(runtime: EmulatorRuntime, params: Params) -> str | None:
    """The tradable pair a ``pair`` parameter names, or None (the handler refuses it)."""
    name = params.get("pair")
    pair = runtime.catalogue.find(name) if isinstance(name, str) and name else None
    return pair.altname if pair is not None and pair.tradable else None


def _open_by_ref(runtime: EmulatorRuntime, key: str, ref: str | int) -> list[OrderInfo]:
    """The open orders a cancel or amend names (txid, cl_ord_id, or an int userref)."""
    orders = runtime.exchange.open_orders(key)
    if isinstance(ref, int):
        return [o for o in orders if o.userref == ref]
    return [o for o in orders if ref in (o.txid, o.cl_ord_id)]


def _age(runtime: EmulatorRuntime, key: str, order: OrderInfo, now: float) -> float:
    return runtime.rate_limits.order_age(key, order.txid, order.opentm_ns / NS, now)


def _cancel_costs(
    runtime: EmulatorRuntime, key: str, orders: Iterable[OrderInfo], now: float
) -> dict[str, Cost]:
    ages: dict[str, list[float]] = {}
    for order in orders:
        ages.setdefault(order.pair, []).append(_age(runtime, key, order, now))
    return {pair: batch_cancel_cost(pair_ages) for pair, pair_ages in ages.items()}


def _admit(
    runtime: EmulatorRuntime, key: str, costs: dict[str, Cost], now: float, *, batch: bool = False
) -> None:
    for pair, cost in costs.items():
        runtime.rate_limits.admit(key, pair, cost, now, batch=batch)


def _charge(runtime: EmulatorRuntime, key: str, costs: dict[str, Cost], now: float) -> None:
    for pair, cost in costs.items():
        runtime.rate_limits.charge(key, pair, cost.decaying, now)


def add_order(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    pair = _named_pair(runtime, params)
    if pair is not None:
        _admit(runtime, key, {pair: transaction_cost(Transaction.ADD)}, _now_s(runtime))
    request = order_request(runtime.catalogue, params)
    placed = runtime.exchange.place(key, request, runtime.now_ns())
    if placed.txid is None:  # validate: checked, not placed
        return {"descr": {"order": placed.descr_order}}
    return {"descr": {"order": placed.descr_order}, "txid": [placed.txid]}


def _batch_params(order: object) -> dict[str, str]:
    if not isinstance(order, dict):
        raise invalid_argument("orders")
    flat: dict[str, str] = {}
    for name, value in order.items():
        if isinstance(value, bool):
            flat[str(name)] = "true" if value else "false"
        elif isinstance(value, str | int):
            flat[str(name)] = str(value)
        elif isinstance(value, float):
            flat[str(name)] = repr(value)
        else:
            raise invalid_argument("orders")
    return flat


def add_order_batch(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    """Kraken's rules: 2 to 15 orders on one pair; the whole batch is validated first (any
    failure refuses it all); funding is checked per order as each is placed."""
    orders = json_list(opt_str(params, "orders") or "", "orders")
    named = _named_pair(runtime, params)
    if named is not None:
        _admit(runtime, key, {named: batch_add_cost(len(orders))}, _now_s(runtime))
    if len(orders) not in BATCH_SIZES:
        raise invalid_argument("orders")
    pair, validate = opt_str(params, "pair"), opt_bool(params, "validate")
    requests = [
        order_request(runtime.catalogue, {**_batch_params(o), "pair": pair or ""}) for o in orders
    ]
    now = runtime.now_ns()
    descrs: list[dict[str, Any]] = []
    for request in requests:
        try:
            checked = runtime.exchange.place(key, dataclasses.replace(request, validate=True), now)
            descrs.append({"descr": {"order": checked.descr_order}})
        except ExchangeError as exc:
            if exc.kraken_error != INSUFFICIENT_FUNDS:
                raise
            descrs.append({"error": exc.kraken_error})
    if validate:
        return {"orders": descrs}
    placed: list[dict[str, Any]] = []
    for request in requests:
        try:
            result = runtime.exchange.place(key, dataclasses.replace(request, validate=False), now)
            placed.append({"descr": {"order": result.descr_order}, "txid": result.txid})
        except ExchangeError as exc:
            placed.append({"error": exc.kraken_error})
    return {"orders": placed}


def cancel_order(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    cl_ord_id, txid = opt_str(params, "cl_ord_id"), opt_str(params, "txid")
    ref: str | int
    if cl_ord_id:
        ref = cl_ord_id
    elif txid:
        digits = txid[1:] if txid.startswith("-") else txid
        ref = int(txid) if digits.isascii() and digits.isdigit() and len(digits) < 20 else txid
    else:
        raise invalid_argument("txid")
    targets, now = _open_by_ref(runtime, key, ref), _now_s(runtime)
    costs = _cancel_costs(runtime, key, targets, now)
    _admit(runtime, key, costs, now, batch=len(targets) > 1)  # a userref may name many
    count = runtime.exchange.cancel(key, ref, runtime.now_ns())
    _charge(runtime, key, costs, now)
    return {"count": count}


def cancel_all(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    now = _now_s(runtime)
    costs = _cancel_costs(runtime, key, runtime.exchange.open_orders(key), now)
    _admit(runtime, key, costs, now, batch=True)  # as a batch cancel: never refused
    count = runtime.exchange.cancel_all(key, runtime.now_ns())
    _charge(runtime, key, costs, now)
    return {"count": count}


def cancel_all_orders_after(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    timeout = opt_int(params, "timeout", low=0, high=2**31)
    if timeout is None:
        raise invalid_argument("timeout")
    switch = runtime.exchange.cancel_all_after(key, timeout, runtime.now_ns())
    return {
        "currentTime": iso_time(switch.current_ns),
        "triggerTime": iso_time(switch.trigger_ns) if switch.trigger_ns else "0",
    }


def _edit_request(original: OrderInfo, pair: str, params: Params) -> tuple[OrderRequest, Decimal]:
    text = opt_str(params, "volume")
    if text is not None and not is_plain_number(text):
        raise invalid_argument("volume")
    total = Decimal(text) if text else original.volume
    remaining = total - original.vol_exec
    if remaining <= 0:
        raise invalid_argument("volume")  # Kraken: not below what already executed
    second = original.ordertype in LIMIT_AFTER_TRIGGER
    expiretm = None
    if original.expiretm_ns:
        expiretm = f"{Decimal(original.expiretm_ns) / NS:f}"
    userref = opt_userref(params)
    request = OrderRequest(
        pair=pair,
        side=original.side.value,
        ordertype=original.ordertype.value,
        volume=remaining,
        price=opt_str(params, "price") or original.descr_price,
        price2=(opt_str(params, "price2") or original.descr_price2) if second else None,
        oflags=opt_str(params, "oflags") or ",".join(original.oflags),
        timeinforce=original.timeinforce.value,
        expiretm=expiretm,
        userref=userref if userref is not None else original.userref,
        validate=True,
    )
    return request, total


def edit_order(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    """Cancel and replace (Kraken's EditOrder): the new order gets a new txid, no queue
    priority and no cl_ord_id; triggered stop/take-profit orders cannot be edited. The new
    order is checked before the original is cancelled, with the original's hold still in
    place, so an edit needing those very funds is refused (Kraken would accept it)."""
    txid = opt_str(params, "txid")
    if not txid:
        raise invalid_argument("txid")
    pair = order_request_pair(runtime, params)
    original = runtime.exchange.query_orders(key, [txid])[0]
    is_open, now_s = original.status is OrderStatus.OPEN, _now_s(runtime)
    age = _age(runtime, key, original, now_s) if is_open else None
    costs = {original.pair: transaction_cost(Transaction.EDIT, age)}
    _admit(runtime, key, costs, now_s)
    if not is_open:
        raise ExchangeError(UNKNOWN_ORDER)
    if original.pair != pair:
        raise invalid_argument("pair")
    if original.ordertype is OrderType.MARKET or {"stopped", "touched"} & set(original.misc):
        raise invalid_argument("txid")
    request, total = _edit_request(original, pair, params)
    now = runtime.now_ns()
    checked = runtime.exchange.place(key, request, now)
    answer: dict[str, Any] = {
        "status": "ok",
        "descr": {"order": checked.descr_order},
        "volume": f"{total:f}",
        "price": str(request.price),
        "price2": str(request.price2 or "0"),
        "orders_cancelled": 0,
    }
    if opt_bool(params, "validate"):
        return answer
    cancelled = runtime.exchange.cancel(key, txid, now)
    placed = runtime.exchange.place(key, dataclasses.replace(request, validate=False), now)
    _charge(runtime, key, costs, now_s)
    return {**answer, "txid": placed.txid, "originaltxid": txid, "orders_cancelled": cancelled}


def _amend_price(runtime: EmulatorRuntime, params: Params, name: str, pair: str) -> Decimal | None:
    """An absolute price, or ``+``/``-`` an amount (``%`` suffix: percent) of the pair's last
    trade, rounded to the tick, as AddOrder's relative prices are."""
    text = opt_str(params, name)
    if text is None or text == "":
        return None
    if text[:1] not in ("+", "-"):
        if not is_plain_number(text):
            raise invalid_argument(name)
        return Decimal(text)
    body, percent = (text[1:-1], True) if text.endswith("%") else (text[1:], False)
    if not is_plain_number(body):
        raise invalid_argument(name)
    last = runtime.exchange.last_price(pair)
    if last is None:
        raise ExchangeError(INVALID_PRICE)
    amount = last * Decimal(body) / 100 if percent else Decimal(body)
    price = last + amount if text[0] == "+" else last - amount
    return round_to_step(price, runtime.exchange.pairs[pair].tick_size)


def amend_order(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    """Kraken's atomic amend, in place: ``txid`` or ``cl_ord_id``; ``order_qty`` (the new
    total), ``limit_price``, ``trigger_price``, ``post_only``; ``deadline`` is accepted and
    ignored (the emulator answers at once), ``display_qty`` is refused (no icebergs)."""
    txid, cl_ord_id = opt_str(params, "txid"), opt_str(params, "cl_ord_id")
    ref = txid or cl_ord_id
    if not ref:
        raise invalid_argument("txid")
    if opt_str(params, "display_qty"):
        raise invalid_argument("display_qty")
    opt_str(params, "deadline")
    post_only = opt_bool(params, "post_only")
    targets, now_s = _open_by_ref(runtime, key, ref), _now_s(runtime)
    if not targets:
        raise ExchangeError(UNKNOWN_ORDER)
    target = targets[0]
    costs = {target.pair: transaction_cost(Transaction.AMEND, _age(runtime, key, target, now_s))}
    _admit(runtime, key, costs, now_s)
    qty_text = opt_str(params, "order_qty")
    if qty_text is not None and qty_text != "" and not is_plain_number(qty_text):
        raise invalid_argument("order_qty")
    result = runtime.exchange.amend(
        key,
        ref,
        runtime.now_ns(),
        order_qty=Decimal(qty_text) if qty_text else None,
        limit_price=_amend_price(runtime, params, "limit_price", target.pair),
        trigger_price=_amend_price(runtime, params, "trigger_price", target.pair),
        post_only=post_only,
    )
    _charge(runtime, key, costs, now_s)
    runtime.rate_limits.note_amended(key, result.order.txid, now_s)
    return {"amend_id": new_txid("T")}


def order_request_pair(runtime: EmulatorRuntime, params: Params) -> str:
    name = opt_str(params, "pair")
    if not name:
        raise invalid_argument("pair")
    pair = runtime.catalogue.find(name)
    if pair is None or not pair.tradable:
        raise ExchangeError(UNKNOWN_ASSET_PAIR)
    return pair.altname


def get_websockets_token(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    token, expires = runtime.issue_ws_token(key)
    return {"token": token, "expires": expires}


def _counted(method: str, handler: PrivateHandler) -> PrivateHandler:
    """``handler`` behind the key's REST call counter (``EAPI:Rate limit exceeded``)."""

    def call(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
        runtime.rate_limits.charge_rest(key, method, _now_s(runtime))
        return handler(runtime, key, params)

    return call


_HANDLERS: dict[str, PrivateHandler] = {
    **ACCOUNT_METHODS,
    "AddOrder": add_order,
    "AddOrderBatch": add_order_batch,
    "CancelOrder": cancel_order,
    "CancelAll": cancel_all,
    "CancelAllOrdersAfter": cancel_all_orders_after,
    "EditOrder": edit_order,
    "AmendOrder": amend_order,
    "GetWebSocketsToken": get_websockets_token,
    "TradeVolume": trade_volume,
}
PRIVATE_METHODS: dict[str, PrivateHandler] = {
    method: _counted(method, handler) for method, handler in _HANDLERS.items()
}
