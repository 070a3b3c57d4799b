"""AddOrder validation: a raw :class:`OrderRequest` becomes a checked :class:`ParsedOrder`,
or Kraken's error string is raised as :class:`ExchangeError`.

Numbers must be plain decimal strings (``"1.25"``; no exponent, sign or spaces) or Decimals;
anything else is ``EGeneral:Invalid arguments:<field>``. Relative prices (``+``, ``-``,
``#`` and a ``%`` suffix, per Kraken's AddOrder reference) are resolved against the pair's
last trade and rounded to the tick. Funds are checked by the exchange, which knows the book.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypeVar

from aether.domain.instruments import Instrument
from aether.domain.money import ZERO, is_multiple, round_to_step
from aether.emulator.exchange.errors import (
    COST_MINIMUM_NOT_MET,
    INDEX_UNAVAILABLE,
    INVALID_PRICE,
    ORDER_MINIMUM_NOT_MET,
    TICK_SIZE_CHECK_FAILED,
    ExchangeError,
    invalid_argument,
)
from aether.emulator.exchange.orders import (
    LIMIT_AFTER_TRIGGER,
    Offset,
    OrderRequest,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    is_userref,
)

__all__ = ["MAX_EXPIRY_NS", "ParsedOrder", "is_plain_number", "parse_request"]

NS = 1_000_000_000
#: GTD orders may expire at most a month ahead; ``+<n>`` needs at least 5 seconds.
MAX_EXPIRY_NS = 31 * 86_400 * NS
MIN_RELATIVE_EXPIRY_S = 5

_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_UNSIGNED_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# Kraken's cl_ord_id: a long or short UUID, or up to 18 characters of printable ASCII.
_CL_ORD_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{32}|[!-~]{1,18}"
)
_FLAGS = frozenset({"post", "fcib", "fciq", "nompp", "viqc"})
# Beyond this many significant digits, or this magnitude, a number is not a sane order.
_MAX_DIGITS = 40
_MAX_ADJUSTED = 30


@dataclass(frozen=True, slots=True)
class ParsedOrder:
    """A request that passed every static check; prices are absolute and on the tick."""

    pair: str
    side: Side
    ordertype: OrderType
    volume: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    trail: Offset | None
    limit_offset: Offset | None
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


def is_plain_number(text: str) -> bool:
    """Digits with at most one decimal point: how Kraken's parameters write amounts (no sign,
    exponent, ``NaN`` or ``Infinity``)."""
    return _PLAIN.fullmatch(text) is not None


def _number(value: object, name: str) -> Decimal:
    """A finite, non-negative, sanely sized Decimal from a plain string, int or Decimal."""
    plain_text = isinstance(value, str) and is_plain_number(value)
    whole = isinstance(value, int) and not isinstance(value, bool)
    if not isinstance(value, Decimal | str | int) or not (
        isinstance(value, Decimal) or plain_text or whole
    ):
        raise invalid_argument(name)
    number = Decimal(value)
    if not number.is_finite() or number < ZERO:
        raise invalid_argument(name)
    if number and (
        len(number.as_tuple().digits) > _MAX_DIGITS or abs(number.adjusted()) > _MAX_ADJUSTED
    ):
        raise invalid_argument(name)
    return number


def _away_sign(side: Side, ordertype: OrderType) -> int:
    """The direction ``#`` moves a price: away from the market, so the order does not fire
    or cross at once (down for a buy limit, up for a buy stop-loss)."""
    stop = ordertype in (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)
    return (1 if side is Side.BUY else -1) * (1 if stop else -1)


def _price(
    raw: str | Decimal | None,
    name: str,
    instrument: Instrument,
    last: Decimal | None,
    sign_for_hash: int,
) -> Decimal:
    """An absolute price on the tick from an absolute or last-trade-relative ``raw``."""
    if raw is None or raw == "":
        raise invalid_argument(name)
    if isinstance(raw, str) and raw[:1] in ("+", "-", "#"):
        body, percent = (raw[1:-1], True) if raw.endswith("%") else (raw[1:], False)
        amount = _number(body, name)
        if last is None:
            raise ExchangeError(INVALID_PRICE)  # nothing traded yet to be relative to
        sign = {"+": 1, "-": -1, "#": sign_for_hash}[raw[0]]
        price = round_to_step(
            last + sign * (last * amount / 100 if percent else amount), instrument.tick_size
        )
        if price <= ZERO:
            raise ExchangeError(INVALID_PRICE)
        return price
    price = _number(raw, name)
    if price == ZERO:
        raise invalid_argument(name)
    if not is_multiple(price, instrument.tick_size):
        raise ExchangeError(TICK_SIZE_CHECK_FAILED)
    return price


def _offset(raw: str | Decimal | None, name: str, signs: str, instrument: Instrument) -> Offset:
    """A trailing offset: Kraken requires a relative price (``+50``, ``+2%``; ``-`` for a
    trailing limit offset too). Absolute offsets must be whole ticks."""
    if not isinstance(raw, str) or raw[:1] not in signs:
        raise invalid_argument(name)
    body, percent = (raw[1:-1], True) if raw.endswith("%") else (raw[1:], False)
    amount = _number(body, name)
    if not percent and not is_multiple(amount, instrument.tick_size):
        raise ExchangeError(TICK_SIZE_CHECK_FAILED)
    if name == "price" and amount == ZERO:
        raise invalid_argument(name)  # a zero trailing distance would fire on any trade
    return Offset(-amount if raw[0] == "-" else amount, percent)


def _flags(raw: object, ordertype: OrderType) -> tuple[str, ...]:
    if not isinstance(raw, str):
        raise invalid_argument("oflags")
    flags = tuple(sorted({f.strip() for f in raw.split(",") if f.strip()}))
    if any(f not in _FLAGS for f in flags) or {"fcib", "fciq"} <= set(flags):
        raise invalid_argument("oflags")
    if "post" in flags and ordertype is not OrderType.LIMIT:
        raise invalid_argument("oflags")  # Kraken: post-only is for limit orders
    if "viqc" in flags:
        raise invalid_argument("viqc")  # volume in quote currency: not emulated
    return flags


def _expiry(raw: str | int | None, tif: TimeInForce, now_ns: int) -> int:
    """Expiry in ns (0 for none) from Kraken's ``expiretm``: 0, unix seconds or ``+<n>``."""
    if raw is None or raw in ("", "0", 0):
        if tif is TimeInForce.GTD:
            raise invalid_argument("expiretm")
        return 0
    if tif is TimeInForce.IOC:
        raise invalid_argument("expiretm")
    text = str(raw)
    relative = text.startswith("+")
    digits = text[1:] if relative else text
    if not _UNSIGNED_SECONDS.fullmatch(digits):
        raise invalid_argument("expiretm")
    seconds = Decimal(digits)
    if relative and seconds < MIN_RELATIVE_EXPIRY_S:
        raise invalid_argument("expiretm")
    expire_ns = (now_ns if relative else 0) + int(seconds * NS)
    if not now_ns < expire_ns <= now_ns + MAX_EXPIRY_NS:
        raise invalid_argument("expiretm")
    return expire_ns


