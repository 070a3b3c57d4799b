"""The `aether` command as an operator runs it: a subprocess with a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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
