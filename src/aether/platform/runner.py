"""The account runner of a process, built from the settings: in its own thread and event
loop beside the API (``aether up``), or as the whole process (``aether runner``)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry

from aether.audit.keys import audit_session_info, resolve_audit_key
from aether.oms.reconcile_report import ReconciliationMetrics
from aether.ops.endpoints import ServerUrls
from aether.ops.tasks import stop_task
from aether.runner.service import RunnerService
from aether.security.kek import resolve_kek_ring, vault_session_info
from aether.settings import Settings
from aether.storage.database import create_engine, session_factory

__all__ = ["RunnerThread", "run_runner", "runner_service", "session_info"]


def session_info(settings: Settings) -> dict[str, object]:
    """What a trading process's sessions carry: the audit key and the vault's KEKs."""
    return {
        **audit_session_info(resolve_audit_key(settings)),
        **vault_session_info(resolve_kek_ring(settings)),
    }


@asynccontextmanager
async def runner_service(settings: Settings, urls: ServerUrls) -> AsyncIterator[RunnerService]:
    """A runner on the settings' servers; its database engine is disposed of after."""
    engine = create_engine(urls.database_url)
    try:
        yield RunnerService(
            session_factory(engine, info=session_info(settings)),
            nats_url=urls.nats_url,
            kraken_url=settings.kraken_rest_base,
            nonce_dir=settings.data_dir / "nonces",
            live_refusal=settings.live_trading_refusal(),
            metrics=ReconciliationMetrics(CollectorRegistry()),
        )
    finally:
        await engine.dispose()


async def run_runner(settings: Settings, urls: ServerUrls, stopping: asyncio.Event) -> None:
    """Run a runner until ``stopping`` is set; every lease is released on the way out."""
    async with runner_service(settings, urls) as runner:
        task = asyncio.create_task(runner.run(), name="runner")
        waiter = asyncio.create_task(stopping.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        await stop_task(waiter)
        if task.done():
            task.result()  # a runner that ended by itself failed: say so
        await stop_task(task)


class RunnerThread:
    """A runner in a thread of this process with its own event loop (``aether up``)."""

    def __init__(self, settings: Settings, urls: ServerUrls) -> None:
        self.settings = settings
        self.urls = urls
        self._loop = asyncio.new_event_loop()
        self._stopping = asyncio.Event()
        self.thread = threading.Thread(target=self._main, name="account runner", daemon=True)
        self.error: BaseException | None = None

    def _main(self) -> None:
        try:
            self._loop.run_until_complete(run_runner(self.settings, self.urls, self._stopping))
        except BaseException as exc:  # reported by stop(); the API keeps serving meanwhile
            self.error = exc
        finally:
            self._loop.close()

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the runner (its leases are released) and wait for the thread."""
        if self.thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self.thread.join(timeout)
