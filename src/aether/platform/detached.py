"""A detached platform: ``aether up`` (foreground mode) in its own session, waited on until
``/readyz`` answers 200, and stopped by signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from aether.platform.api_state import ApiProcess
from aether.platform.errors import PlatformError


def spawn_detached(args: list[str], log_file: Path) -> subprocess.Popen[bytes]:
    """Start ``aether up`` (foreground mode) as a session leader writing to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "aether.cli", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=os.environ.copy(),
        )


def wait_ready(base_url: str, child: subprocess.Popen[bytes], timeout: float) -> None:
    """Poll ``/readyz`` until 200; raise PlatformError if the child dies or time runs out."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            code = child.poll()
            if code is not None:
                raise PlatformError(f"the platform exited with status {code} while starting")
            try:
                response = client.get(f"{base_url}/readyz")
                if response.status_code == 200:
                    return
                last = f"/readyz answered {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}"
            time.sleep(0.2)
    raise PlatformError(f"not ready after {timeout:g}s ({last})")


def stop_api(api: ApiProcess, timeout: float = 30.0) -> bool:
    """SIGTERM the foreground ``up`` process and wait; SIGKILL if it will not go. True if it ran."""
    try:
        proc = psutil.Process(api.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)
    except psutil.NoSuchProcess:
        return False
    except psutil.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    return True
