"""The order service's refusals: each names the rule or field that stopped the request."""

from __future__ import annotations


class OrderServiceError(Exception):
    """Base of the order service's refusals; ``code`` is stable, ``field`` names the input."""

    code = "order_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class OrderRefused(OrderServiceError):
    """Refused before anything was written: instrument, order-type, state or risk rules.

    ``rules`` lists every failed rule (``risk.pre_trade.Rule`` values or the domain's)."""

    code = "order_refused"

    def __init__(self, message: str, *, rules: tuple[str, ...], field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.rules = rules


class DuplicateOrder(OrderServiceError):
    """The account already has an order with this ``cl_ord_id``."""

    code = "duplicate_cl_ord_id"


class OrderNotFound(OrderServiceError):
    """No order with this ``cl_ord_id`` on this account (other accounts are not looked at)."""

    code = "not_found"


class OrderNotOpen(OrderServiceError):
    """The order is finished: there is nothing to cancel."""

    code = "order_not_open"


class NoVenue(OrderServiceError):
    """The account has no venue the order service can send to (yet)."""

    code = "no_venue"


class AmendRejected(OrderServiceError):
    """The venue refused the amend (the order is as it was); ``field`` names the value."""

    code = "amend_rejected"


class VenueUnanswered(OrderServiceError):
    """The venue did not answer; the request stays recorded until it is settled."""

    code = "venue_unanswered"


class VenueUnavailable(OrderServiceError):
    """The venue did not answer a read the order needs (the quote or the balances for the
    risk check); nothing was written and nothing was sent."""

    code = "venue_unavailable"


def field_of_rule(rule: str) -> str:
    """The request field a pre-trade rule is about, for a refusal."""
    if rule in ("positive_quantity", "lot_size", "min_quantity", "min_cost", "balance"):
        return "quantity"
    if rule in ("tick_size", "positive_price", "price"):
        return "price"
    if rule in ("symbol", "spot_usd", "stale_market_data"):
        return "symbol"
    if rule == "trading_state":
        return "side"
    return "quantity"
