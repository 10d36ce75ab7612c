"""/metrics after a scripted scenario: the documented series carry the right values."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from services.router.app import build_app
from shared.events import Urgency
from shared.kpi import kpi_writes
from shared.metrics import DLQ_KINDS, GrievanceGauges, StreamGauges
from tests.helpers import eventually
from tests.integration.intake_support import (
    AUTH,
    fixture_http,  # noqa: F401  (fixture used by name)
    fixture_intake_app,  # noqa: F401  (fixture used by name)
    grievance_body,
)
from tests.integration.router_support import (
    KEYS,
    act,
    events_of,
    make_grievance,
    member_breach_config,
    router_settings,
    submit,
)

pytestmark = pytest.mark.integration


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_reflect_the_scenario(redis_url: str, redis: Redis) -> None:
    """One escalated, one withdrawn, one dead letter: gauges and counters say exactly that."""
    # Only critical grievances have a short member ack, so exactly one of the two escalates.
    quiet, short = member_breach_config(3600), member_breach_config(1)
    urgency = {**quiet.sla.urgency, Urgency.CRITICAL: short.sla.urgency[Urgency.CRITICAL]}
    config = quiet.model_copy(update={"sla": quiet.sla.model_copy(update={"urgency": urgency})})
    app = build_app(router_settings(redis_url), config)
    escalating, withdrawn = make_grievance(), make_grievance(id="w-2")
    escalating.urgency = Urgency.CRITICAL
    async with app.router.lifespan_context(app):
        await submit(redis, escalating)
        await submit(redis, withdrawn)

        async def escalated() -> bool:
            types = [e["type"] for e in await events_of(redis, escalating.id)]
            return "grievance.escalated" in types

        await eventually(escalated)
        await act(redis, withdrawn.id, type="withdraw", actor={"id": "w-2", "role": "worker"})

        async def ended() -> bool:
            return await redis.zscore(KEYS.ended_index, withdrawn.id) is not None

        await eventually(ended)
        await redis.xadd(KEYS.dlq, {"payload": '{"kind": "poison"}'})
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
            samples = _samples((await client.get("/metrics")).text)
    assert samples[("zhitong_grievances", (("state", "assigned"),))] == 1
    assert samples[("zhitong_grievances", (("state", "withdrawn"),))] == 1
    assert samples[("zhitong_sla_breaches", (("tier", "2"),))] == 1
    assert samples[("zhitong_grievances_overdue", ())] == 0
    assert samples[("zhitong_dlq_depth", (("kind", "poison"),))] == 1
    lag = ("zhitong_stream_lag", (("group", "router"), ("stream", "zt:submitted")))
    assert samples[lag] == 0
    assert samples[("zhitong_timers_fired_total", ())] >= 2  # the ack breach and its warning
    assert any(name.startswith("faststream_") for name, _ in samples)


async def test_a_state_and_a_tier_that_emptied_read_zero(redis: Redis) -> None:
    """The only assigned grievance, breached at tier 2, is escalated and then withdrawn."""
    registry = CollectorRegistry()
    gauges = GrievanceGauges(redis, KEYS, registry, max_age_s=0)

    record: dict[str, str] = {}

    async def scrape(**fields: str) -> dict[str, float | None]:
        nonlocal record
        # The counters move as every writer of a record moves them (shared/readside.py).
        changed = {**record, "submitted_at": "1", **fields}
        for command, key, args in kpi_writes(KEYS, record, changed):
            await redis.execute_command(command, key, *args)
        record = changed
        await gauges.refresh()
        return {
            "assigned": registry.get_sample_value("zhitong_grievances", {"state": "assigned"}),
            "withdrawn": registry.get_sample_value("zhitong_grievances", {"state": "withdrawn"}),
            "tier2": registry.get_sample_value("zhitong_sla_breaches", {"tier": "2"}),
            "tier3": registry.get_sample_value("zhitong_sla_breaches", {"tier": "3"}),
        }

    first = await scrape(state="assigned", tier="2", breaches="1")
    assert first == {"assigned": 1, "withdrawn": 0, "tier2": 1, "tier3": 0}
    after = await scrape(state="withdrawn", tier="3", breaches="2")
    assert after == {"assigned": 0, "withdrawn": 1, "tier2": 0, "tier3": 2}


async def test_dlq_depth_is_counted_by_kind(redis: Redis) -> None:
    """Dead letters are counted by their payload's kind; unknown or unreadable ones as other."""
    registry = CollectorRegistry()
    gauges = StreamGauges(redis, KEYS, registry)
    for kind in ("poison", "poison", "notification.failed", "made-up"):
        await redis.xadd(KEYS.dlq, {"payload": json.dumps({"kind": kind})})
    await redis.xadd(KEYS.dlq, {"payload": "{not json"})
    await gauges.refresh()
    depth = {
        kind: registry.get_sample_value("zhitong_dlq_depth", {"kind": kind})
        for kind in (*DLQ_KINDS, "other")
    }
    assert depth == {"poison": 2, "invalid_action": 0, "notification.failed": 1, "other": 2}
    await redis.delete(KEYS.dlq)
    await gauges.refresh()
    assert registry.get_sample_value("zhitong_dlq_depth", {"kind": "poison"}) == 0


