"""``aether up``, ``down`` and ``status``: the whole platform on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from aether.cli.context import DataDirOption, settings_for
from aether.cli.output import console, errors, fail, print_json
from aether.ops.localstack import LocalStack, ServerStartError
from aether.platform.api_state import ApiProcess, clear_api_state, read_api_state
from aether.platform.detached import spawn_detached, stop_api, wait_ready
from aether.platform.errors import PlatformError
from aether.platform.sidecars import Sidecar
from aether.settings import InsecureSettingsError, Profile, Settings

LOCAL_BANNER = (
    "[bold]LOCAL PROFILE: NOT FOR PRODUCTION.[/] Embedded servers, venue setting 'emulator', "
    "loopback-only admin allowlist. Use AETHER_PROFILE=production with external servers."
)


def up(
    data_dir: DataDirOption = None,
    host: Annotated[
        str | None, typer.Option(help="API listen address [default: 127.0.0.1]", show_default=False)
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="API port [default: AETHER_API_PORT or 8000]", show_default=False),
    ] = None,
    detach: Annotated[
        bool, typer.Option("--detach", help="Return once /readyz is 200; stop with `aether down`.")
    ] = False,
    ready_timeout: Annotated[
        float, typer.Option(help="Seconds --detach waits for readiness.")
    ] = 60.0,
) -> None:
    """Start PostgreSQL, NATS and Redis (embedded unless URLs are set), migrate, serve the API.

    Runs in the foreground until Ctrl-C, which stops everything it started. A second `up`
    reuses the data directory.
    """
    settings = settings_for(data_dir, api_host=host, api_port=port)
    _refuse_insecure(settings)
    if settings.profile is Profile.LOCAL:
        errors.print(Panel(LOCAL_BANNER, border_style="yellow", title="aether"))
    running = read_api_state(settings.data_dir)
    if running is not None:
        fail(f"the platform already runs (pid {running.pid}) at {running.base_url}")
    if detach:
        _up_detached(settings, ready_timeout)
        return
    # Imported here: it brings the whole API stack, which `down` and `status` do not need.
    from aether.platform.foreground import run_foreground

    try:
        run_foreground(
            settings,
            settings.api_host,
            settings.api_port,
            lambda m: console.print(f"· {m}"),
            sidecars=_sidecars(settings),
        )
    except ServerStartError as exc:
        fail(f"{exc.server} could not start; see its log: {exc.log_file}\n{exc}")
    except PlatformError as exc:
        fail(str(exc))


def _sidecars(settings: Settings) -> list[Sidecar]:
    """The Kraken emulator, when the venue is the emulator (never in production)."""
    if settings.venue != "emulator" or settings.profile is Profile.PRODUCTION:
        return []
    # Only the CLI imports the emulator (an import contract keeps production code from it).
    from aether.emulator.app import create_app
    from aether.emulator.runtime import build_runtime
    from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot

    try:
        runtime = build_runtime(
            load_instrument_snapshot(),
            market=settings.emulator_market,
            seed=0,
            speed=settings.emulator_speed,
            followers=[pair.upper() for pair in settings.emulator_followers],
            rho=settings.emulator_correlation,
        )
    except ValueError as exc:
        fail(f"AETHER_EMULATOR_FOLLOWERS: {exc}", code=2)
    app = create_app(runtime)
    return [Sidecar("Kraken emulator", app, "127.0.0.1", settings.emulator_port)]


def _refuse_insecure(settings: Settings) -> None:
    try:
        settings.check_profile()
    except InsecureSettingsError as exc:
        fail(str(exc), code=2)


def _up_detached(settings: Settings, ready_timeout: float) -> None:
    log_file = settings.log_dir / "up.log"
    args = ["up", "--data-dir", str(settings.data_dir)]
    args += ["--host", settings.api_host, "--port", str(settings.api_port)]
    child = spawn_detached(args, log_file)
    target = ApiProcess(child.pid, settings.api_host, settings.api_port)
    with console.status(f"waiting for {target.base_url}/readyz"):
        try:
            wait_ready(target.base_url, child, ready_timeout)
        except PlatformError as exc:
            if child.poll() is None:
                stop_api(target)
            LocalStack(settings.data_dir).stop()
            fail(f"{exc}; its output ({log_file}) ends with:\n{_tail(log_file)}")
    console.print(
        f"[green]ready[/] at {target.base_url} (pid {child.pid}); stop with `aether down`"
    )


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def down(data_dir: DataDirOption = None) -> None:
    """Stop a detached platform and every embedded server under the data directory."""
    settings = settings_for(data_dir)
    api = read_api_state(settings.data_dir)
    if api is not None:
        console.print(f"· stopping the API (pid {api.pid})")
        stop_api(api)
    clear_api_state(settings.data_dir)
    # Whatever the API process did on its way out, leave no server behind.
    LocalStack(settings.data_dir).stop()
    console.print("[green]stopped[/]")


def status(
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """What runs, on which ports, with which PIDs, and where data and logs are."""
    settings = settings_for(data_dir)
    api = read_api_state(settings.data_dir)
    servers = LocalStack(settings.data_dir).status()
    report: dict[str, Any] = {
        "data_dir": str(settings.data_dir.resolve()),
        "log_dir": str(settings.log_dir.resolve()),
        "api": {
            "running": api is not None,
            "pid": api.pid if api else None,
            "url": api.base_url if api else None,
        },
        "servers": [
            {
                "name": s.name,
                "running": s.running,
                "pid": s.pid,
                "port": s.port,
                "data_dir": str(s.data_dir),
                "log_file": str(s.log_file),
            }
            for s in servers
        ],
    }
    if as_json:
        print_json(report)
        return
    table = Table(title=f"Aether stack in {report['data_dir']}")
    for column in ("component", "state", "pid", "port / url", "log"):
        table.add_column(column)
    table.add_row(
        "api",
        "[green]running[/]" if api else "[dim]stopped[/]",
        str(api.pid) if api else "-",
        api.base_url if api else "-",
        str(settings.log_dir / "aether.log"),
    )
    for s in servers:
        table.add_row(
            s.name,
            "[green]running[/]" if s.running else "[dim]stopped[/]",
            str(s.pid or "-"),
            str(s.port or "-"),
            str(s.log_file),
        )
    console.print(table)


app = typer.Typer()  # its commands are registered at the top level of ``aether``
app.command()(up)
app.command()(down)
app.command()(status)
