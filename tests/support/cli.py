"""The `aether` command as an operator runs it: a subprocess with a clean environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.network import free_port


def aether_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ``AETHER_*`` setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AETHER_")}
    # Each `up` gets its own emulator port, so runs never collide on the default 8100.
    env["AETHER_EMULATOR_PORT"] = str(free_port())
    env.update(extra)
    return env


def aether(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``aether *args``; its result, whatever the exit code."""
    return subprocess.run(
        [sys.executable, "-m", "aether.cli", *args],
        env=env or aether_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def init_company(data_dir: Path, company: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """``aether accounts init --json`` for ``company`` with directors Dana and Eli and admin
    ``ops``; its JSON answer (the admin's ``api_key`` and the ``accounts``)."""
    result = aether(
        "accounts",
        "init",
        "--json",
        "--data-dir",
        str(data_dir),
        "--company",
        company,
        "--director",
        "Dana",
        "--director",
        "Eli",
        "--admin",
        "ops",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


@dataclass
class ServedEmulator:
    """``aether emulator`` running in a subprocess; ``out`` and ``err`` once it has stopped."""

    url: str
    process: subprocess.Popen[str]
    out: str = ""
    err: str = ""


@contextmanager
def served_emulator(*options: str) -> Iterator[ServedEmulator]:
    """``aether emulator --port <free> *options``, answering ``/0/public/Time`` before the body
    runs, stopped with Ctrl-C (SIGINT) after it; its exit code and output are kept."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aether.cli", "emulator", "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = ServedEmulator(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()
            try:
                if httpx.get(f"{served.url}/0/public/Time", timeout=1).json()["error"] == []:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the emulator did not answer /0/public/Time"
            time.sleep(0.1)
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        served.out, served.err = process.communicate(timeout=20)
