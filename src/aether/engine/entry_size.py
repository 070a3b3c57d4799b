"""How much a new long entry buys, by the account's sizing method and limits."""

from __future__ import annotations

from decimal import Decimal

from aether.domain.instruments import Instrument
from aether.domain.money import ZERO
from aether.engine.config import SizingMethod, TradingConfig
from aether.risk.exits import levels_for_entry
from aether.risk.sizing import fixed_fraction, volatility_target


def size_entry(
    config: TradingConfig,
    instrument: Instrument,
    *,
    price: Decimal,
    cash: Decimal,
    equity: Decimal,
    atr: Decimal | None,
) -> Decimal:
    """The entry quantity at ``price`` (zero when nothing placeable fits).

    Fixed sizing spends its fraction of ``cash``; volatility sizing risks its fraction of
    ``equity`` down to the stop the exits would set (so ATR exits need ``atr``). Both are
    capped by the maximum order notional and net of the configured costs.
    """
    cap = config.limits.max_order_notional
    if config.sizing.method is SizingMethod.FIXED:
        return fixed_fraction(
            instrument,
            available_cash=cash,
            price=price,
            fraction=config.sizing.fraction,
            costs=config.costs,
            max_notional=cap,
        )
    assert config.exits is not None  # TradingConfig refuses volatility sizing without exits
    if config.uses_atr and atr is None:
        return ZERO  # not enough bars yet to know the stop distance
    stop = levels_for_entry(instrument, config.exits, price, atr).stop_loss
    return volatility_target(
        instrument,
        equity=equity,
        available_cash=cash,
        price=price,
        stop_price=stop,
        risk_fraction=config.sizing.risk_fraction,
        costs=config.costs,
        max_notional=cap,
    )
