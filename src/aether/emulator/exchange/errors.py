"""Kraken's error strings as the emulator's exchange core raises them, and their exception.

Strings marked *documented* appear in Kraken's spot error table
(docs.kraken.com/api/docs/guides/spot-errors); the others are what Kraken is seen to answer
in public client code, and are flagged where the emulator had to choose.
"""

from __future__ import annotations

INVALID_ARGUMENTS = "EGeneral:Invalid arguments"  # documented
INDEX_UNAVAILABLE = "EGeneral:Invalid arguments:Index unavailable"  # documented
UNKNOWN_ASSET_PAIR = "EQuery:Unknown asset pair"  # documented
INVALID_KEY = "EAPI:Invalid key"  # documented
INSUFFICIENT_FUNDS = "EOrder:Insufficient funds"  # documented
ORDER_MINIMUM_NOT_MET = "EOrder:Order minimum not met"  # documented
COST_MINIMUM_NOT_MET = "EOrder:Cost minimum not met"  # documented
TICK_SIZE_CHECK_FAILED = "EOrder:Tick size check failed"  # documented
INVALID_PRICE = "EOrder:Invalid price"  # documented, without a description
UNKNOWN_ORDER = "EOrder:Unknown order"  # CancelOrder of an id that is not open
INVALID_ORDER = "EOrder:Invalid order"  # QueryOrders of an id the account never had
# Not documented: the emulator's choice for a cl_ord_id already used by an open order.
DUPLICATE_CL_ORD_ID = "EOrder:Duplicate cl_ord_id"


class ExchangeError(Exception):
    """A request refused with one of Kraken's error strings (``str(exc)`` is that string)."""

    def __init__(self, kraken_error: str) -> None:
        super().__init__(kraken_error)
        self.kraken_error = kraken_error


def invalid_argument(field: str) -> ExchangeError:
    """``EGeneral:Invalid arguments:<field>``, Kraken's answer to a malformed parameter."""
    return ExchangeError(f"{INVALID_ARGUMENTS}:{field}")
