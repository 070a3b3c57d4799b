"""The checkpoint log: signed lines that read back, and lines that do not once touched."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aether.audit import checkpoints
from aether.audit.checkpoints import Checkpoint, CheckpointLogError
from aether.audit.keys import AuditKey

KEY = AuditKey(b"k" * 32)
AT = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def _checkpoint(seq: int) -> Checkpoint:
    return Checkpoint("aether", seq, f"{seq:064x}", seq, AT)


def test_appended_checkpoints_read_back_in_order_from_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "checkpoints.log"
    assert checkpoints.read_log(path, KEY) == []
    assert checkpoints.last(path, KEY) is None
    checkpoints.append(path, _checkpoint(3), KEY)
    checkpoints.append(path, _checkpoint(7), KEY)
    assert checkpoints.read_log(path, KEY) == [_checkpoint(3), _checkpoint(7)]
    assert checkpoints.last(path, KEY) == _checkpoint(7)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"seq": 7', '"seq": 9'),
        ('"rows": 7', '"rows": 1'),
        ('"database": "aether"', '"database": "x"'),
    ],
)
def test_an_edited_line_is_named(tmp_path: Path, old: str, new: str) -> None:
    path = tmp_path / "checkpoints.log"
    checkpoints.append(path, _checkpoint(3), KEY)
    checkpoints.append(path, _checkpoint(7), KEY)
    first, second = path.read_text().splitlines(keepends=True)
    assert old in second
    path.write_text(first + second.replace(old, new))
    with pytest.raises(CheckpointLogError, match=r"line 2: signature does not match"):
        checkpoints.read_log(path, KEY)


def test_a_line_signed_with_another_key_or_garbage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.log"
    checkpoints.append(path, _checkpoint(1), AuditKey(b"x" * 32))
    with pytest.raises(CheckpointLogError, match="line 1: signature"):
        checkpoints.read_log(path, KEY)
    path.write_text("not json\n")
    with pytest.raises(CheckpointLogError, match="line 1: not a checkpoint"):
        checkpoints.read_log(path, KEY)
