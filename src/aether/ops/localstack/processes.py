"""Process plumbing for embedded servers: free ports, pid checks, the unprivileged user."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil

#: PostgreSQL refuses to run as root; as root we run it as this user.
SERVER_USER = "postgres"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def alive(pid: int | None, name_contains: str) -> bool:
    """True when ``pid`` runs and is the expected program (a recycled pid is not ours)."""
    if pid is None:
        return False
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and name_contains in proc.name()
    except psutil.Error:
        return False


def read_pid(path: Path) -> int | None:
    try:
        first = path.read_text().splitlines()[0].strip()
        return int(first)
    except (OSError, IndexError, ValueError):
        return None


def resume_if_frozen(pid: int) -> None:
    """SIGCONT a SIGSTOPped process: a frozen server cannot act on a request to stop."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_STOPPED:
            proc.send_signal(signal.SIGCONT)
    except psutil.Error:
        return


def terminate(pid: int, timeout: float) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; returns once the process is gone."""
    resume_if_frozen(pid)
    try:
        proc = psutil.Process(pid)
        proc.terminate()
        proc.wait(timeout)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def run_as_server_user() -> str | None:
    """The user to run PostgreSQL as: None when not root, else the unprivileged user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ],
            check=True,
            capture_output=True,
        )
    return SERVER_USER


def unreachable_by(user: str, path: Path, *, write: bool = False) -> Path | None:
    """The first folder on the way to ``path`` that ``user`` cannot traverse (or None)."""
    flag = "-w" if write else "-x"
    checks = [*reversed(path.resolve().parents), path.resolve()]
    for folder in checks:
        test = "-x" if folder != path.resolve() else flag
        result = subprocess.run(["test", test, str(folder)], user=user, check=False)
        if result.returncode != 0:
            return folder
    return None


def wait_until(check: Callable[[], bool], deadline: float, interval: float = 0.05) -> bool:
    """Call ``check()`` until it returns True or ``deadline`` (monotonic) passes."""
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return bool(check())