def _descr(
    side: Side,
    volume: Decimal,
    instrument: Instrument,
    ordertype: OrderType,
    price: str,
    price2: str,
) -> str:
    """Kraken's ``descr.order`` text, e.g. ``buy 1.25000000 XBTUSD @ limit 27500.0``."""
    head = f"{side} {volume.quantize(instrument.lot_size, ROUND_HALF_EVEN)} {instrument.symbol} @ "
    if ordertype is OrderType.MARKET:
        return head + "market"
    words = ordertype.value.removesuffix("-limit").replace("-", " ")
    text = f"{head}{words} {price}"
    return f"{text} -> limit {price2}" if ordertype in LIMIT_AFTER_TRIGGER else text


_E = TypeVar("_E", Side, OrderType, TimeInForce, SelfTradePrevention)


def _enum_or_invalid(kind: type[_E], raw: str, name: str) -> _E:
    try:
        return kind(raw)
    except ValueError:
        raise invalid_argument(name) from None


@dataclass(frozen=True, slots=True)
class _Prices:
    """An order's prices as placed: absolute limit and stop, or a trailing stop's offsets."""

    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail: Offset | None = None
    limit_offset: Offset | None = None


def _volume(raw: str | Decimal, instrument: Instrument) -> Decimal:
    """A positive volume on the pair's lot."""
    volume = _number(raw, "volume")
    if volume == ZERO or not is_multiple(volume, instrument.lot_size):
        raise invalid_argument("volume")
    return volume


