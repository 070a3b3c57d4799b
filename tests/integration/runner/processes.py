"""``aether runner`` processes as an operator starts them, on this test's servers, and a live
account on the emulator for them to trade."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text, update

from aether.audit.keys import AuditKey, audit_session_info
from aether.ops.endpoints import ServerUrls
from aether.security import vault
from aether.security.kek import Kek, KekRing, vault_session_info
from aether.storage.database import create_engine, session_factory
from aether.storage.tables import AccountRow
from aether.venues.kraken.rest import Credentials
from tests.integration.emulator.conftest import Emulator, Kraken
from tests.support.cli import aether_env

KEK = os.urandom(32)


@dataclass
class RunnerProcess:
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no cleanup, no lease released."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait(10)
        return self.process.returncode


def runner_env(urls: ServerUrls, emulator_url: str) -> dict[str, str]:
    """A runner's environment: this test's servers, Kraken at the emulator, the test's KEK."""
    return aether_env(
        AETHER_DATABASE_URL=urls.database_url,
        AETHER_NATS_URL=urls.nats_url,
        AETHER_REDIS_URL=urls.redis_url,
        AETHER_KRAKEN_REST_URL=emulator_url,
        AETHER_CREDENTIAL_ENCRYPTION_KEY=base64.b64encode(KEK).decode(),
        AETHER_AUDIT_HMAC_KEY=os.environ["AETHER_AUDIT_HMAC_KEY"],
    )


def start_runner(env: dict[str, str], data_dir: Path, name: str) -> RunnerProcess:
    log = data_dir / f"{name}.out"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "aether.cli", "runner", "--data-dir", str(data_dir)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return RunnerProcess(process, log)


async def make_live(db_url: str, key: AuditKey, account_id: uuid.UUID, kraken: Kraken) -> None:
    """Store the emulator account's credentials in the vault and switch the account to live
    (directly: the switch's own checks are tested elsewhere)."""
    engine = create_engine(db_url, pool_size=1)
    try:
        info = {**audit_session_info(key), **vault_session_info(KekRing(Kek(KEK)))}
        async with session_factory(engine, info=info)() as session:
            await vault.store(
                session,
                account_id,
                Credentials(kraken.key, kraken.secret),
                permissions=["query_funds", "create_modify_orders", "cancel_close_orders"],
                validated_at=datetime.now(UTC),
                actor="system:test",
            )
            await session.execute(
                update(AccountRow).where(AccountRow.id == account_id).values(mode="live")
            )
            await session.commit()
    finally:
        await engine.dispose()


async def lease_holder(db_url: str, account_id: uuid.UUID) -> str | None:
    """The holder of the account's live lease, or None."""
    engine = create_engine(db_url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            return await session.scalar(
                text(
                    "SELECT holder FROM account_leases WHERE account_id = :a "
                    "AND expires_at > clock_timestamp()"
                ),
                {"a": account_id},
            )
    finally:
        await engine.dispose()


def emulator_orders(emulator: Emulator, kraken: Kraken) -> Counter[str | None]:
    """How many orders the emulator holds (open or closed) per ``cl_ord_id``."""
    exchange = emulator.runtime.exchange
    orders = [*exchange.open_orders(kraken.key), *exchange.closed_orders(kraken.key)]
    return Counter(order.cl_ord_id for order in orders)
