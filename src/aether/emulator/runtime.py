"""The running emulator: the exchange core, the wall clock, the market that moves it and
what the REST layer remembers between calls (nonces, WebSocket tokens, candles).

The exchange core itself stays clock-free; this runtime reads the wall clock (the emulator
is a server, like an adapter) and passes the time into every exchange call. A background
asyncio task calls :meth:`EmulatorRuntime.tick` every ``tick_seconds``: timers fire (GTD
expiry, the dead man's switch) and the generators' trades due by then print against the
market maker (:mod:`.market.maker`). Everything runs on one event loop, so no locking is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from aether.domain.instruments import Instrument
from aether.emulator.exchange.matching import Exchange
from aether.emulator.exchange.queries import MAX_TRADES_COUNT
from aether.emulator.faults import Faults
from aether.emulator.kraken_format import PairCatalogue, decimals_of
from aether.emulator.market.candles import PairCandles
from aether.emulator.market.correlated import CorrelatedConfig, CorrelatedMarket
from aether.emulator.market.generator import MarketGenerator, PairGrid
from aether.emulator.market.maker import HOUSE_BALANCE, BookShape, PairFeed
from aether.emulator.market.replay import BarReplay, shipped_bars
from aether.emulator.market.synthetic import SyntheticConfig, SyntheticMarket
from aether.emulator.rate_limits import RateLimits

__all__ = [
    "DEFAULT_FOLLOWERS",
    "DEFAULT_RHO",
    "FOLLOWER_START",
    "MARKETS",
    "REPLAY_SLICES",
    "EmulatorRuntime",
    "NonceLedger",
    "WsToken",
    "build_runtime",
]

log = logging.getLogger(__name__)

NS = 1_000_000_000
WS_TOKEN_SECONDS = 900
MARKETS = ("replay", "synthetic")
#: The shipped hourly slices the replay market plays, by pair.
REPLAY_SLICES = {"XBTUSD": "kraken_XBTUSD_60.csv", "ETHUSD": "kraken_ETHUSD_60.csv"}
#: Where the synthetic market starts each pair.
SYNTHETIC_START = {"XBTUSD": Decimal(30000), "ETHUSD": Decimal(2000)}
#: The pair every synthetic follower follows.
LEADER = "XBTUSD"
#: Where each pair a follower may trade starts (round prices of the pair's usual range).
#: SOLUSD starts at 200, not 150: there a rung of the maker's ladder (1 bp) is two whole
#: ticks; at 150 it rounds to one tick (0.67 bp) and the ladder re-quotes half as much again.
FOLLOWER_START = {
    "SOLUSD": Decimal(200),
    "XRPUSD": Decimal("0.6"),
    "ADAUSD": Decimal("0.4"),
    "DOTUSD": Decimal(6),
    "LTCUSD": Decimal(80),
    "LINKUSD": Decimal(15),
    "XDGUSD": Decimal("0.12"),
    "AVAXUSD": Decimal(30),
}
#: The followers a runtime trades unless told otherwise, and their correlation to XBTUSD.
DEFAULT_FOLLOWERS = ("SOLUSD", "XRPUSD", "ADAUSD")
DEFAULT_RHO = 0.7


class NonceLedger:
    """The last nonce seen per key; a nonce must be larger than the key's last one."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def accept(self, api_key: str, nonce: int) -> bool:
        """Record ``nonce`` for ``api_key`` if it is larger than the key's last one; False
        (nothing recorded) otherwise: the caller answers ``EAPI:Invalid nonce``."""
        if nonce <= self._last.get(api_key, 0):
            return False
        self._last[api_key] = nonce
        return True


@dataclass(frozen=True, slots=True)
class WsToken:
    """A GetWebSocketsToken answer, kept for the WebSocket server to check."""

    api_key: str
    expires_ns: int


