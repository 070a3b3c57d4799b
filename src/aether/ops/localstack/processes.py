"""Process plumbing for embedded servers: free ports, pid checks, the unprivileged user.

Nothing here knows about a particular server; ``servers.py`` and ``postgres.py`` build on it.
"""

from __future__ import annotations

import functools
import os
import pwd
import signal
import socket
import subprocess
import threading
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

#: PostgreSQL refuses to run as root; as root we run it as this user.
SERVER_USER = "postgres"

#: Variables a server must not inherit: PG* steer the PostgreSQL tools elsewhere, AETHER_* may
#: hold the platform's own secrets.
_WITHHELD_ENV_PREFIXES = ("PG", "AETHER_")


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that are free right now.

    All sockets stay bound until every port is chosen, so the kernel cannot hand out one twice.
    """
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def port_in_use(port: int) -> bool:
    """True when something listens on (or holds) ``127.0.0.1:port``.

    SO_REUSEADDR, as the servers themselves use, so that connections of a stopped server still
    in TIME_WAIT do not count as "in use" on a restart.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


# Servers this process spawned, by pid: kept so that they are reaped (no zombie, no "still
# running" ResourceWarning when a Popen object is dropped while its server runs on).
_children: dict[int, subprocess.Popen[bytes]] = {}
_children_lock = threading.Lock()


def spawn(argv: list[str], *, log_file: Path, cwd: Path) -> int:
    """Start ``argv`` in its own session, output appended to ``log_file``; returns its pid."""
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the parent's terminal must not reach it
            cwd=cwd,
            env=server_env(),
        )
    with _children_lock:
        _children[proc.pid] = proc
    return proc.pid


def reap(pid: int) -> None:
    """Collect the exit status of a server we spawned once it has exited (else: nothing)."""
    with _children_lock:
        proc = _children.get(pid)
        if proc is not None and proc.poll() is not None:
            del _children[pid]


def read_pid(path: Path) -> int | None:
    """The pid on the first line of ``path``, or None when absent or unreadable."""
    try:
        return int(path.read_text().splitlines()[0].strip())
    except (OSError, IndexError, ValueError):
        return None


def is_ours(pid: int | None, program: str, home: Path) -> bool:
    """True when ``pid`` runs ``program`` with ``home`` as its working directory.

    A pid file can outlive its process and the pid be recycled; the name and working directory
    tell our server from a stranger (or from the same program serving another data directory).
    """
    if pid is None:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE or program not in proc.name():
            return False
    except psutil.Error:
        return False
    try:
        return os.path.realpath(proc.cwd()) == os.path.realpath(home)
    except psutil.AccessDenied:
        return True  # another user's process we may not inspect: the name has to do
    except psutil.Error:
        return False


def resume_if_frozen(pid: int) -> None:
    """SIGCONT a SIGSTOPped process: a frozen server cannot act on a request to stop."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_STOPPED:
            proc.send_signal(signal.SIGCONT)
    except psutil.Error:
        return


def terminate(pid: int, timeout: float) -> None:
    """SIGTERM, then SIGKILL (with its children) after ``timeout``; returns once it is gone."""
    try:
        proc = psutil.Process(pid)
        children = proc.children(recursive=True)
    except psutil.Error:
        return
    resume_if_frozen(pid)
    try:
        proc.terminate()
        proc.wait(timeout)
        return
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        pass
    for victim in [proc, *children]:
        try:
            victim.kill()
        except psutil.Error:
            continue
    psutil.wait_procs([proc, *children], timeout=5)


@dataclass(frozen=True, slots=True)
class RunAs:
    """An unprivileged user to run a server as (uid, primary and supplementary groups)."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]

    def subprocess_kwargs(self) -> dict[str, Any]:
        """Arguments for ``subprocess.run``/``Popen`` that drop to this user.

        The groups are set too: ``user=`` alone would keep root's group and supplementary
        groups.
        """
        return {"user": self.uid, "group": self.gid, "extra_groups": list(self.groups)}


@functools.cache
def run_as_server_user() -> RunAs | None:
    """None when not root; else the unprivileged server user, created if it does not exist."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        command = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
        subprocess.run([*command, SERVER_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(SERVER_USER)
    groups = tuple(os.getgrouplist(SERVER_USER, entry.pw_gid))
    return RunAs(SERVER_USER, entry.pw_uid, entry.pw_gid, groups)


def _user_can(user: RunAs, test: str, path: Path) -> bool:
    result = subprocess.run(
        ["test", test, str(path)], check=False, env=server_env(), **user.subprocess_kwargs()
    )
    return result.returncode == 0


def unreachable_by(user: RunAs, path: Path, *, write: bool = False) -> Path | None:
    """The first folder on the way to ``path`` that ``user`` cannot traverse, else None.

    With ``write``, ``path`` itself must also be writable to the user (else it is returned).
    """
    target = path.resolve()
    flag = "-w" if write else "-x"
    if _user_can(user, flag, target):
        return None  # the common case: one check, no walk
    for folder in [*reversed(target.parents), target]:
        if not _user_can(user, flag if folder == target else "-x", folder):
            return folder
    return target


def server_env(home: Path | None = None) -> dict[str, str]:
    """The environment for a server process: ours minus PG*/AETHER_* (and HOME if given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_WITHHELD_ENV_PREFIXES)}
    if home is not None:
        env["HOME"] = str(home)  # root's HOME is off limits to the unprivileged user
    return env


def write_private(path: Path, text: str, owner: RunAs | None = None) -> None:
    """Write ``text`` to ``path`` readable by its owner only (mode 0600 from creation on)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)  # an existing file keeps its mode through O_CREAT
        if owner is not None:
            os.fchown(handle.fileno(), owner.uid, owner.gid)
        handle.write(text)


def tail(path: Path, max_chars: int = 300) -> str:
    """The last non-empty line of a log file (shortened), or "" when there is none."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 4096))
            lines = handle.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    return last[-max_chars:]
