"""Kraken's private REST methods that read an account: ``Balance``, ``BalanceEx``,
``OpenOrders``, ``ClosedOrders``, ``QueryOrders`` and ``TradesHistory`` (trading methods are
in :mod:`.private`, which serves these too). Each handler takes the runtime, the
caller's API key and the request's parameters and returns the ``result`` object."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aether.emulator.exchange.errors import invalid_argument
from aether.emulator.exchange.orders import OrderInfo
from aether.emulator.kraken_format import asset_code, asset_decimals, fmt
from aether.emulator.rest.orders import order_json, pair_of, trade_json
from aether.emulator.rest.protocol import Params, opt_bool, opt_int, opt_str, opt_userref
from aether.emulator.runtime import EmulatorRuntime

__all__ = ["ACCOUNT_METHODS", "PrivateHandler"]

NS = 1_000_000_000
PAGE = 50  # Kraken pages ClosedOrders and TradesHistory by 50
MAX_QUERY = 50

#: Every private method: (runtime, the caller's API key, parameters) -> ``result``.
PrivateHandler = Callable[[EmulatorRuntime, str, Params], Any]


def balance(runtime: EmulatorRuntime, key: str, params: Params) -> dict[str, str]:
    return {
        asset_code(asset): fmt(entry.balance, asset_decimals(asset))
        for asset, entry in runtime.exchange.balances(key).items()
    }


def balance_ex(runtime: EmulatorRuntime, key: str, params: Params) -> dict[str, Any]:
    return {
        asset_code(asset): {
            "balance": fmt(entry.balance, asset_decimals(asset)),
            "hold_trade": fmt(entry.hold_trade, asset_decimals(asset)),
        }
        for asset, entry in runtime.exchange.balances(key).items()
    }


def _filtered(orders: list[OrderInfo], params: Params) -> list[OrderInfo]:
    userref = opt_userref(params)
    cl_ord_id = opt_str(params, "cl_ord_id")
    if userref is not None:
        orders = [o for o in orders if o.userref == userref]
    if cl_ord_id:
        orders = [o for o in orders if o.cl_ord_id == cl_ord_id]
    return orders


def _orders_json(runtime: EmulatorRuntime, orders: Sequence[OrderInfo], params: Params) -> Any:
    with_trades = opt_bool(params, "trades")
    return {
        o.txid: order_json(o, pair_of(runtime.catalogue, o.pair), with_trades=with_trades)
        for o in orders
    }


def _window(params: Params) -> tuple[int | None, int | None, int]:
    start = opt_int(params, "start", low=0)
    end = opt_int(params, "end", low=0)
    ofs = opt_int(params, "ofs", low=0) or 0
    return start, end, ofs


def open_orders(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    orders = _filtered(runtime.exchange.open_orders(key), params)
    return {"open": _orders_json(runtime, orders, params)}


def closed_orders(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    start, end, ofs = _window(params)
    orders = _filtered(runtime.exchange.closed_orders(key), params)
    closetime = opt_str(params, "closetime") or "both"
    if closetime not in ("open", "close", "both"):
        raise invalid_argument("closetime")

    def when(o: OrderInfo) -> int:
        return (o.opentm_ns if closetime == "open" else o.closetm_ns) // NS

    if start is not None:
        orders = [o for o in orders if when(o) > start]
    if end is not None:
        orders = [o for o in orders if when(o) <= end]
    return {"closed": _orders_json(runtime, orders[ofs : ofs + PAGE], params), "count": len(orders)}


def query_orders(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    text = opt_str(params, "txid")
    txids = [t.strip() for t in (text or "").split(",") if t.strip()]
    if not txids or len(txids) > MAX_QUERY:
        raise invalid_argument("txid")
    orders = _filtered(runtime.exchange.query_orders(key, txids), params)
    return _orders_json(runtime, orders, params)


def trades_history(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    start, end, ofs = _window(params)
    trades = runtime.exchange.trades_history(key)
    if start is not None:
        trades = [t for t in trades if t.time_ns // NS > start]
    if end is not None:
        trades = [t for t in trades if t.time_ns // NS <= end]
    page = trades[ofs : ofs + PAGE]
    return {
        "trades": {t.txid: trade_json(t, pair_of(runtime.catalogue, t.pair)) for t in page},
        "count": len(trades),
    }


ACCOUNT_METHODS: dict[str, PrivateHandler] = {
    "Balance": balance,
    "BalanceEx": balance_ex,
    "OpenOrders": open_orders,
    "ClosedOrders": closed_orders,
    "QueryOrders": query_orders,
    "TradesHistory": trades_history,
}
