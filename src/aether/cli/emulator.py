"""``aether emulator``: run the local Kraken exchange emulator, and create its accounts.

``aether emulator [--host] [--port] [--market replay|synthetic] [--seed] [--speed]
[--followers SOLUSD,XRPUSD,ADAUSD] [--rho 0.7] [--rate-limits on|off]`` serves Kraken's REST
API until Ctrl-C; ``aether emulator accounts
create --balance USD=10000`` asks a running emulator for a funded account and prints its API
key and secret.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import httpx
import typer

from aether.cli.output import console, fail, print_json

app = typer.Typer(help="The local Kraken exchange emulator (REST), for tests and demos.")
accounts = typer.Typer(help="Accounts of a running emulator.", no_args_is_help=True)
app.add_typer(accounts, name="accounts")

DEFAULT_URL = "http://127.0.0.1:8100"


@app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8100,
    market: Annotated[
        str, typer.Option(help="replay (shipped XBTUSD/ETHUSD hours) or synthetic.")
    ] = "replay",
    seed: Annotated[int, typer.Option(help="Seed of the market generator.")] = 0,
    speed: Annotated[
        float, typer.Option(help="Market time per wall-clock second (3600: an hour a second).")
    ] = 1.0,
    followers: Annotated[
        str | None,
        typer.Option(
            help="Synthetic USD pairs beside XBTUSD/ETHUSD, following XBTUSD "
            "(comma-separated; empty for none) [default: SOLUSD,XRPUSD,ADAUSD]."
        ),
    ] = None,
    rho: Annotated[
        float | None,
        typer.Option(
            help="Correlation of the followers' returns to XBTUSD's, -1 to 1 [default: 0.7]."
        ),
    ] = None,
    rate_limits: Annotated[
        str, typer.Option(help="on: enforce Kraken's REST and trading rate limits; off: none.")
    ] = "on",
) -> None:
    """Serve the emulator until Ctrl-C (when no subcommand is given)."""
    if ctx.invoked_subcommand is not None:
        return
    if market not in ("replay", "synthetic"):
        fail(f"--market {market!r}: expected replay or synthetic")
    if not speed > 0 or speed != speed or speed == float("inf"):
        fail(f"--speed {speed}: must be a positive number")
    if rate_limits not in ("on", "off"):
        fail(f"--rate-limits {rate_limits!r}: expected on or off")
    if rho is not None and not -1.0 <= rho <= 1.0:  # NaN fails this too
        fail(f"--rho {rho}: must be a number from -1 to 1")
    # Unset options keep the emulator's own defaults (imported below, not at start-up).
    chosen: dict[str, Any] = {} if rho is None else {"rho": rho}
    if followers is not None:
        chosen["followers"] = [p.strip().upper() for p in followers.split(",") if p.strip()]
    import uvicorn

    from aether.emulator.app import create_app
    from aether.emulator.runtime import build_runtime
    from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        runtime = build_runtime(
            load_instrument_snapshot(),
            market=market,
            seed=seed,
            speed=speed,
            rate_limits=rate_limits == "on",
            **chosen,
        )
    except ValueError as exc:
        fail(f"--followers {followers!r}: {exc}")
    traded = ", ".join(feed.pair for feed in runtime.feeds)
    console.print(
        f"Kraken emulator on http://{host}:{port} ({market} market, seed {seed}, "
        f"speed {speed:g}, rate limits {rate_limits}; pairs {traded}). Ctrl-C stops it.",
        highlight=False,
    )
    uvicorn.run(create_app(runtime), host=host, port=port, log_level="warning")


def _balances(items: list[str]) -> dict[str, str]:
    balances: dict[str, str] = {}
    for item in items:
        asset, sep, amount = item.partition("=")
        if not sep or not asset.strip() or not amount.strip():
            fail(f"--balance {item!r}: expected ASSET=AMOUNT, e.g. --balance USD=10000")
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            fail(f"--balance {item!r}: {amount!r} is not a decimal number")
        if not value.is_finite() or value < 0:
            fail(f"--balance {item!r}: the amount must be zero or more")
        balances[asset.strip().upper()] = amount.strip()
    return balances


@accounts.command("create")
def create(
    balance: Annotated[
        list[str] | None, typer.Option(help="ASSET=AMOUNT to fund; repeatable.")
    ] = None,
    url: Annotated[str, typer.Option(help="The running emulator.")] = DEFAULT_URL,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a funded emulator account; prints its API key and secret."""
    body = {"balances": _balances(balance or [])}
    try:
        response = httpx.post(f"{url.rstrip('/')}/emulator/accounts", json=body, timeout=10)
    except httpx.HTTPError as exc:
        fail(f"cannot reach the emulator at {url}: {exc}")
    try:
        payload = response.json()
    except ValueError:
        fail(f"the emulator at {url} answered HTTP {response.status_code} without JSON")
    if response.status_code != 200:
        fail(f"the emulator refused the account: {payload.get('error', payload)}")
    if json_output:
        print_json(payload)
        return
    console.print(f"api_key:    {payload['api_key']}", highlight=False, soft_wrap=True)
    console.print(f"api_secret: {payload['api_secret']}", highlight=False, soft_wrap=True)