async def test_http_requests_are_counted_by_route_template_and_status(
    http: httpx.AsyncClient,
) -> None:
    """A 202 and a 422 on POST, a GET by id: counted under templates, never raw ids."""
    accepted = await http.post("/v1/grievances", json=grievance_body(), headers=AUTH)
    assert accepted.status_code == 202, accepted.text
    refused = await http.post("/v1/grievances", json={"worker": {}}, headers=AUTH)
    assert refused.status_code == 422
    gid = accepted.json()["id"]
    await http.get(f"/v1/grievances/{gid}", headers=AUTH)
    await http.get("/no/such/page")
    samples = _samples((await http.get("/metrics")).text)
    requests = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "zhitong_http_requests_total"
    }
    post = (("method", "POST"), ("route", "/v1/grievances"))
    assert requests[(*post, ("status", "202"))] == 1
    assert requests[(*post, ("status", "422"))] == 1
    assert not any(gid in value for labels in requests for _, value in labels)
    routes = {dict(labels)["route"] for labels in requests}
    assert "other" in routes  # the unknown page, whatever its URL
    assert "/v1/grievances/{grievance_id}" in routes
    count = ("zhitong_http_request_duration_seconds_count", post)
    assert samples[count] == 2
    submitted = (("category", "road_access"), ("tier", "-"), ("transition", "submitted"))
    assert samples[("zhitong_grievance_transitions_total", submitted)] == 1  # not the 422


async def test_transitions_are_counted_and_times_observed(redis_url: str, redis: Redis) -> None:
    """Assigned, acknowledged after a while, resolved, rated 5 and closed: each counted once
    by category and tier, the ack and resolution times in the histograms of tier 1."""
    app = build_app(router_settings(redis_url), member_breach_config(3600))
    grievance = make_grievance()
    grievance.submitted_at -= timedelta(minutes=10)  # filed ten minutes before routing
    async with app.router.lifespan_context(app):
        await submit(redis, grievance)

        async def last_event(etype: str) -> bool:
            events = await events_of(redis, grievance.id)
            return bool(events) and events[-1]["type"] == etype

        await eventually(lambda: last_event("grievance.assigned"))
        member = {"id": (await redis.hget(KEYS.grievance(grievance.id), "assignee")).decode()}
        member["role"] = "member"
        await act(redis, grievance.id, type="acknowledge", actor=member)
        await eventually(lambda: last_event("grievance.acknowledged"))
        await act(redis, grievance.id, type="resolve", actor=member, resolution="已解决")
        await eventually(lambda: last_event("grievance.feedback_requested"))
        worker = {"id": "w-1001", "role": "worker"}
        await act(redis, grievance.id, type="feedback", actor=worker, rating=5)
        await eventually(lambda: last_event("grievance.closed"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
            samples = _samples((await client.get("/metrics")).text)
    transitions = {
        dict(labels)["transition"]: (dict(labels)["category"], dict(labels)["tier"], value)
        for (name, labels), value in samples.items()
        if name == "zhitong_grievance_transitions_total"
    }
    assert transitions == {
        "assigned": ("road_access", "1", 1),
        "resolved": ("road_access", "1", 1),
        "closed": ("road_access", "1", 1),
    }
    for histogram in ("zhitong_time_to_acknowledge_seconds", "zhitong_time_to_resolve_seconds"):
        assert samples[(f"{histogram}_count", (("tier", "1"),))] == 1
        assert samples[(f"{histogram}_bucket", (("le", "300.0"), ("tier", "1")))] == 0
        assert samples[(f"{histogram}_bucket", (("le", "900.0"), ("tier", "1")))] == 1
