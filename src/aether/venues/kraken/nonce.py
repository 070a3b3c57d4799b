"""Strictly increasing REST nonces for one API key, shared by restarts and processes.

Kraken rejects a private call whose nonce is not greater than the last one it accepted for
the key (``EAPI:Invalid nonce``), and repeated failures can lock the key out. So every
process that signs with a key takes its nonces from one :class:`NonceStore` file: under an
exclusive ``flock`` it reads the last nonce issued, issues ``max(last + 1, now_ms)`` and
writes it back before releasing the lock. The wall-clock floor keeps nonces near Kraken's
recommended "milliseconds since the epoch"; ``last + 1`` keeps them increasing when the
clock steps back or many nonces are drawn within one millisecond.

The file holds the decimal nonce and a newline. It is created with mode 0600. A file that
does not hold exactly that (or holds more than 2**64 - 1) is an error naming the file:
the store never silently restarts from zero. Only ``flock`` across processes on one
machine is promised; do not put the file on a network filesystem.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["NonceStore", "NonceStoreError", "wall_clock_ms"]

_U64_MAX = 2**64 - 1
_CONTENT = re.compile(rb"(0|[1-9][0-9]*)\n")


class NonceStoreError(RuntimeError):
    """The nonce file cannot be used; the message names the file and what is wrong."""


def wall_clock_ms() -> int:
    """Milliseconds since the Unix epoch from the system clock."""
    return time.time_ns() // 1_000_000


class NonceStore:
    """Nonces for one API key from the file at ``path`` (its folder must exist).

    ``clock`` returns milliseconds since the epoch (default: the wall clock); tests pass a
    fake one. Safe to use from several threads and processes at once.
    """

    def __init__(self, path: Path, clock: Callable[[], int] = wall_clock_ms) -> None:
        self.path = Path(path)
        self._clock = clock

    def next(self) -> int:
        """The next nonce: greater than every nonce issued from this file before."""
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = self._read(fd)
            now_ms = self._clock()
            # A float (seconds, say) written here would corrupt the file for every process.
            if isinstance(now_ms, bool) or not isinstance(now_ms, int) or now_ms < 0:
                raise NonceStoreError(f"{self.path}: clock gave {now_ms!r}, not integer ms")
            nonce = max(now_ms, 0 if last is None else last + 1)
            if nonce > _U64_MAX:
                raise NonceStoreError(f"{self.path}: the next nonce {nonce} exceeds 2**64 - 1")
            self._write(fd, nonce)
            return nonce
        finally:
            # Closing the descriptor releases the flock.
            os.close(fd)

    def last(self) -> int | None:
        """The last nonce issued, or None when none has been; does not issue one."""
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            return self._read(fd)
        finally:
            os.close(fd)

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW
        try:
            fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        except OSError as exc:
            raise NonceStoreError(f"{self.path}: cannot create nonce file: {exc}") from None
        else:
            # Created owner read/write only: a umask can narrow 0600, never widen it.
            return fd
        try:
            return os.open(self.path, flags)
        except OSError as exc:
            raise NonceStoreError(f"{self.path}: cannot open nonce file: {exc}") from None

    def _read(self, fd: int) -> int | None:
        raw = os.pread(fd, 64, 0)
        if not raw:
            # Only a file this store just created (or one that crashed before its first
            # write) is empty: the file is written under the lock before the lock is freed.
            return None
        match = _CONTENT.fullmatch(raw)
        if match is None:
            raise NonceStoreError(
                f"{self.path}: corrupt nonce file (expected one decimal integer and a newline,"
                f" got {raw[:32]!r}); refusing to guess the last nonce"
            )
        value = int(match.group(1))
        if value > _U64_MAX:
            raise NonceStoreError(f"{self.path}: stored nonce {value} exceeds 2**64 - 1")
        return value

    def _write(self, fd: int, nonce: int) -> None:
        data = f"{nonce}\n".encode("ascii")
        # Nonces only grow, so the new text is never shorter than the old one and the
        # truncate is a safety net; fsync so a crash cannot hand out an issued nonce again.
        written = os.pwrite(fd, data, 0)
        if written != len(data):
            raise NonceStoreError(f"{self.path}: short write of the nonce file")
        os.ftruncate(fd, len(data))
        os.fsync(fd)
