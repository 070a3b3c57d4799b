"""The instrument registry: Kraken's AssetPairs, filtered to spot USD pairs, in the database.

A load asks Kraken (or the emulator) for ``AssetPairs``, keeps the tradable USD pairs through
:func:`~aether.venues.kraken.asset_pairs.instruments_from_asset_pairs`, upserts them into
``instruments`` with status ``online``, and records the load in ``instrument_refreshes``.
A pair stored earlier that is no longer tradable keeps its row (orders and history refer to
it) with a status saying why: ``skipped: <reason>`` when Kraken still lists it but it is not
usable (e.g. its status is ``cancel_only``), ``not listed`` when Kraken no longer lists it.

The registry loads on start and then every ``refresh_seconds`` of its :class:`RegistryConfig`
(the ``instrument_refresh_seconds`` setting), and on demand
(``POST /api/v1/instruments/refresh``). A failed load changes no row; the error is kept for
readiness and logs. Readiness is false until this process has loaded once, so a process
never serves decisions from a table it has not confirmed against the venue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.domain.instruments import Instrument
from aether.ops.logs import redact_text
from aether.ops.retrying import RetryPolicy
from aether.ops.tasks import stop_task
from aether.storage.tables import InstrumentRefreshRow, InstrumentRow
from aether.venues.kraken.asset_pairs import PairsLoad, instruments_from_asset_pairs
from aether.venues.kraken.pair_names import IN_ONLINE_REGISTRY, PairNames, kraken_symbol
from aether.venues.kraken.rest import KrakenRest
from aether.venues.kraken.symbols import v2_asset

log = structlog.get_logger("aether.marketdata.registry")

ONLINE = "online"
NOT_LISTED = "not listed"

#: Fetches Kraken's AssetPairs ``result`` (injectable so a test can point at its own server).
AssetPairsSource = Callable[[], Awaitable[Mapping[str, Any]]]
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    """``rest_base``: where Kraken's REST API (or the emulator) answers ``AssetPairs``.
    ``usd_stablecoin_quotes``: stablecoins whose pairs count as USD pairs.
    ``refresh_seconds``: the wait between two scheduled loads."""

    rest_base: str
    usd_stablecoin_quotes: tuple[str, ...]
    refresh_seconds: float


class RegistryLoadError(RuntimeError):
    """A load of AssetPairs failed; the stored instruments are unchanged."""


@dataclass(frozen=True, slots=True)
class RefreshSummary:
    """What one successful load did."""

    at: datetime
    kept: tuple[str, ...]  # online USD pairs, sorted
    skipped: Mapping[str, str]  # listed pairs that are not tradable -> why
    delisted: tuple[str, ...]  # stored pairs Kraken no longer lists


def ws_symbol_for(instrument: Instrument) -> str:
    """The WebSocket v2 name: assets by their common tickers (``XBT/USD`` -> ``BTC/USD``)."""
    return f"{v2_asset(instrument.base)}/{v2_asset(instrument.quote)}"


def fee_tiers_json(instrument: Instrument) -> list[dict[str, str]]:
    """The fee schedule as JSON-safe text (fractions: ``0.0026`` is 0.26 %)."""
    return [
        {"min_volume_usd": str(t.min_volume_usd), "maker": str(t.maker), "taker": str(t.taker)}
        for t in instrument.fees.tiers
    ]


def instrument_values(instrument: Instrument, pair_key: str, at: datetime) -> dict[str, Any]:
    """The ``instruments`` row of an online pair (``pair_key``: Kraken's key, ``XXBTZUSD``)."""
    return {
        "symbol": instrument.symbol,
        "venue": instrument.venue,
        "ws_symbol": ws_symbol_for(instrument),
        "pair_key": pair_key,
        "base": instrument.base,
        "quote": instrument.quote,
        "tick_size": instrument.tick_size,
        "lot_size": instrument.lot_size,
        "min_quantity": instrument.min_quantity,
        "min_cost": instrument.min_cost,
        "fees": fee_tiers_json(instrument),
        "status": ONLINE,
        "refreshed_at": at,
    }


def retired_statuses(stored: Collection[str], load: PairsLoad) -> dict[str, str]:
    """The new status of every stored pair that this load did not keep, and why."""
    statuses: dict[str, str] = {}
    for symbol in stored:
        if symbol in load.instruments:
            continue
        reason = load.skipped.get(symbol)
        statuses[symbol] = f"skipped: {reason}"[:200] if reason is not None else NOT_LISTED
    return statuses


def online_pair_names(load: PairsLoad) -> PairNames:
    """The accepted spellings of the pairs a load kept (see ``pair_names``)."""
    return PairNames(
        (
            kraken_symbol(symbol, load.pair_keys.get(symbol), instrument.base, instrument.quote)
            for symbol, instrument in load.instruments.items()
        ),
        IN_ONLINE_REGISTRY,
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class InstrumentRegistry:
    """Loads and refreshes the instruments of one process; see the module docstring."""

    def __init__(
        self,
        config: RegistryConfig,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: AssetPairsSource | None = None,
        clock: Clock = _utc_now,
        retry_first: float = 1.0,
        retry_max: float = 60.0,
    ) -> None:
        self._config = config
        self._sessions = sessions
        self._source = source or self._fetch_asset_pairs
        self._clock = clock
        self._retry_first = retry_first
        self._retry_max = retry_max
        self._lock = asyncio.Lock()
        self._loaded = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_success: datetime | None = None
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.online: frozenset[str] = frozenset()
        #: How clients may type the online pairs (``BTC/USD`` for ``XBTUSD``).
        self.names = PairNames((), IN_ONLINE_REGISTRY)

    # --- loading ---------------------------------------------------------------------------
    async def _fetch_asset_pairs(self) -> Mapping[str, Any]:
        async with KrakenRest(self._config.rest_base, timeout=10.0, max_retries=1) as rest:
            result = await rest.public("AssetPairs")
        if not isinstance(result, Mapping):
            raise RegistryLoadError("AssetPairs answered something other than an object")
        return result

    async def refresh(self) -> RefreshSummary:
        """Load AssetPairs now and store the result; raises RegistryLoadError on failure."""
        async with self._lock:
            try:
                summary, names = await self._load_and_store()
            except Exception as exc:  # any failure leaves the rows as they were
                message = redact_text(f"{type(exc).__name__}: {exc}")[:300]
                self.last_error, self.last_error_at = message, self._clock()
                log.warning("instrument registry load failed", error=message)
                raise RegistryLoadError(message) from exc
            self.last_success, self.last_error = summary.at, None
            self.online, self.names = frozenset(summary.kept), names
            self._loaded.set()
            log.info(
                "instrument registry loaded",
                kept=len(summary.kept),
                skipped=len(summary.skipped),
                delisted=list(summary.delisted),
            )
            return summary

    async def _load_and_store(self) -> tuple[RefreshSummary, PairNames]:
        load = instruments_from_asset_pairs(
            await self._source(), extra_usd_quotes=self._config.usd_stablecoin_quotes
        )
        at = self._clock()
        async with self._sessions() as session:
            stored = set((await session.scalars(select(InstrumentRow.symbol))).all())
            if load.instruments:
                rows = [
                    instrument_values(i, load.pair_keys.get(s, s), at)
                    for s, i in load.instruments.items()
                ]
                stmt = insert(InstrumentRow).values(rows)
                changed = {name: stmt.excluded[name] for name in rows[0] if name != "symbol"}
                await session.execute(
                    stmt.on_conflict_do_update(index_elements=["symbol"], set_=changed)
                )
            retired = retired_statuses(stored, load)
            for symbol, status in retired.items():
                await session.execute(
                    update(InstrumentRow)
                    .where(InstrumentRow.symbol == symbol)
                    .values(status=status, refreshed_at=at)
                )
            delisted = tuple(sorted(s for s, why in retired.items() if why == NOT_LISTED))
            skipped = {**load.skipped, **{s: NOT_LISTED for s in delisted}}
            session.add(InstrumentRefreshRow(at=at, kept=len(load.instruments), skipped=skipped))
            await session.commit()
        summary = RefreshSummary(at, tuple(sorted(load.instruments)), load.skipped, delisted)
        return summary, online_pair_names(load)

    # --- schedule --------------------------------------------------------------------------
    async def _run(self) -> None:
        """First load with backoff until it succeeds, then one load per refresh interval."""
        first_load = RetryPolicy(
            attempts=None, first_wait=self._retry_first, max_wait=self._retry_max
        )
        await first_load.run(self._load_unless_loaded, RegistryLoadError)
        while True:
            await asyncio.sleep(self._config.refresh_seconds)
            try:
                await self.refresh()
            except RegistryLoadError:
                continue  # logged and reported by readiness; the next interval tries again

    async def _load_unless_loaded(self) -> None:
        if not self._loaded.is_set():  # a refresh on demand may have loaded meanwhile
            await self.refresh()

    def start(self) -> None:
        """Start loading in the background (the API serves meanwhile)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="instrument-registry")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_task(task)

    @property
    def loaded(self) -> bool:
        return self._loaded.is_set()

    async def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait until the first load succeeded (True) or ``timeout`` passed (False)."""
        try:
            async with asyncio.timeout(timeout):
                await self._loaded.wait()
        except TimeoutError:
            return False
        return True

    def readiness(self) -> tuple[bool, str]:
        """Ready once this process has loaded the instruments; the detail says when and how."""
        if self.last_success is None:
            error = f"; last error: {self.last_error}" if self.last_error else ""
            return False, f"not loaded yet by this process{error}"
        age = (self._clock() - self.last_success).total_seconds()
        detail = (
            f"{len(self.online)} online pairs, refreshed {self.last_success.isoformat()} "
            f"({age:.0f}s ago)"
        )
        if self.last_error is not None and self.last_error_at is not None:
            detail += (
                f"; last refresh failed at {self.last_error_at.isoformat()}: {self.last_error}"
            )
        return True, detail
