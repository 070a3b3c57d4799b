"""Schemathesis against the live app's own OpenAPI schema, in-process (its ASGI transport):
generated requests, valid and invalid, to every operation as a platform administrator.
No answer is a 5xx; statuses, content types and bodies are the ones the schema declares;
requests the schema calls invalid are refused with a 4xx.

Two of Schemathesis's phases, both deterministic: "coverage" (its boundary and
type-violating values for every parameter, derived from the schema) and "fuzzing"
(MAX_EXAMPLES Hypothesis examples per operation and generation mode, derandomised and
without Hypothesis's example database), so every run sends the same requests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err, Ok
from schemathesis.core.transport import Response
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from aether.api.app import create_app
from aether.ops.endpoints import ServerUrls
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator
from tests.integration.market_api_helpers import market_settings

MAX_EXAMPLES = 5


@schemathesis.check
def no_server_error_but_not_ready(
    ctx: CheckContext, response: Response, case: schemathesis.Case[Any]
) -> bool | None:
    """Schemathesis's 5xx check, except ``/readyz``'s documented 503: "not ready" is its
    answer whenever a dependency is not (the ingest catching up with a pair the fuzzer just
    subscribed), not a server error."""
    if case.operation.path == "/readyz" and response.status_code == 503:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    no_server_error_but_not_ready,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
Failures = list[str]
Operation = schemathesis.APIOperation[Any, Any, Any, Any]


class FromLoopback:
    """The app as reached from 127.0.0.1: Schemathesis's client calls itself "testclient",
    which the admin network allowlist rightly refuses, and admin routes would go untested."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "client": ("127.0.0.1", 50000)}
        await self.app(scope, receive, send)


def loaded(result: Ok[Operation] | Err[InvalidSchema]) -> Operation:
    """The operation; one Schemathesis cannot read from the schema fails the test."""
    assert isinstance(result, Ok), result.err()
    return result.ok()


def recorded(failures: Failures, label: str, run: Callable[[], None]) -> None:
    """Run ``run``; a failure is recorded under ``label`` so every operation is still tried."""
    try:
        run()
    except (Exception, FailureGroup) as exc:
        failures.append(f"{label}: {exc}")


def coverage_phase(
    schema: schemathesis.BaseSchema,
    operation: Operation,
    headers: dict[str, str],
    failures: Failures,
) -> None:
    """Schemathesis's boundary cases for one operation, valid and invalid, each checked."""
    config = schema.config.generation_for(operation=operation, phase="coverage")
    cases = schema.iter_coverage_cases(
        operation, generation_modes=list(GenerationMode), generation_config=config
    )
    for case in cases:

        def call(case: schemathesis.Case[Operation] = case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        recorded(failures, f"{operation.label} (coverage)", call)


def fuzzing_phase(
    operation: Operation,
    mode: GenerationMode,
    headers: dict[str, str],
    failures: Failures,
) -> None:
    """MAX_EXAMPLES generated requests of one kind to one operation, each checked."""

    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case[Operation]) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    def run_unless_impossible() -> None:
        try:
            run()
        except Unsatisfiable:
            # No request breaks this operation's schema: it takes no parameters, no body.
            assert mode is GenerationMode.NEGATIVE, operation.label

    recorded(failures, f"{operation.label} ({mode})", run_unless_impossible)


# Raised from Schemathesis's own strategies, not from anything here.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_generated_requests_get_no_5xx_and_answers_conform_to_the_schema(
    synthetic: Emulator, aether_urls: ServerUrls, aether_seed: Seed, tmp_path: Path
) -> None:
    # Market data on (Kraken is the emulator), so its routes answer as in production; no
    # pair is seeded, so the ingest follows only what the fuzzer subscribes.
    settings = market_settings(tmp_path, synthetic.url, market_seed_symbols=[])
    app = FromLoopback(create_app(settings, aether_urls))
    headers = aether_seed.admin.headers
    failures: Failures = []
    try:
        # Schemathesis runs the app (and its lifespan) in an event loop of its own.
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [loaded(result) for result in schema.get_all_operations()]
        assert len([op for op in operations if op.path.startswith("/api/v1")]) >= 15
        for operation in operations:
            coverage_phase(schema, operation, headers, failures)
            for mode in GenerationMode:
                fuzzing_phase(operation, mode, headers, failures)
    finally:
        shutdown_lifespans()  # the app's database engine, before its database is dropped
    assert not failures, "\n\n".join(failures)
