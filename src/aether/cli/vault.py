"""``aether vault``: the credential vault's key-encryption key rotation."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import DBAPIError

from aether.audit.keys import AuditKey, audit_session_info
from aether.cli.context import DataDirOption, audit_key, database_url, run, settings_for
from aether.cli.output import console, fail
from aether.security import kek_rotation
from aether.security.envelope import EnvelopeError
from aether.security.kek import KekError, KekRing, resolve_kek_ring, vault_session_info
from aether.storage.database import create_engine, session_factory

app = typer.Typer(
    help="The credential vault: account API keys under envelope encryption.",
    no_args_is_help=True,
)

ACTOR = "system:cli vault rotate-kek"


@app.command("rotate-kek")
def rotate_kek(
    data_dir: DataDirOption = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            help="Re-wrap at most this many credentials, then stop; run again to go on.",
        ),
    ] = None,
) -> None:
    """Re-wrap every stored credential's data key under the current key-encryption key.

    The current KEK is AETHER_CREDENTIAL_ENCRYPTION_KEY (or ..._KEY_FILE); the one being
    retired is AETHER_CREDENTIAL_ENCRYPTION_PREVIOUS_KEY (or ..._FILE). Each credential is
    re-wrapped in its own transaction and audited; ones already under the current KEK are
    skipped, so an interrupted run is finished by running it again. Exits 1 when a credential
    could not be re-wrapped (its KEK is not configured, or it does not decrypt).
    """
    settings = settings_for(data_dir)
    url = database_url(settings)
    key = audit_key(settings)
    try:
        ring = resolve_kek_ring(settings)
    except KekError as exc:
        fail(str(exc))
    try:
        done, failed, left = run(lambda: _rotate(url, key, ring, limit))
    except DBAPIError as exc:
        fail(f"database error: {exc.orig}")
    console.print(f"re-wrapped {done} credential(s) under {ring.current.kek_id}; {left} left to do")
    if failed:
        fail("could not re-wrap:\n  " + "\n  ".join(failed))


async def _rotate(
    url: str, key: AuditKey, ring: KekRing, limit: int | None
) -> tuple[int, list[str], int]:
    """(re-wrapped, failures naming account and reason, still pending)."""
    engine = create_engine(url, pool_size=1)
    sessions = session_factory(engine, info={**audit_session_info(key), **vault_session_info(ring)})
    done, failed = 0, []
    try:
        async with sessions() as session:
            todo: list[uuid.UUID] = await kek_rotation.pending(session, ring)
        batch = todo[:limit] if limit is not None else todo
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("re-wrapping data keys", total=len(batch))
            for account_id in batch:
                try:
                    async with sessions() as session, session.begin():
                        if await kek_rotation.rewrap_one(session, account_id, actor=ACTOR):
                            done += 1
                except (KekError, EnvelopeError) as exc:
                    failed.append(f"account {account_id}: {exc}")
                progress.advance(task)
        async with sessions() as session:
            left = len(await kek_rotation.pending(session, ring))
    finally:
        await engine.dispose()
    return done, failed, left
