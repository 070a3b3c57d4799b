"""Kraken's names and number formats for the emulator's REST answers.

Assets: the exchange core keys money by Aether's codes (``XBT``, ``USD``); Kraken's REST
answers use its ledger codes (``XXBT``, ``ZUSD``): older crypto assets carry an ``X`` prefix
and the main fiat currencies a ``Z``. Pairs: a REST ``pair`` may be the altname (``XBTUSD``)
or the pair key (``XXBTZUSD``); answers are keyed by the pair key.

:class:`PairCatalogue` is what ``AssetPairs`` lists: every pair the exchange trades (built
from its instruments) plus a few static pairs that are not USD-quoted or are stablecoin
pairs (``XBTEUR``, ``ETHXBT``, ``USDTUSD``), listed so a client's USD-only filter is
exercised. The static pairs are not tradable in the emulator: market data and orders on
them answer ``EQuery:Unknown asset pair``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from aether.domain.instruments import FeeSchedule, Instrument

__all__ = [
    "PairCatalogue",
    "PairInfo",
    "asset_code",
    "asset_decimals",
    "decimals_of",
    "fmt",
    "internal_asset",
    "iso_time",
    "seconds",
]

# Assets whose Kraken code carries a prefix (XBT -> XXBT, USD -> ZUSD); XDG is XXDG too.
_X_ASSETS = frozenset({"XBT", "ETH", "LTC", "XRP", "XLM", "XMR", "ZEC", "ETC", "XDG", "REP", "MLN"})
_Z_ASSETS = frozenset({"USD", "EUR", "GBP", "CAD", "JPY", "AUD"})
# Pairs of these bases keep the prefixed codes in their key (XXBTZUSD); newer ones do not.
_LEGACY_KEY_BASES = _X_ASSETS - {"XDG"}
_ASSET_DECIMALS = {"USD": 4, "EUR": 4, "GBP": 4, "CAD": 4, "JPY": 2, "XBT": 10, "ETH": 10}
_FIAT = _Z_ASSETS | {"CHF"}
_CONTEXT = Context(prec=80, rounding=ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999)


def asset_code(asset: str) -> str:
    """Kraken's ledger code of an asset: ``XBT`` -> ``XXBT``, ``USD`` -> ``ZUSD``."""
    if asset in _X_ASSETS:
        return "X" + asset
    if asset in _Z_ASSETS:
        return "Z" + asset
    return asset


def internal_asset(code: str) -> str:
    """The reverse of :func:`asset_code` (``XXBT`` -> ``XBT``); other codes pass unchanged."""
    if len(code) == 4 and code[0] in "XZ" and code[1:] in (_X_ASSETS | _Z_ASSETS):
        return code[1:]
    return code


def asset_decimals(asset: str) -> int:
    """Decimals Kraken keeps for an asset's balances (USD 4, XBT 10, most others 8)."""
    return _ASSET_DECIMALS.get(asset, 8)


def is_fiat(asset: str) -> bool:
    return asset in _FIAT


def decimals_of(step: Decimal) -> int:
    """Decimal places of a tick or lot size: ``0.1`` -> 1, ``0.00000001`` -> 8, ``5`` -> 0."""
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def fmt(value: Decimal, places: int) -> str:
    """``value`` as Kraken writes numbers: a plain string with exactly ``places`` decimals."""
    with localcontext(_CONTEXT):
        return f"{value.quantize(Decimal(1).scaleb(-places)):f}"


def seconds(ns: int) -> float:
    """Nanoseconds as the fractional unix seconds Kraken uses for times (4 decimals)."""
    return round(ns / 1_000_000_000, 4)


def iso_time(ns: int) -> str:
    """``2023-03-24T17:41:56Z``: CancelAllOrdersAfter's and SystemStatus's time format."""
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


Tiers = tuple[tuple[int, float], ...]


def _tiers(schedule: FeeSchedule, maker: bool) -> Tiers:
    """``[[30-day volume, percent], ...]`` as AssetPairs lists them (numbers, not strings)."""
    return tuple(
        (int(t.min_volume_usd), float((t.maker if maker else t.taker) * 100))
        for t in schedule.tiers
    )


