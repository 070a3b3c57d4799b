"""aether.ops.logs: JSON lines, request ids, secrets kept out of stderr and the file, rotation."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import stat
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import structlog

from aether.ops.logs import (
    REDACTED,
    bind_request_id,
    clear_request_context,
    configure_logging,
    new_request_id,
    redact_secrets,
    redact_text,
)
from tests.support.logging_state import restored_logging

PREFIX = "aek_ab12cd34ef56_"
KEY_SECRET = "SECRETVALUE0123456789abcdefghijklmnopqrstuvw"
KEY = PREFIX + KEY_SECRET
DB_PASSWORD = "hunter2-db-pass"
DSN = f"postgresql+asyncpg://aether:{DB_PASSWORD}@127.0.0.1:5432/aether"
BEARER = "tok-e1e2e3e4e5f6"
PLAIN_PASSWORD = "pw-must-appear-nowhere"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    with restored_logging():
        yield


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_lines_are_json_and_carry_the_request_id_only_while_bound(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "aether.log"
    configure_logging(log_file=log_file)
    log = structlog.get_logger("aether.test")
    request_id = new_request_id()
    bind_request_id(request_id)
    log.info("inside", n=1)
    logging.getLogger("sqlalchemy.engine").warning("stdlib inside")
    clear_request_context()
    log.info("outside")

    for output in (capfd.readouterr().err, log_file.read_text()):
        inside, stdlib_inside, outside = _lines(output)
        assert inside["event"] == "inside"
        assert inside["n"] == 1
        assert inside["level"] == "info"
        assert inside["logger"] == "aether.test"
        assert inside["request_id"] == request_id
        assert str(inside["timestamp"]).endswith("Z")
        assert stdlib_inside["request_id"] == request_id
        assert stdlib_inside["logger"] == "sqlalchemy.engine"
        assert stdlib_inside["level"] == "warning"
        assert "request_id" not in outside
    assert len(request_id) == 32
    assert int(request_id, 16) >= 0
    assert new_request_id() != request_id


async def test_concurrent_requests_keep_their_own_ids(
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging()
    log = structlog.get_logger("aether.test")

    async def handle(request_id: str) -> None:
        bind_request_id(request_id)
        for step in range(3):
            log.info("step", step=step, expect=request_id)
            await asyncio.sleep(0)
        clear_request_context()

    await asyncio.gather(handle("req-aaaaaaaa"), handle("req-bbbbbbbb"))
    lines = _lines(capfd.readouterr().err)
    assert len(lines) == 6
    assert all(line["request_id"] == line["expect"] for line in lines)


def test_secrets_never_reach_stderr_or_the_file(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "logs" / "aether.log"  # parent directory does not exist yet
    configure_logging(log_file=log_file)
    log = structlog.get_logger("aether.test")
    log.info("named fields", api_key=KEY, password=PLAIN_PASSWORD, account="acme")
    log.info("innocent field", note=f"used {KEY} today")
    log.info(
        "nested",
        request={"headers": [{"Authorization": f"Bearer {BEARER}"}], "body": {"ok": "kept"}},
    )
    log.info(f"message holds {KEY}")
    log.info("database", dsn=DSN)
    log.info("header", header=f"Authorization: Bearer {BEARER}")
    try:
        raise RuntimeError(f"login failed with {KEY}")
    except RuntimeError:
        log.exception("boom")
    logging.getLogger("uvicorn").info("uvicorn saw key %s", KEY)
    try:
        raise ConnectionError(f"cannot reach {DSN}")
    except ConnectionError:
        logging.getLogger("sqlalchemy.pool").exception("stdlib failure")

    for output in (capfd.readouterr().err, log_file.read_text()):
        lines = _lines(output)
        assert len(lines) == 9
        for secret in (KEY_SECRET, DB_PASSWORD, BEARER, PLAIN_PASSWORD):
            assert secret not in output
        by_event = {line["event"]: line for line in lines}
        assert by_event["named fields"]["api_key"] == REDACTED
        assert by_event["named fields"]["password"] == REDACTED
        assert by_event["named fields"]["account"] == "acme"
        assert by_event["innocent field"]["note"] == f"used {PREFIX}*** today"
        nested = by_event["nested"]["request"]
        assert nested == {"headers": [{"Authorization": REDACTED}], "body": {"ok": "kept"}}
        assert f"message holds {PREFIX}***" in by_event
        assert (
            by_event["database"]["dsn"] == "postgresql+asyncpg://aether:***@127.0.0.1:5432/aether"
        )
        assert by_event["header"]["header"] == "Authorization: Bearer ***"
        assert "RuntimeError: login failed with " + PREFIX + "***" in by_event["boom"]["exception"]
        assert by_event[f"uvicorn saw key {PREFIX}***"]["logger"] == "uvicorn"
        stdlib_failure = by_event["stdlib failure"]
        assert (
            "ConnectionError: cannot reach postgresql+asyncpg://aether:***@"
            in (stdlib_failure["exception"])
        )


def test_objects_are_stringified_before_redaction(capfd: pytest.CaptureFixture[str]) -> None:
    class Config:
        def __repr__(self) -> str:
            return f"Config(url={DSN!r})"

    configure_logging()
    structlog.get_logger("aether.test").info(
        "objects", config=Config(), price=Decimal("101.25"), tags={"x"}, n=3, ok=True, none=None
    )
    output = capfd.readouterr().err
    assert DB_PASSWORD not in output
    (line,) = _lines(output)
    assert line["config"] == "Config(url='postgresql+asyncpg://aether:***@127.0.0.1:5432/aether')"
    assert line["price"] == "101.25"
    assert line["tags"] == ["x"]
    assert (line["n"], line["ok"], line["none"]) == (3, True, None)


def test_redact_secrets_is_a_plain_processor() -> None:
    event = {"event": f"key {KEY}", "Cookie": "session=abc", "OTP_code": "123456", "n": 5}
    out = redact_secrets(None, "info", event)
    assert out == {"event": f"key {PREFIX}***", "Cookie": REDACTED, "OTP_code": REDACTED, "n": 5}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key={KEY}", f"key={PREFIX}***"),
        (f"token_{KEY}", f"token_{PREFIX}***"),
        (f"Bearer {BEARER}", "Bearer ***"),
        (f"authorization: bearer {BEARER}, next", "authorization: bearer ***, next"),
        ("redis://:pw123@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("nats://tok123@127.0.0.1:4222", "nats://***@127.0.0.1:4222"),
        ("postgresql://u:p%40ss@db/x", "postgresql://u:***@db/x"),
        ('"API-Sign": "abc+/DEF=="', '"API-Sign": "***"'),
        ("API-Key: kraken-key-123", "API-Key: ***"),
        ("GET /ws?token=abc123&x=1", "GET /ws?token=***&x=1"),
        ("{'password': 'pw1', 'user': 'u'}", "{'password': '***', 'user': 'u'}"),
        ("http://127.0.0.1:8080/health", "http://127.0.0.1:8080/health"),
        ("tokens=5 max_tokens: 9", "tokens=5 max_tokens: 9"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_rotation_gzips_and_keeps_only_the_configured_backups(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "aether.log"
    configure_logging(log_file=log_file, max_bytes=4_000, backups=2)
    log = structlog.get_logger("aether.test")
    for i in range(300):
        log.info("filler line to force rotation", i=i, padding="x" * 40)
    logging.getLogger().handlers[-1].flush()

    names = sorted(p.name for p in log_file.parent.iterdir())
    assert names == ["aether.log", "aether.log.1.gz", "aether.log.2.gz"]
    seen: list[int] = []
    for name in ("aether.log.2.gz", "aether.log.1.gz"):
        with gzip.open(log_file.parent / name, "rt", encoding="utf-8") as rotated:
            lines = _lines(rotated.read())
        assert lines
        assert all(line["event"] == "filler line to force rotation" for line in lines)
        seen += [line["i"] for line in lines]
    seen += [line["i"] for line in _lines(log_file.read_text())]
    # Oldest lines were dropped with the third backup; what is kept is contiguous and recent.
    assert seen == list(range(seen[0], 300))
    assert seen[0] > 0
    assert log_file.stat().st_size <= 4_000


def test_configuring_twice_does_not_duplicate_lines(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "aether.log"
    configure_logging(log_file=log_file)
    configure_logging(log_file=log_file, level="debug")
    structlog.get_logger("aether.test").debug("once")
    logging.getLogger("alembic").info("stdlib once")
    assert [line["event"] for line in _lines(capfd.readouterr().err)] == ["once", "stdlib once"]
    assert len(_lines(log_file.read_text())) == 2


def test_level_filters_structlog_and_stdlib(capfd: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="WARNING")
    structlog.get_logger("aether.test").info("dropped")
    logging.getLogger("uvicorn.access").info("dropped too")
    structlog.get_logger("aether.test").warning("kept")
    assert [line["event"] for line in _lines(capfd.readouterr().err)] == ["kept"]


def test_human_console_is_redacted_and_file_stays_json(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "aether.log"
    configure_logging(log_file=log_file, json_console=False)
    structlog.get_logger("aether.test").info("human", api_key=KEY, dsn=DSN)
    err = capfd.readouterr().err
    assert "human" in err
    assert KEY_SECRET not in err
    assert DB_PASSWORD not in err
    (line,) = _lines(log_file.read_text())
    assert line["api_key"] == REDACTED


def test_log_files_current_and_rotated_are_private_whatever_the_umask(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "aether.log"
    old_umask = os.umask(0o022)  # the usual default: files would be world-readable
    try:
        configure_logging(log_file=log_file, max_bytes=2_000, backups=2)
        log = structlog.get_logger("aether.test")
        for i in range(60):
            log.info("filler line to force rotation", i=i, padding="x" * 40)
        logging.getLogger().handlers[-1].flush()
    finally:
        os.umask(old_umask)
    files = sorted(log_file.parent.iterdir())
    assert [p.name for p in files] == ["aether.log", "aether.log.1.gz", "aether.log.2.gz"]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_an_existing_log_file_is_tightened_to_0600(tmp_path: Path) -> None:
    log_file = tmp_path / "aether.log"
    log_file.write_text("")
    log_file.chmod(0o644)
    configure_logging(log_file=log_file)
    structlog.get_logger("aether.test").info("hello")
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


class _StatementFailed(Exception):
    """Shaped like SQLAlchemy's StatementError: the SQL text and its bound parameters."""

    def __init__(self, statement: str, params: tuple[object, ...], orig: Exception) -> None:
        super().__init__(f"{orig}\n[SQL: {statement}]\n[parameters: {params!r}]")
        self.statement = statement
        self.params = params
        self.orig = orig