def _check_trigger(trigger: str) -> None:
    if trigger == "index":
        raise ExchangeError(INDEX_UNAVAILABLE)  # the emulator has no external index feed
    if trigger != "last":
        raise invalid_argument("trigger")


def _trailing_prices(
    request: OrderRequest,
    side: Side,
    ordertype: OrderType,
    instrument: Instrument,
    last_price: Decimal | None,
) -> _Prices:
    """A trailing stop's offsets, and its stop (and limit) where the last trade puts them."""
    trail = _offset(request.price, "price", "+", instrument)
    limit_offset = None
    if ordertype is OrderType.TRAILING_STOP_LIMIT:
        limit_offset = _offset(request.price2, "price2", "+-", instrument)
    if last_price is None:
        raise ExchangeError(INVALID_PRICE)  # a trailing stop trails the last trade
    # Exact, not rounded to the tick: rounding could move the stop towards the market.
    stop_price = last_price + side.sign * trail.of(last_price)
    limit_price = None
    if limit_offset is not None:
        limit_price = round_to_step(stop_price + limit_offset.of(stop_price), instrument.tick_size)
    if stop_price <= ZERO or (limit_price is not None and limit_price <= ZERO):
        raise ExchangeError(INVALID_PRICE)
    return _Prices(limit_price, stop_price, trail, limit_offset)


def _prices(
    request: OrderRequest,
    side: Side,
    ordertype: OrderType,
    instrument: Instrument,
    last_price: Decimal | None,
) -> _Prices:
    """The order's absolute prices on the tick (``price`` is the limit of a limit order, the
    trigger of the others; ``price2`` the limit once triggered)."""
    away = _away_sign(side, ordertype)
    if ordertype is OrderType.LIMIT:
        return _Prices(limit_price=_price(request.price, "price", instrument, last_price, away))
    if ordertype in (OrderType.TRAILING_STOP, OrderType.TRAILING_STOP_LIMIT):
        return _trailing_prices(request, side, ordertype, instrument, last_price)
    if ordertype is OrderType.MARKET:
        return _Prices()
    stop_price = _price(request.price, "price", instrument, last_price, away)
    limit_price = None
    if ordertype in LIMIT_AFTER_TRIGGER:
        limit_away = _away_sign(side, OrderType.LIMIT)
        limit_price = _price(request.price2, "price2", instrument, last_price, limit_away)
    return _Prices(limit_price, stop_price)


def _check_minimums(
    volume: Decimal,
    prices: _Prices,
    instrument: Instrument,
    market_reference: Decimal | None,
) -> None:
    """The pair's ``ordermin`` and ``costmin`` (cost at the order's own price, else the
    market's reference; unchecked when there is neither)."""
    if volume < instrument.min_quantity:
        raise ExchangeError(ORDER_MINIMUM_NOT_MET)
    reference = prices.limit_price or prices.stop_price or market_reference
    if reference is not None and volume * reference < instrument.min_cost:
        raise ExchangeError(COST_MINIMUM_NOT_MET)


