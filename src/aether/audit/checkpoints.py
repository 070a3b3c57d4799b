"""Signed checkpoints of the audit chain's head, kept in an append-only file outside the database.

One JSON line per checkpoint: the database's name, the head's ``seq`` and ``hash``, the row
count and the time, signed with an HMAC under the audit key's checkpoint sub-key. Whoever can
rewrite the table can neither forge nor rewrite a checkpoint, so a deleted tail, a wiped table
or a restarted chain no longer verifies. Lines are appended under an exclusive ``flock`` with
one ``write`` each; the folder is 0700 and the file 0600.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aether.audit.keys import AuditKey

FORMAT_VERSION = 1


class CheckpointLogError(RuntimeError):
    """The checkpoint log cannot be trusted (a line is altered, forged or unreadable)."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain's head as it stood at ``at``."""

    database: str
    seq: int
    hash: str
    rows: int
    at: datetime

    def body(self) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION,
            "database": self.database,
            "seq": self.seq,
            "hash": self.hash,
            "rows": self.rows,
            "at": self.at.isoformat(timespec="microseconds"),
        }

    def describe(self) -> str:
        return f"the checkpoint of {self.at.isoformat(timespec='seconds')}"


def _signature(key: AuditKey, body: dict[str, Any]) -> str:
    message = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hmac.new(key.checkpoint_key, message, hashlib.sha256).hexdigest()


def encode_line(checkpoint: Checkpoint, key: AuditKey) -> str:
    body = checkpoint.body()
    return json.dumps({**body, "sig": _signature(key, body)}, sort_keys=True) + "\n"


def decode_line(line: str, key: AuditKey, where: str) -> Checkpoint:
    """One checkpoint from its line; CheckpointLogError naming ``where`` if it is not genuine."""
    try:
        raw = json.loads(line)
        signature = raw.pop("sig")
        if not isinstance(raw, dict) or not isinstance(signature, str):
            raise TypeError("not an object with a signature")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CheckpointLogError(f"{where}: not a checkpoint ({exc})") from exc
    if not hmac.compare_digest(signature, _signature(key, raw)):
        raise CheckpointLogError(
            f"{where}: signature does not match (the line was altered or forged, or the audit "
            "key changed)"
        )
    try:
        if raw["v"] != FORMAT_VERSION:
            raise ValueError(f"unknown format version {raw['v']!r}")
        return Checkpoint(
            database=str(raw["database"]),
            seq=int(raw["seq"]),
            hash=str(raw["hash"]),
            rows=int(raw["rows"]),
            at=datetime.fromisoformat(str(raw["at"])),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointLogError(f"{where}: {exc}") from exc


def read_log(path: Path, key: AuditKey) -> list[Checkpoint]:
    """Every checkpoint in the log, oldest first; none when the file does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [
        decode_line(line, key, f"{path} line {number}")
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]


def last(path: Path, key: AuditKey) -> Checkpoint | None:
    """The newest checkpoint (the last line: lines are appended in seq order), or None."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    for number in range(len(lines), 0, -1):
        if lines[number - 1].strip():
            return decode_line(lines[number - 1], key, f"{path} line {number}")
    return None


def append(path: Path, checkpoint: Checkpoint, key: AuditKey) -> None:
    """Append one signed line, flushed to disk before returning."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = encode_line(checkpoint, key).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock
