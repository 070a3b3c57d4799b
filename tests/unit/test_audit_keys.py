"""Where the audit key comes from, how it is kept, and what production demands of it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from aether.audit.keys import AuditKey, AuditKeyError, key_file, resolve_audit_key
from aether.settings import Settings


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AETHER_AUDIT_HMAC_KEY", raising=False)


def test_the_setting_wins_and_a_short_key_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, audit_hmac_key="s" * 40)  # type: ignore[arg-type]
    assert resolve_audit_key(settings) == AuditKey(b"s" * 40)
    assert not key_file(settings).exists()
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(audit_hmac_key="short")  # type: ignore[arg-type]
    assert "s" * 40 not in repr(resolve_audit_key(settings))


def test_local_key_file_is_created_once_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")  # type: ignore[arg-type]
    with pytest.raises(AuditKeyError, match="aether up"):
        resolve_audit_key(settings)  # never created behind the operator's back
    first = resolve_audit_key(settings, create=True)
    path = key_file(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert resolve_audit_key(settings, create=True) == first == resolve_audit_key(settings)
    path.chmod(0o644)
    with pytest.raises(AuditKeyError, match="readable by others"):
        resolve_audit_key(settings)


def test_production_needs_the_setting(tmp_path: Path) -> None:
    settings = Settings(profile="production", data_dir=tmp_path)  # type: ignore[arg-type]
    assert "AETHER_AUDIT_HMAC_KEY is missing" in settings.production_problems()
    with pytest.raises(AuditKeyError, match="AETHER_AUDIT_HMAC_KEY"):
        resolve_audit_key(settings, create=True)
    assert not key_file(settings).exists()


def test_row_and_checkpoint_keys_differ() -> None:
    key = AuditKey(b"k" * 32)
    assert key.row_key != key.checkpoint_key
    assert len(key.row_key) == 32
