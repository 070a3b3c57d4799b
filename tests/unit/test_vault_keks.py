"""Where the vault's key-encryption keys come from, how the local one is kept, and what
production demands."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from aether.security.kek import Kek, KekError, local_kek_file, resolve_kek_ring
from aether.settings import Settings

KEY = os.urandom(32)
TEXT = base64.b64encode(KEY).decode()


@pytest.fixture(autouse=True)
def _no_kek_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KEY", "KEY_FILE", "PREVIOUS_KEY", "PREVIOUS_KEY_FILE"):
        monkeypatch.delenv(f"AETHER_CREDENTIAL_ENCRYPTION_{name}", raising=False)


def test_the_variable_or_the_file_gives_the_current_kek(tmp_path: Path) -> None:
    by_variable = resolve_kek_ring(Settings(data_dir=tmp_path, credential_encryption_key=TEXT))  # type: ignore[arg-type]
    mounted = tmp_path / "secret" / "kek"  # as a Kubernetes secret volume mounts it
    mounted.parent.mkdir()
    mounted.write_text(TEXT + "\n")
    by_file = resolve_kek_ring(Settings(data_dir=tmp_path, credential_encryption_key_file=mounted))  # type: ignore[arg-type]
    assert by_variable.current == by_file.current == Kek(KEY)
    assert by_variable.previous is None
    assert not local_kek_file(Settings(data_dir=tmp_path)).exists()  # type: ignore[arg-type]


def test_the_previous_kek_joins_the_ring_for_rotation(tmp_path: Path) -> None:
    old = os.urandom(32)
    ring = resolve_kek_ring(
        Settings(  # type: ignore[arg-type]
            data_dir=tmp_path,
            credential_encryption_key=TEXT,
            credential_encryption_previous_key=base64.b64encode(old).decode(),
        )
    )
    assert ring.previous == Kek(old)
    assert ring.by_id(Kek(old).kek_id) == Kek(old)
    with pytest.raises(KekError, match="PREVIOUS_KEY"):
        ring.by_id("kek-0000000000000000")


def test_bad_keys_and_ambiguous_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(credential_encryption_previous_key=base64.b64encode(b"x" * 16).decode())  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="not both"):
        Settings(credential_encryption_key=TEXT, credential_encryption_key_file=tmp_path / "k")  # type: ignore[arg-type]
    bad = tmp_path / "bad"
    bad.write_text("not base64 %%%")
    with pytest.raises(KekError, match=r"KEY_FILE: the key in .* must be base64"):
        resolve_kek_ring(Settings(credential_encryption_key_file=bad))  # type: ignore[arg-type]
    with pytest.raises(KekError, match="cannot read"):
        resolve_kek_ring(Settings(credential_encryption_key_file=tmp_path / "absent"))  # type: ignore[arg-type]


def test_local_kek_file_is_created_once_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")  # type: ignore[arg-type]
    with pytest.raises(KekError, match="does not exist"):
        resolve_kek_ring(settings)  # never created unless asked
    first = resolve_kek_ring(settings, create=True)
    path = local_kek_file(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert resolve_kek_ring(settings, create=True) == first == resolve_kek_ring(settings)
    path.chmod(0o640)
    with pytest.raises(KekError, match="readable by others"):
        resolve_kek_ring(settings)


def test_production_never_falls_back_to_a_local_file(tmp_path: Path) -> None:
    settings = Settings(profile="production", data_dir=tmp_path)  # type: ignore[arg-type]
    assert any("CREDENTIAL_ENCRYPTION_KEY is missing" in p for p in settings.production_problems())
    with pytest.raises(KekError, match="required in production"):
        resolve_kek_ring(settings, create=True)
    assert not local_kek_file(settings).exists()
    mounted = tmp_path / "kek"
    mounted.write_text(TEXT)
    with_file = Settings(profile="production", credential_encryption_key_file=mounted)  # type: ignore[arg-type]
    assert not any("CREDENTIAL_ENCRYPTION" in p for p in with_file.production_problems())
