"""Prometheus metrics, in a registry of the app's own (several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.tickets_issued = Counter(
            "madoguchi_tickets_issued",
            "Tickets issued",
            ["site", "service", "channel"],
            registry=self.registry,
        )
        self.calls = Counter(
            "madoguchi_calls", "Tickets called at counters", ["site"], registry=self.registry
        )
        self.waiting = Gauge(
            "madoguchi_waiting", "Tickets waiting now", ["site", "service"], registry=self.registry
        )
        self.request_seconds = Histogram(
            "madoguchi_request_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
