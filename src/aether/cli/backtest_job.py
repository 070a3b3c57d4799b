"""``aether backtest``'s options checked and turned into a backtest job.

Each bad option exits with an error naming it, in the order the options are read. Imported
only when the command runs: it brings the engine, the backtest runner and the history
loaders.

With ``--account`` the account's configuration acts on the run: its risk limits, its trading
state (the engine starts in it: HALTED places no order, REDUCING only reduces) and, when
``--strategy`` is not given, its strategy, parameters and first pair. Options given
explicitly win: ``--strategy`` replaces the account's strategy and parameters, ``--param``
overrides one parameter, ``--pair`` picks the pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from aether.backtest.results import RunSpec
from aether.backtest.runner import Backtest
from aether.cli.output import fail
from aether.cli.times import epoch_seconds
from aether.domain.accounts import TradingState
from aether.domain.bars import Bar
from aether.domain.instruments import FeeSchedule, Instrument
from aether.engine.config import SizingConfig, SizingMethod, TradingConfig
from aether.engine.strategy import Strategy
from aether.marketdata.imports.errors import ImportInputError
from aether.marketdata.imports.pairs import spot_usd_pair
from aether.marketdata.shipped import shipped_data, shipped_files
from aether.risk.exits import Distance, ExitConfig
from aether.risk.limits import RiskLimits
from aether.risk.sizing import Costs
from aether.strategies.catalogue import StrategyParamError, build_strategy
from aether.venues.kraken.ohlcvt_csv import HistoryFormatError, load_kraken_csv
from aether.venues.sim.fills import Slippage

if TYPE_CHECKING:  # the database stack is imported only when --account is given
    from aether.cli.account_limits import AccountForBacktest

BPS = Decimal(10_000)
DEFAULT_STRATEGY = "sma_cross"  # without --strategy and without an account's strategy
DEFAULT_PAIR = "XBTUSD"


@dataclass(frozen=True, slots=True)
class BacktestOptions:
    """The options of ``aether backtest`` as typed; numbers are still text, and None is an
    option not given."""

    strategy: str | None
    params: list[str]
    data: Path | None
    pair: str | None
    interval: int
    start: str | None
    end: str | None
    cash: str
    fee_bps: str | None
    slippage_bps: str
    sizing: str
    fraction: str
    risk: str
    exits: str
    stop_loss: str
    take_profit: str
    trailing: str | None
    account: str | None = None  # run under this account's configuration


def build_job(options: BacktestOptions) -> Backtest:
    """The backtest the options describe; exits naming the first option at fault."""
    account = _account(options.account)
    name, params, pair = _chosen(options, account)
    strategy, values = _strategy(name, params)
    instrument = _instrument(pair)
    path = _data_file(options.data, instrument.symbol)
    if options.interval < 1:
        fail(f"--interval {options.interval}: must be at least 1 minute")
    first, stop = epoch_seconds(options.start, "--start"), epoch_seconds(options.end, "--end")
    cash = _decimal(options.cash, "--cash", positive=True)
    fees = _flat_fees(options.fee_bps)
    slippage = _decimal(options.slippage_bps, "--slippage-bps")
    taker = (fees or instrument.fees).tiers[0].taker
    limits = account.limits if account is not None else RiskLimits()
    config = _trading_config(options, taker, slippage, limits)
    interval = options.interval * 60
    bars = _load(path, instrument.symbol, interval, first, stop)
    if not bars:
        fail(f"{path}: no bars between --start and --end")
    spec = RunSpec(
        strategy=name,
        params={k: str(v) for k, v in values.items()},
        pair=instrument.symbol,
        data=str(path),
        interval=interval,
        start=bars[0].start,
        end=bars[-1].end,
        cash=cash,
        fee=(
            f"{options.fee_bps} bps maker and taker"
            if options.fee_bps is not None
            else "Kraken tiers (snapshot)"
        ),
        sizing=config.sizing.describe(),
        exits=_describe_exits(options),
        risk=_describe_account(account, options),
    )
    state = account.trading_state if account is not None else TradingState.ACTIVE
    return Backtest(bars, instrument, strategy, config, cash, spec, fees, Slippage(slippage), state)


def _decimal(text: str, option: str, *, positive: bool = False) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        fail(f"{option}: {text!r} is not a decimal number")
    if not value.is_finite() or value < 0 or (positive and value == 0):
        fail(f"{option}: {text!r} must be {'positive' if positive else 'zero or more'}")
    return value


def _params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            fail(f"--param {item!r}: expected NAME=VALUE, e.g. --param fast=20")
        params[key.strip()] = value.strip()
    return params


def _account(name: str | None) -> AccountForBacktest | None:
    """No account, or ``--account``'s configuration (which needs the platform's database)."""
    if name is None:
        return None
    # Imported here: the database stack is needed only with --account.
    from aether.cli.account_limits import account_for_backtest

    return account_for_backtest(name)


def _chosen(
    options: BacktestOptions, account: AccountForBacktest | None
) -> tuple[str, dict[str, str | int], str]:
    """The strategy, its parameters and the pair: explicit options over the account's."""
    typed: dict[str, str | int] = dict(_params(options.params))
    if options.strategy is not None or account is None:
        return options.strategy or DEFAULT_STRATEGY, typed, options.pair or DEFAULT_PAIR
    configured = account.strategy
    if configured is None:
        fail(
            f"--account {account.name}: the account has no strategy configured, so it does not"
            " trade; give --strategy, or configure the account's strategy"
            " (PATCH /api/v1/accounts/{id}/config)"
        )
    pair = options.pair or configured.pairs[0]
    return configured.name, {**configured.params, **typed}, pair


