"""``aether audit``: verify the keyed hash chain against its signed checkpoints; checkpoint it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import DBAPIError

from aether.audit import checkpoints
from aether.audit import log as audit
from aether.audit.checkpointer import CheckpointRefusedError, write_checkpoint
from aether.audit.checkpoints import Checkpoint, CheckpointLogError
from aether.audit.keys import AuditKey
from aether.cli.context import (
    DataDirOption,
    audit_key,
    database_url,
    run,
    session_scope,
    settings_for,
)
from aether.cli.output import console, fail

app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)
T = TypeVar("T")


def _guarded(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``work``; a missing table, an untrustworthy checkpoint log or a database error
    exits 1 with its reason, never a traceback."""
    try:
        return run(work)
    except (audit.AuditTableMissingError, CheckpointLogError, CheckpointRefusedError) as exc:
        fail(str(exc))
    except DBAPIError as exc:
        fail(f"database error: {exc.orig}")


@app.command()
def verify(data_dir: DataDirOption = None) -> None:
    """Walk the chain and hold it to the signed checkpoints: exit 0 with the row count when
    intact, 1 naming what is wrong (a row that fails its HMAC, a deleted tail, a wiped table)."""
    settings = settings_for(data_dir)
    url = database_url(settings)
    key: AuditKey = audit_key(settings)
    path = settings.audit_checkpoint_file
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("verifying audit chain", total=None)

        async def work() -> audit.VerifyResult:
            anchors = checkpoints.read_log(path, key)
            async with session_scope(url, key) as session:
                return await audit.verify(
                    session,
                    checkpoints=anchors,
                    progress=lambda n: progress.update(task, description=f"verified {n} rows"),
                )

        result = _guarded(work)
    if result.first_break is not None:
        fail(
            f"audit chain broken at seq {result.first_break.seq}: {result.first_break.reason} "
            f"({result.rows} rows before it are intact; checkpoint log {path})"
        )
    held = (
        f"held to {result.checkpoints} signed checkpoint(s)"
        if result.checkpoints
        else f"no checkpoint yet in {path} (`aether audit checkpoint` writes one)"
    )
    console.print(f"[green]OK[/]: audit chain intact, {result.rows} rows, {held}")


@app.command()
def checkpoint(data_dir: DataDirOption = None) -> None:
    """Sign the chain's head (seq, hash, row count, time) into the checkpoint log; refused
    when the chain no longer matches the last checkpoint."""
    settings = settings_for(data_dir)
    url = database_url(settings)
    key = audit_key(settings)
    path = settings.audit_checkpoint_file

    async def work() -> Checkpoint | None:
        async with session_scope(url, key) as session:
            return await write_checkpoint(session, path)

    written = _guarded(work)
    if written is None:
        console.print("the audit log is empty: nothing to checkpoint yet")
        return
    console.print(
        f"[green]checkpoint[/]: seq {written.seq}, {written.rows} rows, hash {written.hash} "
        f"({written.at.isoformat(timespec='seconds')}) in {path}"
    )
