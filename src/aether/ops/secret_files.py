"""Key files the platform keeps in its data directory (the audit key, the vault's local KEK).

Rules: a key file is created once, owner-only (0600) in an owner-only folder (0700), with
``O_EXCL`` so two first starts racing never end up with two different keys; a key file that
group or others may read is refused, never silently used.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class SecretFileError(RuntimeError):
    """A key file others may read; the message names it and the fix."""


def create_once(path: Path, content: str) -> None:
    """Write ``content`` to a new owner-only ``path``; nothing when the file exists already."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as out:
        out.write(content)


def read_private(path: Path) -> str:
    """The text of ``path``; SecretFileError when group or others may read it."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretFileError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    return path.read_text()