class EmulatorRuntime:
    """One emulated Kraken: ``instruments`` keyed by altname, a generator per traded pair."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        generators: Mapping[str, MarketGenerator],
        *,
        speed: float = 1.0,
        clock: Callable[[], int] = time.time_ns,
        shape: BookShape | None = None,
        tick_seconds: float = 0.05,
        trades_per_tick: int = 200,
        rate_limits: bool = True,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        unknown = sorted(set(generators) - set(instruments))
        if unknown:
            raise ValueError(f"generators for pairs without an instrument: {unknown}")
        self.exchange = Exchange(instruments)
        self.catalogue = PairCatalogue.for_instruments(instruments)
        self.nonces = NonceLedger()
        # Private calls by method, counted as they arrive (before authentication): a test
        # proves with it that paper trading never reaches the exchange.
        self.private_calls: Counter[str] = Counter()
        self.ws_tokens: dict[str, WsToken] = {}
        #: Called after every tick (the WebSocket hub publishes from here); each is isolated.
        self.tick_listeners: list[Callable[[], None]] = []
        self.speed = speed
        self.tick_seconds = tick_seconds
        self._clock = clock
        self._trades_per_tick = trades_per_tick
        self.candles = {pair: PairCandles() for pair in instruments}
        self._cursors: dict[str, int | None] = dict.fromkeys(instruments)
        house = {asset: HOUSE_BALANCE for asset in self.catalogue.assets()}
        self.maker, _ = self.exchange.create_account(house, house=True)
        self.flow, _ = self.exchange.create_account(house, house=True)
        book = shape if shape is not None else BookShape()
        self.feeds = [
            PairFeed(self.exchange, instruments[pair], gen, self.maker, self.flow, book)
            for pair, gen in generators.items()
        ]
        self._task: asyncio.Task[None] | None = None
        self._started = False
        # Kraken's REST and trading counters (:mod:`.rate_limits`) and injected faults.
        self.rate_limits = RateLimits(enabled=rate_limits)
        self.faults = Faults()

    def now_ns(self) -> int:
        return self._clock()

    # --- the market ---------------------------------------------------------------------

    def start(self) -> None:
        """Start every generator now (idempotent): each prints its first trade at once."""
        if self._started:
            return
        self._started = True
        now = self.now_ns()
        for feed in self.feeds:
            feed.start(now, self.speed)
        self.sync_candles()

    def tick(self) -> None:
        """Fire due timers and print the generators' trades due by now."""
        now = self.now_ns()
        self.exchange.advance(now)
        for feed in self.feeds:
            feed.tick(now, self._trades_per_tick)
        self.sync_candles()
        self._forget_tokens(now)
        for listener in list(self.tick_listeners):
            try:
                listener()
            except Exception:
                log.exception("emulator tick listener failed")

    def sync_candles(self) -> None:
        """Feed the candles with the public trades printed since the last call (the tape is
        read by cursor, not drained, so the WebSocket feed still sees every trade)."""
        for pair, candles in self.candles.items():
            cursor = self._cursors[pair]
            while True:
                trades, cursor = self.exchange.recent_trades(pair, cursor or 0, MAX_TRADES_COUNT)
                for trade in trades:
                    candles.add(trade)
                if len(trades) < MAX_TRADES_COUNT:
                    break
            self._cursors[pair] = cursor

    async def run(self) -> None:
        """Tick until cancelled; an error in one tick is logged, never fatal."""
        self.start()
        while True:
            try:
                self.tick()
            except Exception:
                log.exception("emulator market tick failed")
            await asyncio.sleep(self.tick_seconds)

    def start_background(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop_background(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def regimes(self) -> list[dict[str, object]]:
        """The synthetic generators' true regime of every step so far (generator time);
        empty for replay."""
        rows: list[dict[str, object]] = []
        for feed in self.feeds:
            recorded = getattr(feed.generator, "regimes", None)
            if recorded is None:
                continue
            for ts_ns, regime in recorded():
                rows.append(
                    {"pair": feed.pair, "ts_ns": ts_ns, "time": ts_ns // NS, "regime": str(regime)}
                )
        return rows

    # --- WebSocket tokens ---------------------------------------------------------------

    def issue_ws_token(self, api_key: str) -> tuple[str, int]:
        """A new token for ``api_key`` and its lifetime in seconds."""
        token = secrets.token_urlsafe(32)
        self.ws_tokens[token] = WsToken(api_key, self.now_ns() + WS_TOKEN_SECONDS * NS)
        return token, WS_TOKEN_SECONDS

    def _forget_tokens(self, now: int) -> None:
        expired = [t for t, v in self.ws_tokens.items() if v.expires_ns <= now]
        for token in expired:
            del self.ws_tokens[token]


def _grid(instrument: Instrument) -> PairGrid:
    return PairGrid(instrument.symbol, instrument.tick_size, decimals_of(instrument.lot_size))


def _pair_seed(seed: int, pair: str) -> int:
    """A follower's own seed: the run's seed mixed with its pair (stable across runs)."""
    return seed * 1_000_003 + zlib.crc32(pair.encode("ascii"))


def _shipped(
    pair: str, instrument: Instrument, market: str, seed: int, index: int, *, lead: bool = False
) -> MarketGenerator:
    """A generator of a pair with a shipped history: its replay, or its synthetic market
    (a copy that only ``lead``s a follower records no regimes: nobody reads them)."""
    if market == "replay":
        bars = shipped_bars(REPLAY_SLICES[pair], pair, 3600)
        return BarReplay(bars, _grid(instrument), seed=seed)
    config = SyntheticConfig(start_price=SYNTHETIC_START[pair])
    return SyntheticMarket(_grid(instrument), config, seed=seed + index, record_regimes=not lead)


def build_runtime(
    instruments: Mapping[str, Instrument],
    *,
    market: str = "replay",
    seed: int = 0,
    speed: float = 1.0,
    tick_seconds: float = 0.05,
    rate_limits: bool = True,
    shape: BookShape | None = None,
    followers: Sequence[str] = DEFAULT_FOLLOWERS,
    rho: float = DEFAULT_RHO,
) -> EmulatorRuntime:
    """A runtime trading the pairs of ``instruments`` the chosen market can drive: ``replay``
    plays the shipped XBTUSD/ETHUSD hourly slices (in a loop); ``synthetic`` runs the seeded
    regime-switching market on the same pairs. Each of ``followers`` (pairs of
    :data:`FOLLOWER_START`) is synthetic in either market, following XBTUSD with correlation
    ``rho`` (:mod:`.market.correlated`). Other instruments are left out; a follower without an
    instrument or a start price, or without XBTUSD to follow, is a ValueError naming it."""
    if market not in MARKETS:
        raise ValueError(f"market must be one of {MARKETS}, got {market!r}")
    generators: dict[str, MarketGenerator] = {}
    indexes = {pair: index for index, pair in enumerate(instruments)}
    for pair, instrument in instruments.items():
        if pair in REPLAY_SLICES:
            generators[pair] = _shipped(pair, instrument, market, seed, indexes[pair])
    if not generators:
        raise ValueError(f"no instrument the {market} market can drive: {sorted(instruments)}")
    for pair in followers:
        if pair in generators:
            raise ValueError(f"followers: {pair} is a shipped pair, not a synthetic one")
        if pair not in instruments or pair not in FOLLOWER_START:
            known = sorted(set(FOLLOWER_START) & set(instruments))
            raise ValueError(f"followers: no synthetic market for {pair!r}; known: {known}")
        if LEADER not in instruments:
            raise ValueError(f"followers: {pair} follows {LEADER}, which is not traded")
        # The leader is a generator of its own, identical to the one its feed drives.
        leader = _shipped(LEADER, instruments[LEADER], market, seed, indexes[LEADER], lead=True)
        config = CorrelatedConfig(start_price=FOLLOWER_START[pair], rho=rho)
        generators[pair] = CorrelatedMarket(
            _grid(instruments[pair]), leader, config, seed=_pair_seed(seed, pair)
        )
    traded = {pair: instruments[pair] for pair in generators}
    return EmulatorRuntime(
        traded,
        generators,
        speed=speed,
        tick_seconds=tick_seconds,
        rate_limits=rate_limits,
        shape=shape,
    )
