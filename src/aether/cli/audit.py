"""``aether audit``: verify the hash chain."""

from __future__ import annotations

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from aether.audit import log as audit
from aether.cli.context import DataDirOption, database_url, run, session_scope, settings_for
from aether.cli.output import console, fail

app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)


@app.command()
def verify(data_dir: DataDirOption = None) -> None:
    """Walk the chain: exit 0 with the row count when intact, 1 naming the first broken row."""
    url = database_url(settings_for(data_dir))
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("verifying audit chain", total=None)

        async def work() -> audit.VerifyResult:
            async with session_scope(url) as session:
                return await audit.verify(
                    session,
                    progress=lambda n: progress.update(task, description=f"verified {n} rows"),
                )

        result = run(work)
    if result.first_break is not None:
        fail(
            f"audit chain broken at seq {result.first_break.seq}: {result.first_break.reason} "
            f"({result.rows} rows before it are intact)"
        )
    console.print(f"[green]OK[/]: audit chain intact, {result.rows} rows")