@dataclass(frozen=True, slots=True)
class PairInfo:
    """One pair as ``AssetPairs`` describes it; ``tradable`` when the exchange trades it."""

    altname: str
    key: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int
    tick_size: Decimal
    ordermin: Decimal
    costmin: Decimal
    fees: Tiers
    fees_maker: Tiers
    tradable: bool

    @property
    def wsname(self) -> str:
        return f"{self.base}/{self.quote}"

    @classmethod
    def from_instrument(cls, instrument: Instrument) -> PairInfo:
        base, quote = instrument.base, instrument.quote
        legacy = base in _LEGACY_KEY_BASES and quote in (_X_ASSETS | _Z_ASSETS)
        return cls(
            altname=instrument.symbol,
            key=asset_code(base) + asset_code(quote) if legacy else instrument.symbol,
            base=base,
            quote=quote,
            pair_decimals=decimals_of(instrument.tick_size),
            lot_decimals=decimals_of(instrument.lot_size),
            cost_decimals=5 if is_fiat(quote) else 10,
            tick_size=instrument.tick_size,
            ordermin=instrument.min_quantity,
            costmin=instrument.min_cost,
            fees=_tiers(instrument.fees, maker=False),
            fees_maker=_tiers(instrument.fees, maker=True),
            tradable=True,
        )

    def as_kraken(self) -> dict[str, object]:
        """The pair's ``AssetPairs`` entry with Kraken's field names."""
        return {
            "altname": self.altname,
            "wsname": self.wsname,
            "aclass_base": "currency",
            "base": asset_code(self.base),
            "aclass_quote": "currency",
            "quote": asset_code(self.quote),
            "lot": "unit",
            "cost_decimals": self.cost_decimals,
            "pair_decimals": self.pair_decimals,
            "lot_decimals": self.lot_decimals,
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": [list(t) for t in self.fees],
            "fees_maker": [list(t) for t in self.fees_maker],
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": f"{self.ordermin:f}",
            "costmin": f"{self.costmin:f}",
            "tick_size": f"{self.tick_size:f}",
            "status": "online",
        }


_CRYPTO_TAKER: Tiers = ((0, 0.4), (10000, 0.35), (50000, 0.24), (100000, 0.22))
_CRYPTO_MAKER: Tiers = ((0, 0.25), (10000, 0.2), (50000, 0.14), (100000, 0.12))
_STABLE: Tiers = ((0, 0.2), (50000, 0.16), (100000, 0.12), (250000, 0.08))


def _static(
    altname: str, key: str, base: str, quote: str, tick: str, ordermin: str, costmin: str
) -> PairInfo:
    stable = base == "USDT"
    return PairInfo(
        altname=altname,
        key=key,
        base=base,
        quote=quote,
        pair_decimals=decimals_of(Decimal(tick)),
        lot_decimals=8,
        cost_decimals=5 if is_fiat(quote) else 10,
        tick_size=Decimal(tick),
        ordermin=Decimal(ordermin),
        costmin=Decimal(costmin),
        fees=_STABLE if stable else _CRYPTO_TAKER,
        fees_maker=_STABLE if stable else _CRYPTO_MAKER,
        tradable=False,
    )


#: Listed, not tradable: a EUR pair, a crypto-quoted pair and a stablecoin pair.
STATIC_PAIRS: tuple[PairInfo, ...] = (
    _static("XBTEUR", "XXBTZEUR", "XBT", "EUR", "0.1", "0.00005", "0.45"),
    _static("ETHXBT", "XETHXXBT", "ETH", "XBT", "0.00001", "0.002", "0.00002"),
    _static("USDTUSD", "USDTZUSD", "USDT", "USD", "0.00001", "5", "0.5"),
)


class PairCatalogue:
    """Every listed pair, found by altname or pair key (Kraken's names are case-sensitive)."""

    def __init__(self, pairs: Iterable[PairInfo]) -> None:
        self._pairs: dict[str, PairInfo] = {}
        self._names: dict[str, PairInfo] = {}
        for pair in pairs:
            if pair.altname in self._pairs:
                continue  # a traded instrument wins over a static listing of the same pair
            self._pairs[pair.altname] = pair
            self._names[pair.altname] = self._names[pair.key] = pair

    @classmethod
    def for_instruments(
        cls, instruments: Mapping[str, Instrument], extra: Iterable[PairInfo] = STATIC_PAIRS
    ) -> PairCatalogue:
        return cls([*(PairInfo.from_instrument(i) for i in instruments.values()), *extra])

    def find(self, name: str) -> PairInfo | None:
        return self._names.get(name)

    def __iter__(self) -> Iterator[PairInfo]:
        return iter(self._pairs.values())

    def assets(self) -> list[str]:
        """Every asset of a listed pair, in first-seen order."""
        seen: dict[str, None] = {}
        for pair in self:
            seen.setdefault(pair.base)
            seen.setdefault(pair.quote)
        return list(seen)
