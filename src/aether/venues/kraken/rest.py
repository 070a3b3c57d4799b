"""Kraken's Spot REST API over httpx: signing, nonces, client-side rate limits, retries.

Rules a caller must know:

* Public calls are ``GET /0/public/<Method>``; private calls ``POST /0/private/<Method>``,
  form-encoded, signed (``API-Key``, ``API-Sign``) with a nonce from the shared NonceStore
  and the 2FA ``otp`` when one is configured.
* A response's ``error`` array is raised as a typed ``KrakenError`` (see ``errors``).
* The client waits for its own rate-limit counters instead of being refused; when Kraken
  refuses for a rate limit anyway (another process used the key), the counter is taken to
  be full, so the retry waits for it to drain. Retryable
  errors (service unavailable or busy, rate limits) and network failures are retried with
  the platform's :class:`~aether.ops.retrying.RetryPolicy` (``backoff`` doubling, no
  jitter), up to ``max_retries`` times, except order placement (below).
* ``add_order`` needs a ``cl_ord_id`` and never places an order twice: when a request times
  out or the connection fails, the order is looked up by ``cl_ord_id`` in OpenOrders and
  ClosedOrders before anything is resent.
* ``amend_order`` (AmendOrder) changes an open order in place; its values are absolute (the
  new total quantity, the new prices), so a retried amend leaves the order as one would.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx

from aether.ops.retrying import RetryOn, RetryPolicy
from aether.venues.kraken.errors import (
    ApiRateLimitError,
    KrakenError,
    OrderRateLimitError,
    RetryableError,
    raise_for,
)
from aether.venues.kraken.nonce import NonceStore
from aether.venues.kraken.rate_limit import (
    RestCounter,
    Tier,
    TradeAction,
    TradingCounter,
    batch_add_cost,
    rest_cost,
    trading_cost,
)
from aether.venues.kraken.signing import api_sign
from aether.venues.kraken.symbols import UnknownSymbolError, pair_key
from aether.venues.kraken.trade_volume import TradeVolume, parse_trade_volume

Params = Mapping[str, str | int]
# Calls that move the per-pair trading counter instead of the REST call counter.
_TRADING = {
    "AddOrder": TradeAction.ADD,
    "AddOrderBatch": TradeAction.ADD,
    "CancelOrder": TradeAction.CANCEL,
    "AmendOrder": TradeAction.AMEND,
}


class KrakenTransportError(Exception):
    """The request's outcome is unknown: timeout or connection failure after all retries."""


class _Unanswered(Exception):
    """An order entry got no answer and the look-up by ``cl_ord_id`` found nothing."""


class _LookupFailed(Exception):
    """The look-up by ``cl_ord_id`` after a lost answer failed; carries its error."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class AmendAnswer:
    """AmendOrder's answer: Kraken's id of this amend (the order keeps its txid)."""

    amend_id: str


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API key and its base64 secret; ``repr`` never shows the secret."""

    api_key: str
    api_secret: str
    otp: str | None = None

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.api_key[:6]}..., api_secret=***)"


