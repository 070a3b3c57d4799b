"""Kraken's error strings, spelled exactly as the venue sends them.

Kraken answers every REST call with ``{"error": [...], "result": ...}``; each entry is
``<severity><category>:<message>[:<extra info>]`` with severity ``E`` (error) or ``W``
(warning). Sources: "Spot Error Messages" (docs.kraken.com/api/docs/guides/spot-errors),
"Error messages" (docs.kraken.com/exchange/guides/general/errors), "Spot REST Rate Limits"
and Kraken Support's "API error messages" article. Strings marked *unconfirmed* were not
found in those pages; they are kept so that client and emulator agree on one spelling.

This module is only constants, so an emulator can copy the spelling without importing the
client; :mod:`aether.venues.kraken.errors` maps each one to an exception class.
"""

from __future__ import annotations

# General
EGENERAL_INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
EGENERAL_INDEX_UNAVAILABLE = "EGeneral:Invalid arguments:Index unavailable"
EGENERAL_PERMISSION_DENIED = "EGeneral:Permission denied"
EGENERAL_UNKNOWN_METHOD = "EGeneral:Unknown method"
EGENERAL_INTERNAL_ERROR = "EGeneral:Internal error"  # may carry ":<code>"
EGENERAL_TEMPORARY_LOCKOUT = "EGeneral:Temporary lockout"

# API key, signature and nonce
EAPI_INVALID_KEY = "EAPI:Invalid key"
EAPI_INVALID_SIGNATURE = "EAPI:Invalid signature"
EAPI_INVALID_NONCE = "EAPI:Invalid nonce"
EAPI_RATE_LIMIT_EXCEEDED = "EAPI:Rate limit exceeded"
EAPI_FEATURE_DISABLED = "EAPI:Feature disabled"

# Account authentication (Kraken Support "API error messages")
EAUTH_ACCOUNT_TEMPORARY_DISABLED = "EAuth:Account temporary disabled"
EAUTH_ACCOUNT_UNCONFIRMED = "EAuth:Account unconfirmed"
EAUTH_RATE_LIMIT_EXCEEDED = "EAuth:Rate limit exceeded"
EAUTH_TOO_MANY_REQUESTS = "EAuth:Too many requests"

# Queries
EQUERY_UNKNOWN_ASSET_PAIR = "EQuery:Unknown asset pair"
EQUERY_UNKNOWN_ASSET = "EQuery:Unknown asset"

# Orders
EORDER_CANNOT_OPEN_POSITION = "EOrder:Cannot open position"
EORDER_CANNOT_OPEN_OPPOSING_POSITION = "EOrder:Cannot open opposing position"
EORDER_MARGIN_ALLOWANCE_EXCEEDED = "EOrder:Margin allowance exceeded"
EORDER_MARGIN_LEVEL_TOO_LOW = "EOrder:Margin level too low"
EORDER_MARGIN_POSITION_SIZE_EXCEEDED = "EOrder:Margin position size exceeded"
EORDER_INSUFFICIENT_MARGIN = "EOrder:Insufficient margin"
EORDER_INSUFFICIENT_FUNDS = "EOrder:Insufficient funds"
EORDER_ORDER_MINIMUM_NOT_MET = "EOrder:Order minimum not met"
EORDER_COST_MINIMUM_NOT_MET = "EOrder:Cost minimum not met"
EORDER_TICK_SIZE_CHECK_FAILED = "EOrder:Tick size check failed"
EORDER_ORDERS_LIMIT_EXCEEDED = "EOrder:Orders limit exceeded"
EORDER_RATE_LIMIT_EXCEEDED = "EOrder:Rate limit exceeded"
EORDER_DOMAIN_RATE_LIMIT_EXCEEDED = "EOrder:Domain rate limit exceeded"
EORDER_POSITIONS_LIMIT_EXCEEDED = "EOrder:Positions limit exceeded"
EORDER_SCHEDULED_ORDERS_LIMIT_EXCEEDED = "EOrder:Scheduled orders limit exceeded"
EORDER_UNKNOWN_POSITION = "EOrder:Unknown position"
EORDER_UNKNOWN_ORDER = "EOrder:Unknown order"
EORDER_INVALID_PRICE = "EOrder:Invalid price"
EORDER_REDUCE_ONLY_NO_POSITION = "EOrder:Reduce only:No position exists"
EORDER_TRADING_AGREEMENT_REQUIRED = "EOrder:Trading agreement required"
EORDER_POST_ONLY = "EOrder:Post only order"  # unconfirmed
EORDER_DUPLICATE_ORDER = "EOrder:Duplicate order"  # unconfirmed

# Trades
ETRADE_INVALID_REQUEST = "ETrade:Invalid request"

# Funding
EFUNDING_INVALID_AMOUNT = "EFunding:Invalid amount"
EFUNDING_UNKNOWN_WITHDRAW_KEY = "EFunding:Unknown withdraw key"
EFUNDING_UNKNOWN_REFERENCE_ID = "EFunding:Unknown reference id"
EFUNDING_MAX_FEE_EXCEEDED = "EFunding:Max fee exceeded"
EFUNDING_NO_FUNDING_METHOD = "EFunding:No funding method"
EFUNDING_TOO_MANY_ADDRESSES = "EFunding:Too many addresses"

# Service status
ESERVICE_UNAVAILABLE = "EService:Unavailable"
ESERVICE_BUSY = "EService:Busy"
ESERVICE_CANCEL_ONLY = "EService:Market in cancel_only mode"
ESERVICE_POST_ONLY = "EService:Market in post_only mode"
ESERVICE_DEADLINE_ELAPSED = "EService:Deadline elapsed"
# "Spot REST Rate Limits" prints it as "EService: Throttled: [UNIX timestamp]".
ESERVICE_THROTTLED = "EService:Throttled"

# Business limits (Canadian acquisition limit)
EBM_LIMIT_EXCEEDED_CAL = "EBM:limit exceeded:CAL"
