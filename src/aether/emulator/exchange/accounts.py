"""Emulated accounts: API credentials, balances, holds for open orders and 30-day volume.

Assets are keyed by the codes of :class:`aether.domain.instruments.Instrument` (``XBT``,
``USD``), not by Kraken's ledger codes (``XXBT``, ``ZUSD``): the REST layer maps them when
it answers ``Balance``. Every amount is an exact Decimal; the exchange core moves money only
through :meth:`Account.reserve`, :meth:`Account.release` and :meth:`Account.settle`, so
``balance >= held >= 0`` holds for every asset.
"""

from __future__ import annotations

import base64
import secrets
from collections import deque
from collections.abc import Iterator, Mapping
from decimal import Decimal

from aether.domain.money import ZERO
from aether.emulator.exchange.errors import INSUFFICIENT_FUNDS, INVALID_KEY, ExchangeError

__all__ = ["THIRTY_DAYS_NS", "Account", "Accounts", "new_api_credentials"]

THIRTY_DAYS_NS = 30 * 86_400 * 1_000_000_000


def new_api_credentials() -> tuple[str, str]:
    """A fresh ``(api_key, api_secret_b64)``: 56 URL-safe characters, like Kraken's keys, and
    the base64 of 64 random bytes (the secret an HMAC-SHA512 signer decodes)."""
    return secrets.token_urlsafe(42), base64.b64encode(secrets.token_bytes(64)).decode("ascii")


class Account:
    """One account's money. ``available = balance - held``; holds back open orders."""

    __slots__ = (
        "_base_volume",
        "_volume",
        "_volume_sum",
        "api_key",
        "api_secret",
        "balances",
        "holds",
    )

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        balances: Mapping[str, Decimal],
        volume_30d_usd: Decimal = ZERO,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.balances: dict[str, Decimal] = dict(balances)
        self.holds: dict[str, Decimal] = {}
        # A fixed volume that never ages out: it seeds the fee tier of a test or demo account.
        self._base_volume = volume_30d_usd
        self._volume: deque[tuple[int, Decimal]] = deque()
        self._volume_sum = ZERO

    def balance(self, asset: str) -> Decimal:
        return self.balances.get(asset, ZERO)

    def held(self, asset: str) -> Decimal:
        return self.holds.get(asset, ZERO)

    def available(self, asset: str) -> Decimal:
        return self.balance(asset) - self.held(asset)

    def reserve(self, asset: str, amount: Decimal) -> None:
        """Hold ``amount`` for an order; EOrder:Insufficient funds if it is not available."""
        if amount > self.available(asset):
            raise ExchangeError(INSUFFICIENT_FUNDS)
        self.holds[asset] = self.held(asset) + amount

    def release(self, asset: str, amount: Decimal) -> None:
        """Give back ``amount`` of a hold (an order filled, was cancelled or repriced)."""
        remaining = self.held(asset) - amount
        if remaining < ZERO:
            raise AssertionError(f"{asset} hold would go negative: {remaining}")
        if remaining == ZERO:
            self.holds.pop(asset, None)
        else:
            self.holds[asset] = remaining

    def settle(self, asset: str, delta: Decimal) -> None:
        """Add ``delta`` (negative to debit) to the balance; it never goes below the holds."""
        balance = self.balance(asset) + delta
        if balance < self.held(asset):
            raise AssertionError(f"{asset} balance {balance} below its holds {self.held(asset)}")
        self.balances[asset] = balance

    def record_volume(self, now_ns: int, usd: Decimal) -> None:
        self._volume.append((now_ns, usd))
        self._volume_sum += usd

    def volume_30d(self, now_ns: int) -> Decimal:
        """USD traded in the 30 days up to ``now_ns`` (plus the seeded volume): the fee tier."""
        horizon = now_ns - THIRTY_DAYS_NS
        while self._volume and self._volume[0][0] <= horizon:
            self._volume_sum -= self._volume.popleft()[1]
        return self._base_volume + self._volume_sum


class Accounts:
    """The emulator's accounts, keyed by API key (the identity every private call carries)."""

    def __init__(self) -> None:
        self._by_key: dict[str, Account] = {}

    def create(
        self, balances: Mapping[str, Decimal], volume_30d_usd: Decimal = ZERO
    ) -> tuple[str, str]:
        """A new account holding ``balances``; returns its ``(api_key, api_secret_b64)``.

        Balances must be finite and non-negative Decimals (ValueError otherwise).
        ``volume_30d_usd`` seeds the 30-day volume that picks the fee tier.
        """
        for asset, amount in {**balances, "volume_30d_usd": volume_30d_usd}.items():
            if not asset or not isinstance(amount, Decimal) or not amount.is_finite():
                raise ValueError(f"{asset!r}: must be a finite Decimal, got {amount!r}")
            if amount < ZERO:
                raise ValueError(f"{asset!r}: must not be negative, got {amount}")
        key, secret = new_api_credentials()
        while key in self._by_key:  # 336 random bits: a repeat is never expected
            key, secret = new_api_credentials()
        self._by_key[key] = Account(key, secret, balances, volume_30d_usd)
        return key, secret

    def get(self, api_key: str) -> Account:
        """The account of ``api_key``; EAPI:Invalid key for a key the emulator never issued."""
        account = self._by_key.get(api_key)
        if account is None:
            raise ExchangeError(INVALID_KEY)
        return account

    def secret_for(self, api_key: str) -> bytes | None:
        """The decoded secret of ``api_key``, or None: what request signing checks against."""
        account = self._by_key.get(api_key)
        return None if account is None else base64.b64decode(account.api_secret)

    def __iter__(self) -> Iterator[Account]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)
