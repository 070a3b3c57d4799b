"""Prometheus metrics of the API process, on a registry owned by each app instance."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from aether.ops.health import CheckResult

__all__ = ["CONTENT_TYPE_LATEST", "ApiMetrics"]


class ApiMetrics:
    """Request and dependency metrics; label values are route templates, never raw paths."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "aether_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "aether_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.dependency_up = Gauge(
            "aether_dependency_up",
            "1 when the last readiness check of a dependency passed, else 0.",
            ["dependency"],
            registry=self.registry,
        )
        self.dependency_check_seconds = Gauge(
            "aether_dependency_check_duration_seconds",
            "Duration of the last readiness check of a dependency.",
            ["dependency"],
            registry=self.registry,
        )
        self.ws_market_clients = Gauge(
            "aether_ws_market_clients",
            "Authenticated clients connected to WS /ws/market.",
            registry=self.registry,
        )
        self.ws_market_dropped = Counter(
            "aether_ws_market_dropped",
            "WS /ws/market connections closed by the server, by reason (slow_consumer, "
            "auth_timeout, unauthenticated, forbidden, protocol, query_credentials, "
            "connection_limit, disabled).",
            ["reason"],
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def observe_checks(self, results: list[CheckResult]) -> None:
        for result in results:
            self.dependency_up.labels(result.name).set(1 if result.ok else 0)
            self.dependency_check_seconds.labels(result.name).set(result.seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
