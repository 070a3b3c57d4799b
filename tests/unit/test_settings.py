from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import ValidationError

from aether.settings import InsecureSettingsError, Profile, Settings, load_settings

KEY = base64.b64encode(b"k" * 32).decode()
SECURE = {
    "profile": "production",
    "embedded_servers": False,
    "database_url": "postgresql://aether:pw@db.internal:5432/aether?sslmode=verify-full",
    "nats_url": "tls://nats.internal:4222",
    "redis_url": "rediss://:pw@redis.internal:6380/0",
    "api_tls_certfile": Path("/etc/aether/tls.crt"),
    "api_tls_keyfile": Path("/etc/aether/tls.key"),
    "credential_encryption_key": KEY,
    "admin_allowlist": ["10.20.0.0/16"],
    "venue": "kraken",
}


def test_production_with_defaults_lists_every_problem_in_one_message() -> None:
    settings = Settings(profile=Profile.PRODUCTION)
    with pytest.raises(InsecureSettingsError) as caught:
        settings.check_profile()
    message = str(caught.value)
    for needle in (
        "AETHER_EMBEDDED_SERVERS",
        "AETHER_DATABASE_URL is missing",
        "AETHER_NATS_URL is missing",
        "AETHER_REDIS_URL is missing",
        "TLS is off on the public API listener",
        "AETHER_CREDENTIAL_ENCRYPTION_KEY is missing",
        "AETHER_ADMIN_ALLOWLIST is the shipped default",
        "AETHER_VENUE is 'emulator'",
    ):
        assert needle in message
    assert len(caught.value.problems) == 8


def test_secure_production_settings_pass() -> None:
    Settings(**SECURE).check_profile()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"embedded_servers": True}, "AETHER_EMBEDDED_SERVERS"),
        ({"database_url": "postgresql://a:b@db/aether"}, "AETHER_DATABASE_URL does not use TLS"),
        ({"nats_url": "nats://nats:4222"}, "AETHER_NATS_URL does not use TLS"),
        ({"redis_url": "redis://redis:6379"}, "AETHER_REDIS_URL does not use TLS"),
        ({"api_tls_certfile": None}, "TLS is off"),
        ({"credential_encryption_key": None}, "CREDENTIAL_ENCRYPTION_KEY is missing"),
        ({"admin_allowlist": []}, "AETHER_ADMIN_ALLOWLIST is empty"),
        ({"venue": "emulator"}, "AETHER_VENUE is 'emulator'"),
    ],
)
def test_each_insecure_setting_is_named(override: dict[str, object], expected: str) -> None:
    problems = Settings(**{**SECURE, **override}).production_problems()  # type: ignore[arg-type]
    assert len(problems) == 1
    assert expected in problems[0]


def test_tls_offloaded_counts_as_tls() -> None:
    settings = Settings(  # type: ignore[arg-type]
        **{**SECURE, "api_tls_certfile": None, "api_tls_keyfile": None, "api_tls_offloaded": True}
    )
    assert settings.production_problems() == []


def test_local_and_test_profiles_allow_defaults() -> None:
    Settings(profile=Profile.LOCAL).check_profile()
    Settings(profile=Profile.TEST).check_profile()


def test_environment_is_read_with_prefix_and_lists_split_on_commas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AETHER_API_PORT", "8123")
    monkeypatch.setenv("AETHER_ADMIN_ALLOWLIST", "10.0.0.0/8, 192.168.1.7")
    monkeypatch.setenv("AETHER_DIRECTOR_ACCOUNT_NAMES", "Ann,Ben")
    settings = load_settings()
    assert settings.api_port == 8123
    assert settings.admin_allowlist == ["10.0.0.0/8", "192.168.1.7"]
    assert settings.director_account_names == ["Ann", "Ben"]


def test_settings_are_immutable() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.api_port = 9000  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("admin_allowlist", ["not-a-network"]),
        ("credential_encryption_key", base64.b64encode(b"short").decode()),
        ("credential_encryption_key", "%%% not base64"),
        ("api_port", 70000),
        ("profile", "staging"),
    ],
)
def test_invalid_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**{field: value})  # type: ignore[arg-type]
    assert caught.value.errors()[0]["loc"][0] == field


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(api_prot=1)  # type: ignore[call-arg]
