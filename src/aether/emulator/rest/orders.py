"""Orders and trades as Kraken's private REST answers describe them, and AddOrder's
parameters as the exchange core takes them."""

from __future__ import annotations

from typing import Any

from aether.domain.money import ZERO
from aether.emulator.exchange.errors import UNKNOWN_ASSET_PAIR, ExchangeError, invalid_argument
from aether.emulator.exchange.orders import OrderInfo, OrderRequest, OrderStatus, Trade
from aether.emulator.kraken_format import PairCatalogue, PairInfo, fmt, seconds
from aether.emulator.rest.protocol import Params, opt_bool, opt_str, opt_userref

__all__ = ["order_json", "order_request", "pair_of", "trade_json"]

# AddOrder parameters the emulator does not implement: refused rather than ignored.
_UNSUPPORTED = ("close[ordertype]", "close[price]", "close[price2]", "displayvol")


def pair_of(catalogue: PairCatalogue, altname: str) -> PairInfo:
    pair = catalogue.find(altname)
    if pair is None:  # every order's pair is a traded one
        raise ExchangeError(UNKNOWN_ASSET_PAIR)
    return pair


def order_json(info: OrderInfo, pair: PairInfo, *, with_trades: bool = False) -> dict[str, Any]:
    """One order of OpenOrders/ClosedOrders/QueryOrders."""
    cost = pair.cost_decimals
    entry: dict[str, Any] = {
        "refid": None,
        "userref": info.userref,
        "status": info.status.value,
        "opentm": seconds(info.opentm_ns),
        "starttm": 0,
        "expiretm": seconds(info.expiretm_ns) if info.expiretm_ns else 0,
        "descr": {
            "pair": pair.altname,
            "type": info.side.value,
            "ordertype": info.ordertype.value,
            "price": info.descr_price,
            "price2": info.descr_price2,
            "leverage": "none",
            "order": info.descr_order,
            "close": "",
        },
        "vol": fmt(info.volume, pair.lot_decimals),
        "vol_exec": fmt(info.vol_exec, pair.lot_decimals),
        "cost": fmt(info.cost, cost),
        "fee": fmt(info.fee, cost),
        "price": fmt(info.price, cost),
        "stopprice": fmt(info.stopprice, cost),
        "limitprice": fmt(info.limitprice, cost),
        "misc": ",".join(info.misc),
        "oflags": ",".join(info.oflags),
        "timeinforce": info.timeinforce.value,
    }
    if info.cl_ord_id is not None:
        entry["cl_ord_id"] = info.cl_ord_id
    if info.status is not OrderStatus.OPEN and info.status is not OrderStatus.PENDING:
        entry["closetm"] = seconds(info.closetm_ns)
        entry["reason"] = info.reason
    if with_trades and info.trades:
        entry["trades"] = list(info.trades)
    return entry


def trade_json(trade: Trade, pair: PairInfo) -> dict[str, Any]:
    """One trade of TradesHistory (and QueryTrades)."""
    cost = pair.cost_decimals
    return {
        "ordertxid": trade.ordertxid,
        "postxid": trade.txid,
        "pair": pair.key,
        "time": seconds(trade.time_ns),
        "type": trade.side.value,
        "ordertype": trade.ordertype.value,
        "price": fmt(trade.price, cost),
        "cost": fmt(trade.cost, cost),
        "fee": fmt(trade.fee, cost),
        "vol": fmt(trade.vol, pair.lot_decimals),
        "margin": fmt(ZERO, cost),
        "leverage": "0",
        "misc": "",
        "trade_id": trade.trade_id,
        "maker": trade.maker,
    }


def order_request(catalogue: PairCatalogue, params: Params) -> OrderRequest:
    """AddOrder's parameters as an :class:`OrderRequest` (the exchange validates them)."""
    for name in _UNSUPPORTED:
        if params.get(name):
            raise invalid_argument(name)
    leverage = opt_str(params, "leverage")
    if leverage not in (None, "", "none"):
        raise invalid_argument("leverage")  # spot only: no margin
    pair_name = opt_str(params, "pair")
    if not pair_name:
        raise invalid_argument("pair")
    pair = catalogue.find(pair_name)
    if pair is None or not pair.tradable:
        raise ExchangeError(UNKNOWN_ASSET_PAIR)
    return OrderRequest(
        pair=pair.altname,
        side=opt_str(params, "type") or "",
        ordertype=opt_str(params, "ordertype") or "",
        volume=opt_str(params, "volume") or "",
        price=opt_str(params, "price"),
        price2=opt_str(params, "price2"),
        oflags=opt_str(params, "oflags") or "",
        timeinforce=opt_str(params, "timeinforce") or "GTC",
        expiretm=opt_str(params, "expiretm"),
        userref=opt_userref(params),
        cl_ord_id=opt_str(params, "cl_ord_id"),
        stptype=opt_str(params, "stptype") or "cancel-newest",
        trigger=opt_str(params, "trigger") or "last",
        validate=opt_bool(params, "validate"),
    )
