"""/metrics after a scripted scenario: the documented series carry the right values."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from services.router.app import build_app
from shared.events import Urgency
from tests.helpers import eventually
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
    assert samples[("zhitong_dlq_depth", ())] == 1
    lag = ("zhitong_stream_lag", (("group", "router"), ("stream", "zt:submitted")))
    assert samples[lag] == 0
    assert samples[("zhitong_timers_fired_total", ())] >= 2  # the ack breach and its warning
    assert any(name.startswith("faststream_") for name, _ in samples)
