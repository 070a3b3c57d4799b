"""ASGI apps served beside the API in threads of the same process (the emulator)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from aether.platform.errors import PlatformError


@dataclass(frozen=True, slots=True)
class Sidecar:
    """Another ASGI server the foreground platform runs beside the API (the emulator)."""

    name: str
    app: Any
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


class SidecarThread:
    """A sidecar served by uvicorn in a thread of this process (signals stay with the API).

    Tests and benchmarks use it too, to serve an app (the emulator, a stand-in for an
    outside API) on a loopback port.
    """

    def __init__(self, sidecar: Sidecar) -> None:
        self.sidecar = sidecar
        config = uvicorn.Config(
            sidecar.app,
            host=sidecar.host,
            port=sidecar.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,  # an open WebSocket must not hold the stop
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=sidecar.name, daemon=True)

    def start(self, timeout: float = 20.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise PlatformError(
                    f"{self.sidecar.name} could not listen on {self.sidecar.base_url} "
                    "(is the port in use?)"
                )
            time.sleep(0.02)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop serving and wait for the thread; PlatformError if it is still running (a
        sidecar left ticking in the background would slow everything after it)."""
        self.server.should_exit = True
        self.thread.join(timeout=timeout)
        if self.thread.is_alive():
            raise PlatformError(f"{self.sidecar.name} did not stop within {timeout:g}s")
