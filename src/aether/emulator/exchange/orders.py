"""The emulator's order model: Kraken's order vocabulary, the live order, its snapshots,
trades and the execution events an ``executions`` WebSocket channel publishes.

Field names follow Kraken's REST answers (``vol_exec``, ``cost``, ``fee``, ``opentm``...)
so the REST layer only formats. Times are integer nanoseconds of emulator time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from aether.domain.money import ZERO
from aether.domain.orders import Side

__all__ = [
    "LIMIT_AFTER_TRIGGER",
    "REASON_DEAD_MAN_SWITCH",
    "REASON_INSUFFICIENT_FUNDS",
    "REASON_IOC",
    "REASON_NO_LIQUIDITY",
    "REASON_POST_ONLY",
    "REASON_SELF_TRADE",
    "REASON_USER",
    "TRIGGERED_TYPES",
    "ExecType",
    "ExecutionEvent",
    "Offset",
    "Order",
    "OrderInfo",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "PublicTrade",
    "SelfTradePrevention",
    "Side",
    "TimeInForce",
    "Trade",
    "is_userref",
    "new_txid",
]


class OrderType(StrEnum):
    """Kraken's spot ``ordertype`` values the emulator supports (not iceberg/settle-position)."""

    MARKET = "market"
    LIMIT = "limit"
    STOP_LOSS = "stop-loss"
    TAKE_PROFIT = "take-profit"
    STOP_LOSS_LIMIT = "stop-loss-limit"
    TAKE_PROFIT_LIMIT = "take-profit-limit"
    TRAILING_STOP = "trailing-stop"
    TRAILING_STOP_LIMIT = "trailing-stop-limit"


#: Types that wait for the last trade price to reach a trigger.
TRIGGERED_TYPES = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.TAKE_PROFIT,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT_LIMIT,
        OrderType.TRAILING_STOP,
        OrderType.TRAILING_STOP_LIMIT,
    }
)
#: Triggered types that become a limit order (at ``price2``) rather than a market order.
LIMIT_AFTER_TRIGGER = frozenset(
    {OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT, OrderType.TRAILING_STOP_LIMIT}
)


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    GTD = "GTD"


class OrderStatus(StrEnum):
    """Kraken's order ``status``; ``closed`` means fully filled."""

    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"
    CANCELED = "canceled"
    EXPIRED = "expired"


class SelfTradePrevention(StrEnum):
    """Kraken's ``stptype``: which side of a self-match is cancelled (newest by default)."""

    CANCEL_NEWEST = "cancel-newest"
    CANCEL_OLDEST = "cancel-oldest"
    CANCEL_BOTH = "cancel-both"


class ExecType(StrEnum):
    """``exec_type`` values of Kraken's WebSocket v2 ``executions`` channel."""

    PENDING_NEW = "pending_new"
    NEW = "new"
    TRADE = "trade"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    STATUS = "status"  # a triggered order became a market or limit order


# ``reason`` of a closed order. "User requested" and "Post only order" are what Kraken
# answers; the others are the emulator's wording (Kraken does not document its reasons).
REASON_USER = "User requested"
REASON_POST_ONLY = "Post only order"
REASON_IOC = "Immediate or cancel"
REASON_NO_LIQUIDITY = "Insufficient liquidity"
REASON_SELF_TRADE = "Self trade prevention"
REASON_DEAD_MAN_SWITCH = "Cancel all orders after timeout"
REASON_INSUFFICIENT_FUNDS = "Insufficient funds"

#: Kraken's ``userref``: a signed 32-bit integer.
USERREFS = range(-(2**31), 2**31)

_TXID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def is_userref(value: object) -> bool:
    """Whether ``value`` is a valid ``userref``: an int (not a bool) in :data:`USERREFS`."""
    return isinstance(value, int) and not isinstance(value, bool) and value in USERREFS