def _strategy(name: str, params: dict[str, str | int]) -> tuple[Strategy, dict[str, int]]:
    try:
        return build_strategy(name, params)
    except StrategyParamError as exc:
        fail(f"--strategy/--param: {exc}")


def _instrument(pair: str) -> Instrument:
    try:
        return spot_usd_pair(pair)
    except ImportInputError as exc:
        fail(f"--pair {pair}: {exc}")


def _data_file(data: Path | None, pair: str) -> Path:
    if data is not None:
        if not data.is_file():
            fail(f"--data {data}: no such file")
        return data
    name = f"kraken_{pair.upper()}_60.csv"
    if name not in shipped_files():
        fail(f"--data is required for {pair}: the shipped history covers {shipped_files()}")
    return shipped_data(name)


def _flat_fees(fee_bps: str | None) -> FeeSchedule | None:
    """A flat maker and taker fee from ``--fee-bps``; None keeps the instrument's tiers."""
    if fee_bps is None:
        return None
    rate = _decimal(fee_bps, "--fee-bps") / BPS
    if rate >= 1:
        fail(f"--fee-bps {fee_bps}: must be below 10000 (100 %)")
    return FeeSchedule.flat(rate, rate)


def _describe_account(account: AccountForBacktest | None, options: BacktestOptions) -> str:
    if account is None:
        return "none"
    text = f"account {account.name}: {account.limits.describe()}"
    text += f"; trading state {account.trading_state.value}"
    if options.strategy is None:
        text += "; strategy and parameters from the account"
    return text


def _trading_config(
    options: BacktestOptions, taker: Decimal, slippage: Decimal, limits: RiskLimits
) -> TradingConfig:
    if options.sizing not in ("volatility", "fixed"):
        fail(f"--sizing {options.sizing!r}: expected volatility or fixed")
    try:
        return TradingConfig(
            sizing=SizingConfig(
                SizingMethod(options.sizing),
                _decimal(options.fraction, "--fraction"),
                _decimal(options.risk, "--risk"),
            ),
            exits=_exits(options.exits, options.stop_loss, options.take_profit, options.trailing),
            costs=Costs(taker, slippage),
            limits=limits,
        )
    except ValueError as exc:
        fail(str(exc))


def _exits(kind: str, stop: str, target: str, trailing: str | None) -> ExitConfig | None:
    if kind == "none":
        return None
    if kind not in ("percent", "atr"):
        fail(f"--exits {kind!r}: expected none, percent or atr")
    field = "percent" if kind == "percent" else "atr_multiple"

    def distance(text: str, option: str) -> Distance:
        return Distance(**{field: _decimal(text, option, positive=True)})

    trail = distance(trailing, "--trailing") if trailing is not None else None
    return ExitConfig(distance(stop, "--stop-loss"), distance(target, "--take-profit"), trail)


def _describe_exits(options: BacktestOptions) -> str:
    if options.exits == "none":
        return "none (signals only)"
    unit = " x ATR" if options.exits == "atr" else " of entry"
    text = f"stop-loss {options.stop_loss}{unit}, take-profit {options.take_profit}{unit}"
    return text + (f", trailing {options.trailing}{unit}" if options.trailing else "")


def _load(path: Path, pair: str, interval: int, start: int | None, end: int | None) -> list[Bar]:
    try:
        return load_kraken_csv(path, pair.upper(), interval, start=start, end=end)
    except HistoryFormatError as exc:
        fail(str(exc))