def _timing(
    request: OrderRequest, ordertype: OrderType, now_ns: int
) -> tuple[TimeInForce, tuple[str, ...], int]:
    """Time in force, order flags and expiry (ns, 0 for none), checked against each other."""
    tif = _enum_or_invalid(TimeInForce, request.timeinforce, "timeinforce")
    if ordertype is OrderType.MARKET:
        tif = TimeInForce.IOC  # a market order never rests
    flags = _flags(request.oflags, ordertype)
    if "post" in flags and tif is TimeInForce.IOC:
        raise invalid_argument("timeinforce")
    expire_ns = _expiry(request.expiretm, tif, now_ns)
    if expire_ns and tif is TimeInForce.GTC:
        tif = TimeInForce.GTD  # an expiretm on a GTC order makes it good-till-date
    return tif, flags, expire_ns


def _client_ids(request: OrderRequest) -> tuple[int | None, str | None]:
    """The order's ``userref`` and ``cl_ord_id`` (at most one of them)."""
    userref = request.userref
    if userref is not None and not is_userref(userref):
        raise invalid_argument("userref")
    cl_ord_id = request.cl_ord_id
    if cl_ord_id is not None and (
        userref is not None or not isinstance(cl_ord_id, str) or not _CL_ORD_ID.fullmatch(cl_ord_id)
    ):
        raise invalid_argument("cl_ord_id")  # malformed, or given with userref
    return userref, cl_ord_id


def _descr_prices(prices: _Prices, ordertype: OrderType) -> tuple[str, str]:
    """``descr.price`` and ``descr.price2`` as Kraken shows them (offsets for trailing)."""
    trail, stop_price, limit_price = prices.trail, prices.stop_price, prices.limit_price
    descr_price = (
        str(trail)
        if trail is not None
        else str(stop_price if stop_price is not None else limit_price or ZERO)
    )
    if prices.limit_offset is not None:
        descr_price2 = str(prices.limit_offset)
    else:
        descr_price2 = str(limit_price if ordertype in LIMIT_AFTER_TRIGGER else ZERO)
    return descr_price, descr_price2


def parse_request(
    request: OrderRequest,
    instrument: Instrument,
    *,
    last_price: Decimal | None,
    market_reference: Decimal | None,
    now_ns: int,
) -> ParsedOrder:
    """Check ``request`` against ``instrument``; raises ExchangeError with Kraken's string.

    ``last_price`` resolves relative prices and anchors trailing stops; ``market_reference``
    (the best opposite price, else the last trade) prices a market order for ``costmin``.
    Checks run in a fixed order, so a request with several faults gets the first one's error.
    """
    side = _enum_or_invalid(Side, request.side, "type")
    ordertype = _enum_or_invalid(OrderType, request.ordertype, "ordertype")
    volume = _volume(request.volume, instrument)
    _check_trigger(request.trigger)
    prices = _prices(request, side, ordertype, instrument, last_price)
    _check_minimums(volume, prices, instrument, market_reference)
    tif, flags, expire_ns = _timing(request, ordertype, now_ns)
    userref, cl_ord_id = _client_ids(request)
    stp = _enum_or_invalid(SelfTradePrevention, request.stptype, "stptype")
    descr_price, descr_price2 = _descr_prices(prices, ordertype)
    return ParsedOrder(
        pair=instrument.symbol,
        side=side,
        ordertype=ordertype,
        volume=volume,
        limit_price=prices.limit_price,
        stop_price=prices.stop_price,
        trail=prices.trail,
        limit_offset=prices.limit_offset,
        descr_price=descr_price,
        descr_price2=descr_price2,
        descr_order=_descr(side, volume, instrument, ordertype, descr_price, descr_price2),
        timeinforce=tif,
        post_only="post" in flags,
        oflags=flags,
        expire_ns=expire_ns,
        userref=userref,
        cl_ord_id=cl_ord_id,
        stp=stp,
    )