def new_txid(prefix: str) -> str:
    """A Kraken-shaped id: ``prefix`` plus 16 random upper-case alphanumerics as 6-5-6
    (``OABCDE-FGHIJ-KLMNOP``); ``O`` for orders, ``T`` for trades."""
    number = int.from_bytes(secrets.token_bytes(11), "big")  # 88 bits cover 36**16
    chars = [prefix]
    for _ in range(16):
        number, digit = divmod(number, 36)
        chars.append(_TXID_ALPHABET[digit])
    body = "".join(chars)
    return f"{body[:6]}-{body[6:11]}-{body[11:]}"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An AddOrder request as Kraken takes it: strings (or Decimals) parsed by the exchange.

    ``side`` is Kraken's ``type`` (buy/sell). ``price``/``price2`` may be relative to the last
    trade (``+5``, ``-1.5%``, ``#2``); trailing types need ``+`` offsets. ``expiretm`` is 0,
    a unix time in seconds or ``+<seconds>``.
    """

    pair: str
    side: str
    ordertype: str
    volume: str | Decimal
    price: str | Decimal | None = None
    price2: str | Decimal | None = None
    oflags: str = ""
    timeinforce: str = "GTC"
    expiretm: str | int | None = None
    userref: int | None = None
    cl_ord_id: str | None = None
    stptype: str = "cancel-newest"
    trigger: str = "last"
    validate: bool = False


@dataclass(frozen=True, slots=True)
class Offset:
    """A signed distance from a reference price: ``amount`` in quote currency, or in percent
    of the reference when ``percent`` (trailing stops and trailing limit offsets)."""

    amount: Decimal
    percent: bool

    def of(self, reference: Decimal) -> Decimal:
        return reference * self.amount / 100 if self.percent else self.amount

    def __str__(self) -> str:
        sign = "+" if self.amount >= ZERO else ""
        return f"{sign}{self.amount}{'%' if self.percent else ''}"


@dataclass(frozen=True, slots=True)
class OrderInfo:
    """An order as Kraken's OpenOrders/ClosedOrders/QueryOrders describe it, frozen in time.

    ``price`` is the average execution price (0 before any fill); ``descr_price`` and
    ``descr_price2`` are the order's primary and secondary prices as placed.
    """

    txid: str
    pair: str
    side: Side
    ordertype: OrderType
    descr_price: str
    descr_price2: str
    descr_order: str
    status: OrderStatus
    reason: str | None
    volume: Decimal
    vol_exec: Decimal
    cost: Decimal
    fee: Decimal
    price: Decimal
    stopprice: Decimal
    limitprice: Decimal
    opentm_ns: int
    closetm_ns: int
    expiretm_ns: int
    userref: int | None
    cl_ord_id: str | None
    oflags: tuple[str, ...]
    timeinforce: TimeInForce
    misc: tuple[str, ...]
    trades: tuple[str, ...]


@dataclass(slots=True)
class Order:
    """A live order inside the exchange; only the exchange core mutates it.

    ``limit_price`` is the price it rests or crosses at (None for market orders and for
    triggered types before they fire); ``stop_price`` is the trigger, which trailing stops
    move; ``limit_after_trigger`` is the limit a ``*-limit`` type takes when it fires.
    ``hold`` is what the order keeps reserved of ``hold_asset`` right now.
    """

    txid: str
    account: str
    pair: str
    side: Side
    ordertype: OrderType
    volume: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    descr_price: str
    descr_price2: str
    descr_order: str
    timeinforce: TimeInForce
    post_only: bool
    oflags: tuple[str, ...]
    expire_ns: int
    userref: int | None
    cl_ord_id: str | None
    stp: SelfTradePrevention
    opentm_ns: int
    seq: int
    hold_asset: str
    trail: Offset | None = None
    limit_offset: Offset | None = None
    limit_after_trigger: Decimal | None = None
    extreme: Decimal | None = None
    triggered: bool = False
    resting: bool = False
    status: OrderStatus = OrderStatus.OPEN
    reason: str | None = None
    vol_exec: Decimal = ZERO
    cost: Decimal = ZERO
    fee: Decimal = ZERO
    hold: Decimal = ZERO
    closetm_ns: int = 0
    misc: list[str] = field(default_factory=list)
    trades: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.volume - self.vol_exec

    @property
    def is_open(self) -> bool:
        return self.status is OrderStatus.OPEN

    @property
    def waiting_for_trigger(self) -> bool:
        return self.ordertype in TRIGGERED_TYPES and not self.triggered

    def info(self) -> OrderInfo:
        return OrderInfo(
            txid=self.txid,
            pair=self.pair,
            side=self.side,
            ordertype=self.ordertype,
            descr_price=self.descr_price,
            descr_price2=self.descr_price2,
            descr_order=self.descr_order,
            status=self.status,
            reason=self.reason,
            volume=self.volume,
            vol_exec=self.vol_exec,
            cost=self.cost,
            fee=self.fee,
            price=self.cost / self.vol_exec if self.vol_exec else ZERO,
            stopprice=self.stop_price if self.stop_price is not None else ZERO,
            limitprice=self.limit_price if self.triggered and self.limit_price else ZERO,
            opentm_ns=self.opentm_ns,
            closetm_ns=self.closetm_ns,
            expiretm_ns=self.expire_ns,
            userref=self.userref,
            cl_ord_id=self.cl_ord_id,
            oflags=self.oflags,
            timeinforce=self.timeinforce,
            misc=tuple(self.misc),
            trades=tuple(self.trades),
        )


@dataclass(frozen=True, slots=True)
class Trade:
    """One account's side of a fill, as Kraken's TradesHistory lists it.

    ``cost`` is ``vol * price`` and ``fee`` is charged in the quote asset; both sides of a
    fill share ``trade_id`` (the pair's public trade id) but have their own ``txid``.
    """

    txid: str
    trade_id: int
    ordertxid: str
    account: str
    pair: str
    time_ns: int
    side: Side
    ordertype: OrderType
    price: Decimal
    cost: Decimal
    fee: Decimal
    vol: Decimal
    maker: bool


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """A trade on the public tape (Kraken's ``Trades``); ``side`` and ``ordertype`` are the
    taker's (a buy lifted an ask)."""

    trade_id: int
    pair: str
    price: Decimal
    volume: Decimal
    time_ns: int
    side: Side
    ordertype: OrderType


@dataclass(frozen=True, slots=True)
class ExecutionEvent:
    """One entry of an account's execution stream: an order's state after the event, and
    the trade for ``exec_type`` ``trade``."""

    exec_type: ExecType
    time_ns: int
    order: OrderInfo
    trade: Trade | None = None
