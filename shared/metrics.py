"""Our own Prometheus series, refreshed from Redis when ``/metrics`` is scraped.

Every service exports stream lag, pending entries and DLQ depth by kind; the router also
exports grievances by state, open overdue grievances and SLA breaches by tier (the all-time
KPI counters of ``shared.kpi``, cached briefly so frequent scrapes stay cheap).  Every
refresh sets each known label value, so a state, tier or kind that emptied reads 0, not its
last count.  ``HttpMetrics`` counts HTTP requests by route template and status;
``TransitionMetrics`` counts grievances' transitions and times their ack and resolution.

Label values are bounded: states, tiers and DLQ kinds are fixed sets (anything else is
``other``), routes are path templates (``/v1/grievances/{grievance_id}``), never raw URLs.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client import Counter as CounterMetric
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import codec
from shared.events import Grievance, State
from shared.record import TIERS, Record
from shared.redis.client import as_text
from shared.stats import Window, read_counters, report
from shared.streams import Keys

# What writes to the DLQ: a consumer giving up (poison), the router refusing an action it
# cannot even read (invalid_action), the notifier giving up a delivery (notification.failed).
DLQ_KINDS = ("poison", "invalid_action", "notification.failed")
OTHER = "other"
# The DLQ is read entry by entry to count kinds; past this many the rest count as "other".
DLQ_SCAN_LIMIT = 10_000
DLQ_PAGE = 1_000


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
            "zhitong_dlq_depth",
            "Entries in the dead-letter stream by the kind in their payload",
            ["kind"],
            registry=registry,
        )

    async def refresh(self) -> None:
        """Read XINFO GROUPS of every stream and count the DLQ's entries by kind."""
        for stream in self.streams:
            try:
                groups = await self.client.xinfo_groups(stream)
            except ResponseError:  # the stream does not exist yet
                continue
            for group in groups:
                name = as_text(group["name"])
                self.lag.labels(stream, name).set(group.get("lag") or 0)
                self.pending.labels(stream, name).set(group["pending"])
        kinds = await dlq_kinds(self.client, self.keys.dlq)
        for kind in (*DLQ_KINDS, OTHER):
            self.dlq.labels(kind).set(kinds[kind])


def _kind(fields: Any) -> str:
    """Return the kind a DLQ entry's payload names, ``other`` for anything else."""
    try:
        kind = codec.decode(fields).get("kind")
    except codec.PayloadError:  # an unreadable record is still a dead letter
        return OTHER
    return kind if kind in DLQ_KINDS else OTHER


async def dlq_kinds(client: Redis, stream: str) -> Counter[str]:
    """Return the DLQ's depth by kind, reading at most ``DLQ_SCAN_LIMIT`` entries."""
    kinds: Counter[str] = Counter()
    start, scanned = "-", 0
    while scanned < DLQ_SCAN_LIMIT:
        # redis-py types stream replies loosely (None for an empty reply).
        page = await client.xrange(stream, min=start, count=DLQ_PAGE) or []
        kinds.update(_kind(fields) for _, fields in page)
        scanned += len(page)
        if len(page) < DLQ_PAGE:
            return kinds
        start = "(" + as_text(page[-1][0])
    kinds[OTHER] += max(0, await client.xlen(stream) - scanned)
    return kinds


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
        """Read the all-time KPI counters (units × counters, not grievances) unless recent."""
        if time.monotonic() - self.read_at < self.max_age_s:
            return
        kpis = report(await read_counters(self.client, self.keys, Window()))
        states = kpis["by_state"]
        for state in {*State, *states}:  # every known state, so an emptied one reads 0
            self.by_state.labels(state).set(states.get(state, 0))
        self.overdue.set(kpis["overall"]["overdue"])
        tiers = kpis["by_tier"]
        for tier in {*map(str, TIERS), *tiers}:
            self.breaches.labels(tier).set(tiers[tier]["breaches"] if tier in tiers else 0)
        self.read_at = time.monotonic()


# Lifecycle events counted as transitions, by the word that labels them.
TRANSITIONS = {
    "grievance.assigned": "assigned",
    "grievance.reassigned": "reassigned",
    "grievance.escalated": "escalated",
    "grievance.resolved": "resolved",
    "grievance.reopened": "reopened",
    "grievance.closed": "closed",
    "grievance.withdrawn": "withdrawn",
}
# Buckets (seconds) of the time histograms: round durations an SLA or an alert names.
TIME_BUCKETS_S = (
    60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600,
    86400, 2 * 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400,
)  # fmt: skip


class TransitionMetrics:
    """Counters of grievance transitions by category and tier; histograms of the time from
    submission to first acknowledgement and to resolution, by the tier that did it.

    Intake counts ``submitted``; the router counts the rest from each committed change
    (``observe``).  Labels are bounded sets: categories, tiers 1–3 (``-`` for none).
    """

    def __init__(self, registry: CollectorRegistry, *, times: bool = True) -> None:
        self.transitions = CounterMetric(
            "zhitong_grievance_transitions",
            "Grievances submitted, assigned, reassigned, escalated, resolved, reopened, "
            "closed or withdrawn, by category and the tier after the transition",
            ["transition", "category", "tier"],
            registry=registry,
        )
        self.times: tuple[Histogram, Histogram] | None = None
        if times:  # only the router sees acknowledgements and resolutions
            self.times = (
                Histogram(
                    "zhitong_time_to_acknowledge_seconds",
                    "Submission to first acknowledgement, by the tier that acknowledged",
                    ["tier"],
                    buckets=TIME_BUCKETS_S,
                    registry=registry,
                ),
                Histogram(
                    "zhitong_time_to_resolve_seconds",
                    "Submission to resolution, by the tier that resolved",
                    ["tier"],
                    buckets=TIME_BUCKETS_S,
                    registry=registry,
                ),
            )

    def submitted(self, grievance: Grievance) -> None:
        """Count one accepted grievance."""
        self.transitions.labels("submitted", grievance.category.value, "-").inc()

    def observe(self, record: Record) -> None:
        """Count the transitions of one committed change and time a first ack or a resolution."""
        category = record.get("category") or OTHER
        for event in record.events:
            name = TRANSITIONS.get(event["type"])
            if name is not None:
                self.transitions.labels(name, category, str(event.get("tier", "-"))).inc()
        if self.times is None or record.get("duplicate_of"):  # a duplicate has no clock
            return
        submitted = record.ms("submitted_at") or 0
        for (field, tier_field), histogram in zip(
            (("first_acked_at", "ack_tier"), ("resolved_at", "resolved_tier")),
            self.times,
            strict=True,
        ):
            at = record.ms(field)
            if at is not None and record.base.get(field) != record.get(field):
                histogram.labels(record.get(tier_field) or "-").observe((at - submitted) / 1000)


class HttpMetrics:
    """ASGI middleware: requests by method, route template and status, and their latency.

    The template is the route the app's router matched (it records it in the scope); a
    request refused before routing (an unknown path, a body over the limit) counts as
    ``other``, so a scan of random URLs adds no series.
    """

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = CounterMetric(
            "zhitong_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "zhitong_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless the app starts a response before it fails

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            route = str(getattr(scope.get("route"), "path", OTHER))
            method = scope["method"]
            self.latency.labels(method, route).observe(time.perf_counter() - started)
            self.requests.labels(method, route, str(status)).inc()