class KrakenRest:
    """One API key's REST session; share one instance per key within a process."""

    def __init__(
        self,
        base_url: str,
        *,
        credentials: Credentials | None = None,
        nonces: NonceStore | None = None,
        tier: Tier = Tier.STARTER,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        client: httpx.AsyncClient | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if credentials is not None and nonces is None:
            raise ValueError("private calls need a NonceStore shared by every user of the key")
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.nonces = nonces
        self.max_retries = max_retries
        self.backoff = backoff
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._owns_client = client is None
        self._rest = RestCounter(tier)
        self._trading = TradingCounter(tier)
        self._monotonic = monotonic
        self._sleep = sleep

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> KrakenRest:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- calls --------------------------------------------------------------------------
    async def public(self, method: str, params: Params | None = None) -> Any:
        """The ``result`` of a public call, retried on retryable failures."""
        return await self._with_retries(lambda: self._public_once(method, params or {}))

    async def private(self, method: str, params: Params | None = None) -> Any:
        """The ``result`` of a private call, retried on retryable failures (not AddOrder:
        use :meth:`add_order`, which is safe to repeat)."""
        if method in ("AddOrder", "AddOrderBatch"):
            raise ValueError(f"use add_order for {method}: it must not be retried blindly")
        return await self._with_retries(lambda: self._private_once(method, params or {}))

    async def add_order(self, params: Params) -> Any:
        """Place one order at most once; ``params`` must include ``cl_ord_id``.

        Returns AddOrder's result (``txid`` list and ``descr``), or for an order found by
        ``cl_ord_id`` after a lost response, ``{"txid": [...], "recovered": True}``.
        """
        cl_ord_id = params.get("cl_ord_id")
        if not cl_ord_id:
            raise ValueError("add_order needs a cl_ord_id: it is how a lost response is resolved")

        async def recover() -> Any:
            found = await self.find_order(str(cl_ord_id))
            return None if found is None else {"txid": [found], "recovered": True}

        return await self._at_most_once(
            f"AddOrder {cl_ord_id}", lambda: self._private_once("AddOrder", params), recover
        )

    async def add_order_batch(self, pair: str, orders: Sequence[Mapping[str, Any]]) -> Any:
        """Place 2-15 orders on one pair at most once (Kraken places all or none); each
        order needs a ``cl_ord_id``. Sent as JSON, as Kraken's AddOrderBatch expects.

        After a lost response the orders are looked up by ``cl_ord_id``; if they exist, the
        result is ``{"orders": [{"txid": ...}, ...], "recovered": True}``.
        """
        ids = [str(order.get("cl_ord_id") or "") for order in orders]
        if not all(ids):
            raise ValueError("add_order_batch needs a cl_ord_id on every order")
        body = {"pair": pair, "orders": [dict(order) for order in orders]}

        async def recover() -> Any:
            found = [await self.find_order(cl_ord_id) for cl_ord_id in ids]
            if not all(found):
                return None
            return {"orders": [{"txid": txid} for txid in found], "recovered": True}

        return await self._at_most_once(
            f"AddOrderBatch {ids}",
            lambda: self._private_once("AddOrderBatch", body, as_json=True),
            recover,
        )

    async def _at_most_once(
        self,
        label: str,
        send: Callable[[], Awaitable[Any]],
        recover: Callable[[], Awaitable[Any]],
    ) -> Any:
        """``send`` an order entry without ever placing it twice: after a lost response
        ``recover`` looks the orders up by ``cl_ord_id`` (its answer, unless None, is the
        result); a refusal before the book (busy, rate limited) is safe to send again."""

        async def attempt() -> Any:
            try:
                return await send()
            except httpx.TransportError as exc:  # timeouts included: the outcome is unknown
                try:
                    recovered = await recover()
                except Exception as lookup_error:
                    # Never retried: without an answer from the look-up, a resend could
                    # place the order twice.
                    raise _LookupFailed(lookup_error) from lookup_error
                if recovered is not None:
                    return recovered
                raise _Unanswered from exc  # not placed: safe to send again

        try:
            return await self._retry(attempt, (RetryableError, _Unanswered))
        except _Unanswered:
            raise KrakenTransportError(f"{label}: no answer after all retries") from None
        except _LookupFailed as failed:
            raise failed.error from failed.error.__cause__

    async def amend_order(
        self,
        *,
        txid: str | None = None,
        cl_ord_id: str | None = None,
        order_qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        trigger_price: Decimal | None = None,
        post_only: bool | None = None,
        deadline: str | None = None,
    ) -> AmendAnswer:
        """Amend one open order in place, named by ``txid`` or ``cl_ord_id``; ``order_qty``
        is the new total (at or below what executed, the rest is cancelled). Values are sent
        exactly as given (plain decimals, never floats)."""
        if (txid is None) == (cl_ord_id is None):
            raise ValueError("amend_order names the order by exactly one of txid or cl_ord_id")
        if order_qty is None and limit_price is None and trigger_price is None:
            raise ValueError("amend_order needs order_qty, limit_price or trigger_price")
        params: dict[str, str | int] = {"txid": txid} if txid else {"cl_ord_id": cl_ord_id or ""}
        for name, value in (
            ("order_qty", order_qty),
            ("limit_price", limit_price),
            ("trigger_price", trigger_price),
        ):
            if value is not None:
                if not value.is_finite():
                    raise ValueError(f"{name} must be finite, got {value}")
                params[name] = f"{value:f}"
        if post_only is not None:
            params["post_only"] = "true" if post_only else "false"
        if deadline is not None:
            params["deadline"] = deadline
        result = await self.private("AmendOrder", params)
        return AmendAnswer(amend_id=str(result.get("amend_id", "")))

    async def find_order(self, cl_ord_id: str) -> str | None:
        """The txid of this key's order with ``cl_ord_id``, open or closed, if Kraken has it."""
        for method in ("OpenOrders", "ClosedOrders"):
            result = await self.private(method, {"cl_ord_id": cl_ord_id})
            orders = result.get("open" if method == "OpenOrders" else "closed", {})
            for txid, order in orders.items():
                if order.get("cl_ord_id") == cl_ord_id:
                    return str(txid)
        return None

    async def trade_volume(self, pairs: Sequence[str]) -> TradeVolume:
        """The account's 30-day volume and its maker/taker fee on each of ``pairs``
        (altnames): the live fee tier (AssetPairs' fee arrays may be empty)."""
        params: dict[str, str | int] = {"pair": ",".join(pairs)} if pairs else {}
        return parse_trade_volume(await self.private("TradeVolume", params), pairs, _key_of)

    # --- one request ---------------------------------------------------------------------
    async def _public_once(self, method: str, params: Params) -> Any:
        await self._wait_rest(method)
        url = f"{self.base_url}/0/public/{method}"
        response = await self._client.get(url, params=dict(params))
        return _result(response)

    async def _private_once(
        self, method: str, params: Mapping[str, Any], *, as_json: bool = False
    ) -> Any:
        credentials, nonces = self.credentials, self.nonces
        if credentials is None or nonces is None:
            raise ValueError(f"{method} is private: the client has no API key")
        if method in _TRADING:
            await self._wait_trading(method, params)
        else:
            await self._wait_rest(method)
        nonce = nonces.next()
        fields: dict[str, Any] = {"nonce": nonce, **params}
        if credentials.otp:
            fields["otp"] = credentials.otp
        # The signature covers the body exactly as sent, form-encoded or JSON.
        body = json.dumps(fields) if as_json else urlencode(fields)
        kind = "application/json" if as_json else "application/x-www-form-urlencoded"
        path = f"/0/private/{method}"
        headers = {
            "API-Key": credentials.api_key,
            "API-Sign": api_sign(path, nonce, body, credentials.api_secret),
            "Content-Type": f"{kind}; charset=utf-8",
        }
        response = await self._client.post(self.base_url + path, content=body, headers=headers)
        try:
            return _result(response)
        except ApiRateLimitError:
            self._rest.saturate(self._monotonic())  # the retry waits for the counter to drain
            raise
        except OrderRateLimitError:
            self._trading.saturate(str(params.get("pair", "*")), self._monotonic())
            raise

    async def _with_retries(self, call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await self._retry(call, (RetryableError, httpx.TransportError))
        except httpx.TransportError as exc:  # the retries ran out; timeouts included
            raise KrakenTransportError(str(exc) or type(exc).__name__) from exc

    async def _retry(self, call: Callable[[], Awaitable[Any]], retry_on: RetryOn) -> Any:
        """``call`` under the platform's retry policy with this client's attempts, backoff
        and sleep."""
        policy = RetryPolicy(attempts=self.max_retries + 1, first_wait=self.backoff)
        return await policy.run(call, retry_on, sleep=self._sleep)

    async def _wait_rest(self, method: str) -> None:
        cost = rest_cost(method)
        delay = self._rest.delay_for(cost, self._monotonic())
        if delay > 0:
            await self._sleep(delay)
        self._rest.record(cost, self._monotonic())

    async def _wait_trading(self, method: str, params: Mapping[str, Any]) -> None:
        pair = str(params.get("pair", "*"))
        if method == "AddOrderBatch":
            cost = batch_add_cost(len(params["orders"]))
        else:
            # A cancel's cost depends on the order's age, unknown here: assume the costliest.
            cost = trading_cost(_TRADING[method], 0.0)
        delay = self._trading.delay_for_cost(pair, cost, self._monotonic())
        if delay > 0:
            await self._sleep(delay)
        self._trading.record_cost(pair, cost, self._monotonic())


def _key_of(altname: str) -> str | None:
    """The pair key REST answers use for ``altname``, when the shipped snapshot knows it."""
    try:
        return pair_key(altname)
    except UnknownSymbolError:
        return None


def _result(response: httpx.Response) -> Any:
    """Kraken's envelope unwrapped: errors raised as typed exceptions, else ``result``."""
    try:
        payload = response.json()
    except ValueError:
        raise KrakenError(
            f"EGeneral:Invalid response: HTTP {response.status_code}, not JSON"
        ) from None
    if not isinstance(payload, dict) or "error" not in payload:
        raise KrakenError(f"EGeneral:Invalid response: HTTP {response.status_code}")
    raise_for(payload["error"])
    return payload.get("result")
