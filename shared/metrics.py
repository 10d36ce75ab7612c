"""Our own Prometheus series, refreshed from Redis when ``/metrics`` is scraped.

Every service exports stream lag, pending entries and DLQ depth; the router also exports
grievances by state, open overdue grievances and SLA breaches by tier (from the same
records as ``shared.stats``, cached briefly so frequent scrapes stay cheap).
"""

from __future__ import annotations

import time
from collections import Counter

from prometheus_client import CollectorRegistry, Gauge
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.events import OPEN_STATES
from shared.redis.client import as_text
from shared.stats import load_records
from shared.streams import Keys


class StreamGauges:
    """Gauges of consumer-group lag and pending entries, and of the DLQ depth."""

    def __init__(self, client: Redis, keys: Keys, registry: CollectorRegistry) -> None:
        self.client = client
        self.keys = keys
        self.streams = (keys.intake, keys.submitted, keys.actions, keys.events)
        self.lag = Gauge(
            "zhitong_stream_lag",
            "Entries not yet delivered to a consumer group",
            ["stream", "group"],
            registry=registry,
        )
        self.pending = Gauge(
            "zhitong_stream_pending",
            "Entries delivered but not acknowledged",
            ["stream", "group"],
            registry=registry,
        )
        self.dlq = Gauge(
            "zhitong_dlq_depth", "Entries in the dead-letter stream", registry=registry
        )

    async def refresh(self) -> None:
        """Read XINFO GROUPS of every stream and XLEN of the DLQ."""
        for stream in self.streams:
            try:
                groups = await self.client.xinfo_groups(stream)
            except ResponseError:  # the stream does not exist yet
                continue
            for group in groups:
                name = as_text(group["name"])
                self.lag.labels(stream, name).set(group.get("lag") or 0)
                self.pending.labels(stream, name).set(group["pending"])
        self.dlq.set(await self.client.xlen(self.keys.dlq))


class GrievanceGauges:
    """Gauges of grievances by state, overdue open ones, and breaches by tier."""

    def __init__(
        self, client: Redis, keys: Keys, registry: CollectorRegistry, max_age_s: float = 10.0
    ) -> None:
        self.client = client
        self.keys = keys
        self.max_age_s = max_age_s
        self.read_at = 0.0
        self.by_state = Gauge(
            "zhitong_grievances", "Grievances by lifecycle state", ["state"], registry=registry
        )
        self.overdue = Gauge(
            "zhitong_grievances_overdue",
            "Open grievances past their top-tier deadline",
            registry=registry,
        )
        self.breaches = Gauge(
            "zhitong_sla_breaches",
            "SLA breaches (missed ack/resolve deadlines) by current tier",
            ["tier"],
            registry=registry,
        )

    async def refresh(self) -> None:
        """Recount from the grievance records unless the last count is recent."""
        if time.monotonic() - self.read_at < self.max_age_s:
            return
        records = await load_records(self.client, self.keys)
        states = Counter(r.get("state", "unknown") for r in records)
        breaches: Counter[str] = Counter()
        for record in records:
            breaches[record.get("tier") or "0"] += int(record.get("breaches") or 0)
        for state, count in states.items():
            self.by_state.labels(state).set(count)
        self.overdue.set(
            sum(r.get("overdue") == "1" and r.get("state") in OPEN_STATES for r in records)
        )
        for tier, count in breaches.items():
            self.breaches.labels(tier).set(count)
        self.read_at = time.monotonic()
