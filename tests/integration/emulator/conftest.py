"""A real emulator server on a free loopback port, and a signed Kraken client for tests.

The ``emulator`` and ``synthetic`` fixtures built on ``serve`` live in ``tests/conftest.py``:
modules outside this directory use them too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from aether.emulator.app import create_app
from aether.emulator.runtime import EmulatorRuntime, build_runtime
from aether.platform.sidecars import Sidecar, SidecarThread
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot
from aether.venues.kraken.signing import api_sign
from tests.support.network import free_port


@dataclass
class Emulator:
    url: str
    http: httpx.Client
    runtime: EmulatorRuntime | None = None  # the served runtime, for tests that reach in

    @property
    def ws_url(self) -> str:
        """Kraken's WebSocket v2 on this emulator."""
        return self.url.replace("http://", "ws://") + "/v2"

    def public(self, method: str, **params: Any) -> dict[str, Any]:
        response = self.http.get(f"/0/public/{method}", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def account(self, **balances: str) -> Kraken:
        response = self.http.post("/emulator/accounts", json={"balances": balances})
        assert response.status_code == 200, response.text
        creds = response.json()
        return Kraken(self.http, creds["api_key"], creds["api_secret"])


@dataclass
class Kraken:
    """Signs private calls independently of the emulator (Kraken's guide, via api_sign)."""

    http: httpx.Client
    key: str
    secret: str
    nonce: int = 0

    def next_nonce(self) -> int:
        self.nonce = max(self.nonce + 1, time.time_ns() // 1000)
        return self.nonce

    def raw(
        self,
        method: str,
        body: str,
        nonce: int | str,
        *,
        json_body: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """POST ``body`` as is, signed for ``nonce``; ``headers`` override the defaults."""
        path = f"/0/private/{method}"
        kind = "application/json" if json_body else "application/x-www-form-urlencoded"
        sent = {
            "API-Key": self.key,
            "API-Sign": api_sign(path, nonce, body, self.secret),
            "Content-Type": kind,
            **(headers or {}),
        }
        response = self.http.post(path, content=body.encode(), headers=sent)
        assert response.status_code == 200, response.text
        return response.json()

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        nonce = self.next_nonce()
        body = urlencode({"nonce": nonce, **params})
        result: dict[str, Any] = self.raw(method, body, nonce)
        return result

    def call_json(self, method: str, **params: Any) -> dict[str, Any]:
        nonce = self.next_nonce()
        body = json.dumps({"nonce": nonce, **params})
        result: dict[str, Any] = self.raw(method, body, nonce, json_body=True)
        return result

    def ok(self, method: str, **params: Any) -> Any:
        body = self.call(method, **params)
        assert body["error"] == [], body
        return body["result"]


def serve(
    market: str, speed: float, followers: Sequence[str] = (), *, rate_limits: bool = True
) -> Iterator[Emulator]:
    """An emulator in a thread of the test process. Without ``followers`` it trades the two
    shipped pairs only: each follower costs the in-process market about 1 ms a tick (several
    under coverage), which a loaded two-core machine cannot spare in every module."""
    runtime = build_runtime(
        load_instrument_snapshot(),
        market=market,
        seed=7,
        speed=speed,
        followers=followers,
        rate_limits=rate_limits,
    )
    server = SidecarThread(
        Sidecar("Kraken emulator", create_app(runtime), "127.0.0.1", free_port())
    )
    server.start()
    url = server.sidecar.base_url
    with httpx.Client(base_url=url, timeout=10) as http:
        try:
            yield Emulator(url, http, runtime)
        finally:
            server.stop()
