"""Prometheus metrics for the service, in a registry of its own (one per app)."""

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.latency.labels(method, route).observe(seconds)
        self.requests.labels(method, route, str(status)).inc()

    def scored(self, path: str, categories: list[str]) -> None:
        self.records.labels(path).inc()
        for category in categories:
            self.findings.labels(category).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


ACCESS = logging.getLogger("uvicorn.error")


class MetricsMiddleware:
    """Counts and times every HTTP request by method, route template (never the id in the path)
    and status, and with `access_log` logs one line per request: client, method, path, status
    and time. Never the query string, which can carry a worker's or a team's name (uvicorn's own
    access log, which prints it, is off). Plain ASGI: Starlette's BaseHTTPMiddleware costs a task
    and a stream per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: bool = False) -> None:
        self.app, self.metrics, self.access_log = app, metrics, access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception reaches the server error handler

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            seconds = time.perf_counter() - started
            self.metrics.observe(scope["method"], route, status, seconds)
            if self.access_log:
                client = scope.get("client") or ("-", 0)
                # The path as sent, still percent-encoded: a decoded one could hold a line break.
                raw = scope.get("raw_path") or scope["path"].encode("utf-8")
                path = raw.decode("ascii", "backslashreplace")
                ACCESS.info("%s %s %s %d %.1f ms", client[0], scope["method"], path, status, 1000 * seconds)
