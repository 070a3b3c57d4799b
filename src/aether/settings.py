"""Process settings: read once from the environment (prefix ``AETHER_``), immutable afterwards.

What operators change at run time (per-account trading state and risk limits) is not here:
it lives in the database, validated and audited.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Profile(StrEnum):
    LOCAL = "local"
    TEST = "test"
    PRODUCTION = "production"


#: Loopback-only allowlist shipped as the default; production must replace it.
DEFAULT_ADMIN_ALLOWLIST: tuple[str, ...] = ("127.0.0.1/32", "::1/128")

#: The role migrations grant the platform's run-time privileges to (the local stack's login).
DEFAULT_DATABASE_APP_ROLE = "aether_app"
KRAKEN_APIS = ("https://api.kraken.com", "wss://ws.kraken.com/v2")  # production trades live here
#: Shortest accepted audit HMAC key, in characters (e.g. ``openssl rand -hex 32`` gives 64).
AUDIT_HMAC_KEY_MIN_CHARS = 32


class InsecureSettingsError(RuntimeError):
    """Raised when the production profile is asked to start with unsafe settings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"refusing to start the production profile: {len(problems)} insecure "
            f"setting(s) found:\n{listing}"
        )


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """All process settings. Construct with :func:`load_settings`; never mutate."""

    model_config = SettingsConfigDict(
        env_prefix="AETHER_", frozen=True, extra="forbid", case_sensitive=False
    )

    profile: Profile = Profile.LOCAL

    # --- local stack -------------------------------------------------------------
    data_dir: Path = Path(".aether")
    embedded_servers: bool = Field(
        default=True,
        description="Start PostgreSQL, NATS and Redis from pip-installed binaries "
        "for any of them whose URL is not set. Refused in production.",
    )

    # --- external servers (used instead of the embedded ones when set) -------------
    database_url: SecretStr | None = Field(
        default=None,
        description="The platform's run-time role: neither superuser nor owner of any table.",
    )
    database_owner_url: SecretStr | None = Field(
        default=None,
        description="The role that owns the schema and runs migrations; unset, migrations run "
        "with AETHER_DATABASE_URL outside production and are skipped in production.",
    )
    database_app_role: str = Field(
        default=DEFAULT_DATABASE_APP_ROLE,
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="The role migrations grant the run-time privileges to.",
    )
    nats_url: SecretStr | None = None
    redis_url: SecretStr | None = None

    # --- API -------------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_tls_certfile: Path | None = None
    api_tls_keyfile: Path | None = None
    api_tls_offloaded: bool = Field(
        default=False,
        description="Declare that a TLS-terminating proxy sits in front of the API.",
    )
    max_request_body_bytes: int = Field(default=1_048_576, ge=1024)
    admin_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_ADMIN_ALLOWLIST),
        description="Networks (CIDR) from which platform-admin actions are accepted.",
    )

    # --- security ------------------------------------------------------------------
    credential_encryption_key: SecretStr | None = Field(
        default=None,
        description="The credential vault's key-encryption key (KEK): base64 of 32 random "
        "bytes (AES-256-GCM). Unset outside production, <data dir>/vault/kek.key is used.",
    )
    credential_encryption_key_file: Path | None = Field(
        default=None,
        description="A file holding the KEK in base64 (e.g. a mounted Kubernetes secret), "
        "instead of AETHER_CREDENTIAL_ENCRYPTION_KEY.",
    )
    credential_encryption_previous_key: SecretStr | None = Field(
        default=None,
        description="The KEK being rotated away from: credentials it wraps stay readable until "
        "`aether vault rotate-kek` re-wraps them under the current KEK.",
    )
    credential_encryption_previous_key_file: Path | None = Field(
        default=None, description="A file holding the previous KEK, instead of the variable."
    )

    # --- audit ---------------------------------------------------------------------
    audit_hmac_key: SecretStr | None = Field(
        default=None,
        description="Key of the audit chain's HMAC (at least 32 characters), never stored in "
        "the database; unset outside production, <data dir>/audit/hmac.key is used.",
    )
    audit_checkpoint_path: Path | None = Field(
        default=None,
        description="Append-only log of signed chain-head checkpoints; default "
        "<data dir>/audit/checkpoints.log. Keep it where the database cannot write.",
    )
    audit_checkpoint_seconds: float = Field(default=300.0, ge=1, le=86_400)

    # --- venue ------------------------------------------------------------------------
    venue: Literal["emulator", "kraken"] = "emulator"
    emulator_port: int = Field(
        default=8100, ge=1, le=65535, description="Port of the Kraken emulator `aether up` runs."
    )
    emulator_market: Literal["replay", "synthetic"] = "replay"
    emulator_speed: float = Field(
        default=60.0, gt=0, le=1_000_000, description="Emulated market seconds per second."
    )
    emulator_followers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["SOLUSD", "XRPUSD", "ADAUSD"],
        description="Synthetic pairs the emulator trades beside XBTUSD and ETHUSD, each "
        "following XBTUSD (comma-separated; empty for none).",
    )
    emulator_correlation: float = Field(
        default=0.7, ge=-1, le=1, description="Correlation of the followers' returns to XBTUSD."
    )

    kraken_rest_url: str | None = Field(
        default=None,
        description="Base URL of Kraken's REST API; default https://api.kraken.com for the "
        "'kraken' venue, the local emulator for 'emulator'.",
    )
    kraken_ws_url: str | None = Field(
        default=None,
        description="Kraken's public WebSocket v2 URL; default wss://ws.kraken.com/v2 for the "
        "'kraken' venue, the local emulator's /v2 for 'emulator'.",
    )

    # --- account runners ----------------------------------------------------------------
    runner_enabled: bool = Field(
        default=True,
        description="Run an account runner inside 'aether up' (turn off when dedicated "
        "'aether runner' processes run the accounts).",
    )

    # --- market data --------------------------------------------------------------------
    market_data_enabled: bool = Field(
        default=True,
        description="Run the instrument registry and the market-data ingest in the API process.",
    )
    instrument_refresh_seconds: float = Field(default=3600.0, ge=10, le=86_400)
    usd_stablecoin_quotes: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Stablecoins (e.g. USDT) whose pairs count as USD pairs; none by default.",
    )
    market_seed_symbols: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["XBTUSD", "ETHUSD"],
        description="Pairs subscribed on the very first start, while no subscription is stored.",
    )
    market_stale_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="Data older than this marks a pair stale."
    )
    ingest_buffer_rows: int = Field(
        default=200_000,
        ge=100,
        description="Rows held while the database is unreachable; beyond it the oldest are "
        "dropped and the hole is recorded as a gap.",
    )
    market_stream_max_age_seconds: int = Field(default=86_400, ge=60)
    market_stream_max_bytes: int = Field(default=1_073_741_824, ge=1_048_576)
    ws_market_auth_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    ws_market_max_connections_per_key: int = Field(default=5, ge=1, le=1000)
    ws_market_queue_size: int = Field(
        default=2000, ge=10, description="Messages queued per client before it is dropped."
    )
    coingecko_base_url: str = "https://api.coingecko.com/api/v3"
    coingecko_api_key: SecretStr | None = None

    # --- first accounts (no identity is ever hard-coded) ----------------------------------
    company_account_name: str | None = None
    director_account_names: Annotated[list[str], NoDecode] = Field(default_factory=list)
    admin_user_name: str | None = None

    # --- health and logging ----------------------------------------------------------------
    readiness_timeout_seconds: float = Field(default=1.5, gt=0, le=30)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_file_max_bytes: int = Field(default=20_000_000, ge=10_000)
    log_file_backups: int = Field(default=10, ge=1, le=1000)

    @field_validator(
        "admin_allowlist",
        "director_account_names",
        "usd_stablecoin_quotes",
        "market_seed_symbols",
        "emulator_followers",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("admin_allowlist")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"not a network in CIDR notation: {entry!r}") from exc
        return value

    @field_validator("credential_encryption_key", "credential_encryption_previous_key")
    @classmethod
    def _valid_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_kek(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _one_source_per_kek(self) -> Settings:
        pairs = (
            (
                "CREDENTIAL_ENCRYPTION_KEY",
                self.credential_encryption_key,
                self.credential_encryption_key_file,
            ),
            (
                "CREDENTIAL_ENCRYPTION_PREVIOUS_KEY",
                self.credential_encryption_previous_key,
                self.credential_encryption_previous_key_file,
            ),
        )
        for name, value, path in pairs:
            if value is not None and path is not None:
                raise ValueError(f"set AETHER_{name} or AETHER_{name}_FILE, not both")
        return self

    @field_validator("audit_hmac_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < AUDIT_HMAC_KEY_MIN_CHARS:
            raise ValueError(f"must be at least {AUDIT_HMAC_KEY_MIN_CHARS} characters")
        return value

    @cached_property
    def admin_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(n, strict=False) for n in self.admin_allowlist)

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def audit_dir(self) -> Path:
        """Where the local audit key and checkpoint log live (0700)."""
        return self.data_dir / "audit"

    @property
    def vault_dir(self) -> Path:
        """Where the local credential vault's KEK lives (0700), outside production."""
        return self.data_dir / "vault"

    @property
    def audit_checkpoint_file(self) -> Path:
        return self.audit_checkpoint_path or self.audit_dir / "checkpoints.log"

    @property
    def kraken_rest_base(self) -> str:
        """Where Kraken's REST API is: the setting, else Kraken or the local emulator."""
        if self.kraken_rest_url:
            return self.kraken_rest_url.rstrip("/")
        if self.venue == "kraken":
            return "https://api.kraken.com"
        return f"http://127.0.0.1:{self.emulator_port}"

    @property
    def kraken_ws_public(self) -> str:
        """Kraken's public WebSocket v2: the setting, else Kraken or the local emulator."""
        if self.kraken_ws_url:
            return self.kraken_ws_url
        if self.venue == "kraken":
            return "wss://ws.kraken.com/v2"
        return f"ws://127.0.0.1:{self.emulator_port}/v2"

    def production_problems(self) -> list[str]:
        """Every reason these settings are unsafe for production (empty when safe)."""
        problems: list[str] = []
        if self.embedded_servers:
            problems.append(
                "AETHER_EMBEDDED_SERVERS is true: production needs external managed servers"
            )
        problems += _url_problems("AETHER_DATABASE_URL", self.database_url, _pg_has_tls)
        if self.database_owner_url is not None:
            problems += _url_problems(
                "AETHER_DATABASE_OWNER_URL", self.database_owner_url, _pg_has_tls
            )
        problems += _url_problems("AETHER_NATS_URL", self.nats_url, _nats_has_tls)
        problems += _url_problems("AETHER_REDIS_URL", self.redis_url, _redis_has_tls)
        has_tls = self.api_tls_certfile is not None and self.api_tls_keyfile is not None
        if not has_tls and not self.api_tls_offloaded:
            problems.append(
                "TLS is off on the public API listener: set AETHER_API_TLS_CERTFILE and "
                "AETHER_API_TLS_KEYFILE, or AETHER_API_TLS_OFFLOADED=true behind a TLS proxy"
            )
        if self.credential_encryption_key is None and self.credential_encryption_key_file is None:
            problems.append(
                "AETHER_CREDENTIAL_ENCRYPTION_KEY is missing (or AETHER_CREDENTIAL_ENCRYPTION_"
                "KEY_FILE): the credential vault needs its key-encryption key"
            )
        if self.audit_hmac_key is None:
            problems.append("AETHER_AUDIT_HMAC_KEY is missing")
        if not self.admin_allowlist:
            problems.append("AETHER_ADMIN_ALLOWLIST is empty")
        elif tuple(self.admin_allowlist) == DEFAULT_ADMIN_ALLOWLIST:
            problems.append("AETHER_ADMIN_ALLOWLIST is the shipped default")
        if self.venue == "emulator":
            problems.append("AETHER_VENUE is 'emulator': production trades on 'kraken'")
        return problems

    def live_trading_refusal(self) -> str | None:
        """Why live trading is refused (None: allowed): production trades on Kraken's APIs only."""
        urls = (self.kraken_rest_base, self.kraken_ws_public.rstrip("/"))
        if self.profile is not Profile.PRODUCTION or urls == KRAKEN_APIS:
            return None
        return f"production trades live on Kraken only: AETHER_KRAKEN_REST_URL/_WS_URL are {urls}"

    def check_profile(self) -> None:
        """Raise :class:`InsecureSettingsError` listing every problem when production is unsafe."""
        if self.profile is Profile.PRODUCTION:
            problems = self.production_problems()
            if problems:
                raise InsecureSettingsError(problems)


def _url_problems(name: str, url: SecretStr | None, has_tls: Callable[[str], bool]) -> list[str]:
    if url is None:
        return [f"{name} is missing"]
    if not has_tls(url.get_secret_value()):
        return [f"{name} does not use TLS"]
    return []


def _pg_has_tls(url: str) -> bool:
    query = parse_qs(urlsplit(url).query)
    mode = (query.get("ssl") or query.get("sslmode") or [""])[0]
    return mode in {"require", "verify-ca", "verify-full"}


def _nats_has_tls(url: str) -> bool:
    return all(urlsplit(u.strip()).scheme == "tls" for u in url.split(","))


def _redis_has_tls(url: str) -> bool:
    return urlsplit(url).scheme == "rediss"


def decode_kek(text: str) -> bytes:
    """The 32 bytes of a base64 key-encryption key; ValueError (never showing it) otherwise."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("must be base64") from exc
    if len(raw) != 32:
        raise ValueError("must decode to exactly 32 bytes")
    return raw


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword overrides win (used by CLI flags)."""
    return Settings(**overrides)  # type: ignore[arg-type]
