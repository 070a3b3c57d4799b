"""JSON logs with request ids; secrets never reach stderr or the file; rotation with gzip."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from aether.ops.logs import (
    bind_request_id,
    clear_request_context,
    configure_logging,
    redact_text,
)

KEY = "aek_ab12cd34ef56_S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tXYZ"
SECRET_PART = "S3cr3tS3cr3t"
DB_PASSWORD = "hunter2-db-pass"
BEARER = "tok-e1e2e3e4e5"


@pytest.fixture(autouse=True)
def reset_logging() -> Iterator[None]:
    root = logging.getLogger()
    before = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before[0]:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(before[1])
    clear_request_context()
    structlog.reset_defaults()


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_lines_are_json_with_request_id_while_bound(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    configure_logging(log_file=tmp_path / "aether.log")
    log = structlog.get_logger("aether.test")
    bind_request_id("req-1234")
    log.info("inside", n=1)
    clear_request_context()
    log.info("outside")
    inside, outside = _lines(capfd.readouterr().err)
    assert inside["event"] == "inside"
    assert inside["request_id"] == "req-1234"
    assert inside["level"] == "info"
    assert str(inside["timestamp"]).endswith("Z")
    assert "request_id" not in outside
    assert len(_lines((tmp_path / "aether.log").read_text())) == 2


def test_secrets_are_redacted_everywhere(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    log_file = tmp_path / "aether.log"
    configure_logging(log_file=log_file)
    log = structlog.get_logger("aether.test")
    log.info("named field", api_key=KEY, password="pw-visible-nowhere")
    log.info("innocent field", note=f"used {KEY} today")
    log.info("nested", request={"headers": {"Authorization": f"Bearer {BEARER}"}, "ok": "kept"})
    log.info(f"message holds {KEY}")
    log.info("url", dsn=f"postgresql://aether:{DB_PASSWORD}@127.0.0.1:5432/aether")
    log.info("header", header=f"Authorization: Bearer {BEARER}")
    try:
        raise RuntimeError(f"failed with {KEY}")
    except RuntimeError:
        log.exception("boom")
    logging.getLogger("uvicorn").info("stdlib says %s", KEY)

    for output in (capfd.readouterr().err, log_file.read_text()):
        assert SECRET_PART not in output
        assert "pw-visible-nowhere" not in output
        assert DB_PASSWORD not in output
        assert BEARER not in output
        assert "aek_ab12cd34ef56_***" in output
        assert "postgresql://aether:***@127.0.0.1:5432/aether" in output
        assert "kept" in output
        assert "RuntimeError" in output
        assert len(_lines(output)) == 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key={KEY}", "key=aek_ab12cd34ef56_***"),
        (f"Bearer {BEARER}", "Bearer ***"),
        ("redis://:pw123@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("nats://tok123@127.0.0.1:4222", "nats://***@127.0.0.1:4222"),
        ('"API-Sign": "abcDEF=="', '"API-Sign": "***"'),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_rotation_compresses_and_keeps_only_the_configured_backups(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "aether.log"
    configure_logging(log_file=log_file, max_bytes=10_000, backups=2)
    log = structlog.get_logger("aether.test")
    for i in range(600):
        log.info("filler line to force rotation", i=i, padding="x" * 40)
    names = sorted(p.name for p in log_file.parent.iterdir())
    assert names == ["aether.log", "aether.log.1.gz", "aether.log.2.gz"]
    with gzip.open(log_file.parent / "aether.log.1.gz", "rt") as rotated:
        assert _lines(rotated.read())[0]["event"] == "filler line to force rotation"


def test_configuring_twice_does_not_duplicate_lines(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    configure_logging(log_file=tmp_path / "a.log")
    configure_logging(log_file=tmp_path / "a.log")
    structlog.get_logger("aether.test").info("once")
    assert len(_lines(capfd.readouterr().err)) == 1
