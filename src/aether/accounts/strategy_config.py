"""An account's strategy section: which catalogue strategy it trades, with what parameters,
on which pairs.

Checked by the one check the CLI's ``aether backtest --strategy/--param`` uses
(:func:`aether.strategies.catalogue.build_strategy`), so a configuration the API accepts is
one a backtest runs. Stored in one spelling: every parameter of the strategy as an integer
(defaults filled in, so the account keeps what it was configured with if a default changes)
and every pair as Kraken's altname (``BTC/USD`` is stored as ``XBTUSD``).

Pairs are normalised by the one pair normaliser (``aether.venues.kraken.pair_names``) over
the shipped instrument snapshot, and each must pass the domain's universe guard (a Kraken
spot pair quoted in USD). The instrument registry is not consulted: it is read from the
database by ``aether.marketdata``, a layer above accounts.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ValidationInfo

from aether.domain.instruments import Instrument
from aether.domain.universe import NotSpotUsdError, require_spot_usd
from aether.strategies.catalogue import CATALOGUE, StrategyParamError, strategy_params
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot
from aether.venues.kraken.pair_names import UnknownPairError, shipped_pair_names

MAX_PAIRS = 50
MAX_PARAMS = 32
MIN_BAR_SECONDS = 5
MAX_BAR_SECONDS = 86_400


@cache
def _shipped_instruments() -> dict[str, Instrument]:
    return load_instrument_snapshot()


def _tradable_pair(typed: str) -> str:
    """The altname ``typed`` spells, if it is a spot USD pair; else a refusal naming it."""
    try:
        altname = shipped_pair_names().canonical(typed)
        require_spot_usd(_shipped_instruments()[altname])
    except (UnknownPairError, NotSpotUsdError) as exc:
        raise PydanticCustomError("pair", "{reason}", {"reason": str(exc)}) from None
    return altname


PairName = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_tradable_pair)]
ParamName = Annotated[str, Field(min_length=1, max_length=64)]


class StrategyConfig(BaseModel):
    """The strategy an account runs; an account without one does not trade."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(max_length=64, description="A strategy of the catalogue (sma_cross, ...)")
    params: dict[ParamName, int] = Field(
        default_factory=dict,
        max_length=MAX_PARAMS,
        description="Integer parameters over the strategy's defaults (text like '20' is read "
        "as aether backtest --param reads it); stored with every default filled in",
    )
    pairs: list[PairName] = Field(
        min_length=1,
        max_length=MAX_PAIRS,
        description="Kraken spot USD pairs in any common spelling; stored as altnames",
    )
    bar_seconds: int = Field(
        default=60,
        ge=MIN_BAR_SECONDS,
        le=MAX_BAR_SECONDS,
        description="Length of the bars an account runner builds from live trades, in "
        "seconds (a backtest uses the bars of its data)",
    )

    @field_validator("name")
    @classmethod
    def _in_catalogue(cls, name: str) -> str:
        if name not in CATALOGUE:
            known = ", ".join(sorted(CATALOGUE))
            reason = f"unknown strategy {name!r} (known: {known})"
            raise PydanticCustomError("unknown_strategy", "{reason}", {"reason": reason})
        return name

    @field_validator("params", mode="before")
    @classmethod
    def _checked_by_catalogue(cls, params: Any, info: ValidationInfo) -> Any:
        name = info.data.get("name")
        if name is None or not isinstance(params, dict):
            return params  # the name is refused already, or pydantic refuses a non-object
        try:
            return strategy_params(name, params)
        except StrategyParamError as exc:
            # The catalogue names the parameter; the path makes it a field of the request.
            where = exc.field[1:]  # ("params", "fast") -> ("fast",), under "params"
            raise ValidationError.from_exception_data(
                "params",
                [
                    InitErrorDetails(
                        type=PydanticCustomError(
                            "strategy_param", "{reason}", {"reason": str(exc)}
                        ),
                        loc=where,
                        input=params.get(where[0]) if where else params,
                    )
                ],
            ) from None

    @field_validator("pairs")
    @classmethod
    def _each_once(cls, pairs: list[str]) -> list[str]:
        seen: set[str] = set()
        for pair in pairs:
            if pair in seen:
                reason = f"{pair} is listed twice"
                raise PydanticCustomError("duplicate_pair", "{reason}", {"reason": reason})
            seen.add(pair)
        return pairs