class _ServerRefused(Exception):
    """Shaped like an asyncpg error: SQLSTATE and names, a message carrying the row."""

    sqlstate = "23514"
    constraint_name = "api_keys_name_check"
    table_name = "api_keys"


def test_exceptions_are_logged_without_the_values_database_errors_carry(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "aether.log"
    configure_logging(log_file=log_file)
    row_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
    statement = "INSERT INTO api_keys (name, secret_hash) VALUES ($1, $2)"
    # Built outside the raising lines: tracebacks quote those lines (code, not data).
    message = f"violates check\nDETAIL: Failing row contains (x, {row_hash})"
    params = ("laptop", row_hash)
    try:
        try:
            raise _ServerRefused(message)
        except _ServerRefused as refused:
            raise _StatementFailed(statement, params, refused) from refused
    except _StatementFailed:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        structlog.get_logger("aether.test").exception("failed", api_key=KEY)

    for output in (capfd.readouterr().err, log_file.read_text()):
        assert row_hash not in output
        assert "Failing row" not in output
        assert "laptop" not in output
        assert KEY_SECRET not in output
        stdlib_line, structlog_line = _lines(output)
        for line in (stdlib_line, structlog_line):
            text = line["exception"]
            assert "SQLSTATE 23514" in text
            assert "constraint=api_keys_name_check" in text
            assert f"[SQL: {statement}]" in text
            assert "test_exceptions_are_logged_without_the_values" in text  # frames are kept
