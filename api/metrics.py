"""Prometheus metrics for the service, in a registry of its own (one per app)."""

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "auditor_http_requests", "HTTP requests served", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "auditor_http_request_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.records = Counter("auditor_records_scored", "Records scored", ["path"], registry=self.registry)
        self.findings = Counter("auditor_findings", "Findings reported", ["category"], registry=self.registry)
        self.jobs = Gauge("auditor_jobs_unfinished", "Audits queued or being scored", registry=self.registry)

    async def middleware(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")  # the template, never the id
        self.latency.labels(request.method, route).observe(time.perf_counter() - started)
        self.requests.labels(request.method, route, str(response.status_code)).inc()
        return response

    def scored(self, path: str, categories: list[str]) -> None:
        self.records.labels(path).inc()
        for category in categories:
            self.findings.labels(category).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
