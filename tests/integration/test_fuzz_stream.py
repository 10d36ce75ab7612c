"""Fuzz the ``zt:intake`` stream: garbage and near-valid entries never crash the consumer.

Two levels: the intake's entry handler on thousands of hypothesis entries (each one must be
accepted or rejected with reasons, never raise), and the running consumer on a burst of
them followed by a good entry (it must still accept it, with nothing left pending).  The
router's action handler gets the same treatment on ``zt:actions``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from services.intake.app import build_app
from services.intake.civic import CivicIndex
from services.intake.classify import load_rules
from services.intake.ingest import StreamIntake
from services.intake.submission import Intake
from services.router.engine import Engine
from services.router.handlers import ActionHandler
from shared import codec
from shared.config import load_config
from shared.consumer import Entry
from shared.redis.scripts import Scripts
from shared.settings import IntakeSettings
from shared.streams import GROUP_INTAKE, Keys
from tests.conftest import ROOT
from tests.helpers import eventually
from tests.integration.router_support import make_grievance, submit

pytestmark = pytest.mark.integration

KEYS = Keys()
FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CONFIG = load_config(ROOT / "config" / "demo.yaml")

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
VALID = {
    "worker": {
        "id": "w-fuzz",
        "industry": "express_delivery",
        "platform": "中通",
        "region": "城东区",
    },
    "description": "小区物业禁止快递员进入",
    "source": "kiosk-fuzz",
}


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, Any]:
    """Return the valid payload with a few fields dropped, replaced or added."""
    body = json.loads(json.dumps(VALID))
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from([*VALID, "category", "urgency", "idempotency_key", "x"]))
        if draw(st.booleans()):
            body.pop(field, None)
        else:
            body[field] = draw(json_values)
    return body


def _payload_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


# Entry fields as an upstream app might send them: right or wrong field name, JSON or not,
# UTF-8 or not, several fields, none at all.
field_names = st.sampled_from([b"payload", b"Payload", b"data", b""]) | st.binary(max_size=8)
payloads = st.one_of(
    near_valid().map(_payload_bytes),
    json_values.map(_payload_bytes),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.just(b'\xff\xfe{"worker": 1}'),
)
entries = st.dictionaries(field_names, payloads, min_size=1, max_size=3) | st.fixed_dictionaries(
    {b"payload": payloads}
)


def _handler(client: Redis) -> StreamIntake:
    scripts = Scripts(client)
    civic = CivicIndex(client, KEYS, CONFIG.civic_duplicates)
    intake = Intake(client, scripts, KEYS, load_rules(), civic)
    return StreamIntake(intake, scripts, KEYS)


async def _rejection(redis: Redis, entry_id: str) -> dict[str, Any] | None:
    for _, fields in reversed(await redis.xrevrange(KEYS.intake_rejected, count=5)):
        record = json.loads(fields[b"payload"])
        if record["entry_id"] == entry_id:
            return dict(record)
    return None


async def test_fuzz_intake_entries_are_accepted_or_rejected_with_reasons(redis: Redis) -> None:
    """3,000 entries straight into the handler: none raises; each rejection names reasons."""
    handler = _handler(redis)
    outcomes: Counter[str] = Counter()
    seen: list[tuple[str, dict[bytes, bytes]]] = []

    @settings(FUZZ, max_examples=3000)
    @given(fields=entries)
    def collect(fields: dict[bytes, bytes]) -> None:
        seen.append((f"{len(seen) + 1}-0", fields))

    collect()  # hypothesis draws the entries; the handler (async) runs over each below
    for entry_id, fields in seen:
        before = await redis.xlen(KEYS.submitted)
        await handler.handle(Entry(id=entry_id, fields=fields))
        if await redis.xlen(KEYS.submitted) > before:
            outcomes["accepted"] += 1
            continue
        rejection = await _rejection(redis, entry_id)
        assert rejection is not None, f"entry {fields!r} neither accepted nor rejected"
        assert rejection["reasons"], rejection
        assert all(isinstance(r, str) and r for r in rejection["reasons"]), rejection
        outcomes["rejected"] += 1
    assert outcomes.total() >= 3000
    assert outcomes["accepted"], outcomes
    assert outcomes["rejected"], outcomes


@pytest.fixture(name="intake_app")
async def fixture_intake_app(redis_url: str) -> AsyncIterator[FastAPI]:
    """Run intake in-process with its stream consumer."""
    settings_ = IntakeSettings(
        redis_url=redis_url, consumer_name="intake-fuzz", poll_ms=20, reclaim_idle_ms=1000
    )
    app = build_app(settings_, CONFIG)
    async with app.router.lifespan_context(app):
        yield app


async def test_fuzz_burst_leaves_the_consumer_accepting(intake_app: FastAPI, redis: Redis) -> None:
    """700 fuzzed XADDs then one good entry: the good one is accepted, nothing stays pending."""
    del intake_app  # the running consumer is what is under test
    burst: list[dict[bytes, bytes]] = []

    @settings(FUZZ, max_examples=700)
    @given(fields=entries)
    def collect(fields: dict[bytes, bytes]) -> None:
        burst.append(fields)

    collect()
    ids = [(await redis.xadd(KEYS.intake, fields)).decode() for fields in burst]
    good_id = await redis.xadd(KEYS.intake, codec.fields({**VALID, "idempotency_key": "good"}))

    async def settled() -> bool:
        groups = {g["name"].decode(): g for g in await redis.xinfo_groups(KEYS.intake)}
        group = groups.get(GROUP_INTAKE)
        return bool(group) and group["pending"] == 0 and group["lag"] == 0

    await eventually(settled, timeout=60, interval=0.1)
    submitted = [json.loads(f[b"payload"]) for _, f in await redis.xrange(KEYS.submitted)]
    assert any(g.get("idempotency_key") == "good" for g in submitted), good_id
    rejected = {
        json.loads(f[b"payload"])["entry_id"]: json.loads(f[b"payload"])["reasons"]
        for _, f in await redis.xrange(KEYS.intake_rejected)
    }
    keyed = {g.get("idempotency_key") for g in submitted}
    for entry_id, fields in zip(ids, burst, strict=True):
        if entry_id in rejected:
            assert rejected[entry_id], entry_id
            continue
        own = json.loads(fields[b"payload"]).get("idempotency_key")
        # Accepted under its own key (possibly a repeat of an earlier one) or the default.
        assert f"stream:{entry_id}" in keyed or str(own).strip() in keyed, (entry_id, fields)
    assert not await redis.xlen(KEYS.dlq)


actions = st.dictionaries(
    st.sampled_from(
        [
            "action_id",
            "grievance_id",
            "type",
            "actor",
            "note",
            "rating",
            "reason",
            "new_deadline",
            "assignee",
            "departments",
            "x",
        ]
    ),
    json_values,
)


async def test_fuzz_router_actions_never_raise(redis: Redis) -> None:
    """1,000 fuzzed zt:actions entries: each refused, applied or dead-lettered, none raises."""
    grievance = make_grievance()
    await submit(redis, grievance)
    handler = ActionHandler(Engine(redis, KEYS, CONFIG))
    bodies: list[dict[str, Any]] = []

    @settings(FUZZ, max_examples=1000)
    @given(body=actions, real=st.booleans(), raw=st.binary(max_size=40) | st.none())
    def collect(body: dict[str, Any], real: bool, raw: bytes | None) -> None:
        if real:
            body["grievance_id"] = grievance.id
        bodies.append({"raw": raw} if raw is not None and not real else body)

    collect()
    for i, body in enumerate(bodies):
        # As read from Redis: bytes field names and values.
        fields = {b"payload": body["raw"] if "raw" in body else codec.encode(body)}
        failures = await handler([Entry(id=f"{i + 1}-0", fields=fields)])
        assert not failures, (body, failures)
    assert len(bodies) >= 1000
