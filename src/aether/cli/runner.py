"""``aether runner``: an account runner process joining a running platform.

It takes the active accounts no other runner holds (a lease in PostgreSQL), trades them
until SIGINT or SIGTERM, then releases them so another runner takes them at once. Any
number may run; each account is run by exactly one at a time.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from aether.cli.context import DataDirOption, settings_for
from aether.cli.output import console, fail
from aether.ops.endpoints import ServerUrls
from aether.ops.logs import configure_logging
from aether.platform.errors import PlatformError
from aether.platform.runner import run_runner
from aether.platform.servers import running_urls
from aether.settings import InsecureSettingsError, Settings

app = typer.Typer()  # registered at the top level of ``aether``


@app.command()
def runner(
    data_dir: DataDirOption = None,
    log_level: Annotated[str | None, typer.Option(help="Log level (default: settings).")] = None,
) -> None:
    """Run an account runner: take accounts by lease and trade them until Ctrl-C."""
    settings = settings_for(data_dir, log_level=log_level)
    try:
        settings.check_profile()
        urls = running_urls(settings)
    except (InsecureSettingsError, PlatformError) as exc:
        fail(str(exc))
    configure_logging(
        level=settings.log_level,
        log_file=settings.log_dir / "runner.log",
        max_bytes=settings.log_file_max_bytes,
        backups=settings.log_file_backups,
    )
    console.print(f"account runner on {settings.data_dir}; Ctrl-C to stop")
    asyncio.run(_until_signalled(settings, urls))
    console.print("runner stopped; its accounts are released")


async def _until_signalled(settings: Settings, urls: ServerUrls) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await run_runner(settings, urls, stopping)
