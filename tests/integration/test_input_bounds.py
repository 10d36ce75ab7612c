"""No input breaks a grievance or a parser: depth bombs, far deadlines, unbounded notes.

Every door (HTTP JSON, the Open311 form, the ``zt:intake`` and ``zt:actions`` streams)
refuses what it cannot store safely with a reason, never a 5xx or a crashed consumer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.intake.civic import CivicIndex
from services.intake.classify import load_rules
from services.intake.ingest import StreamIntake
from services.intake.submission import Intake
from services.notifier import labels
from services.router.engine import Engine
from services.router.handlers import ActionHandler
from shared import codec
from shared.config import load_config
from shared.consumer import Entry
from shared.events import MAX_NOTES
from shared.redis.scripts import Scripts
from tests.conftest import ROOT
from tests.helpers import eventually
from tests.integration.intake_support import (
    AUTH,
    KEYS,
    fixture_http,  # noqa: F401  (fixture used by name)
    fixture_intake_app,  # noqa: F401  (fixture used by name)
    grievance_body,
    rejected,
)
from tests.integration.router_support import (
    act,
    events_of,
    fast_config,
    make_grievance,
    running_router,
    submit,
)

pytestmark = pytest.mark.integration

CONFIG = load_config(ROOT / "config" / "demo.yaml")
BOMB = "[" * 10_000 + "]" * 10_000
FAR = ("9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59Z", "2200-01-01T00:00:00+08:00")
JSON = {**AUTH, "Content-Type": "application/json"}


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"k": value}
    return value


def _stream_intake(client: Redis) -> StreamIntake:
    scripts = Scripts(client)
    intake = Intake(
        client, scripts, KEYS, load_rules(), CivicIndex(client, KEYS, CONFIG.civic_duplicates)
    )
    return StreamIntake(intake, scripts, KEYS)


async def test_open311_recursion_bomb_is_a_clear_400(http: httpx.AsyncClient) -> None:
    """10,000 '[' then ']' with no key, as JSON or as a form: a 4xx with a reason, never 500."""
    for content_type in ("application/json", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        reply = await http.post("/open311/v2/requests.json", content=BOMB, headers=headers)
        assert 400 <= reply.status_code < 500, (content_type, reply.text)
        assert reply.json()[0]["description"]
    deep = json.dumps({"api_key": "zt-demo-key", "description": _nested(40)})
    reply = await http.post("/open311/v2/requests.json", content=deep, headers=JSON)
    assert reply.status_code == 400
    assert "deeper" in reply.json()[0]["description"]


async def test_http_json_bombs_are_4xx(http: httpx.AsyncClient) -> None:
    """A recursion bomb or a 40-deep object as a grievance or an action: 4xx with detail."""
    gid = (await http.post("/v1/grievances", json=grievance_body(), headers=AUTH)).json()["id"]
    deep = json.dumps({**grievance_body(), "title": _nested(40)})
    for path in ("/v1/grievances", f"/v1/grievances/{gid}/actions"):
        for body in (BOMB, deep, '{"a":' * 5000):
            reply = await http.post(path, content=body, headers=JSON)
            assert 400 <= reply.status_code < 500, (path, body[:20], reply.text)
            assert reply.json()["detail"]


async def test_http_json_deeper_than_the_stream_limit_is_400_saying_so(
    http: httpx.AsyncClient, redis: Redis
) -> None:
    """33 to 10,000 levels, sent whole or chunked: 400 naming the 32-level limit, not queued."""
    gid = (await http.post("/v1/grievances", json=grievance_body(), headers=AUTH)).json()["id"]
    queued = await redis.xlen(KEYS.submitted)
    too_deep = (
        json.dumps({**grievance_body(), "title": _nested(codec.MAX_DEPTH)}),
        '{"worker":' * 1500,
        BOMB,
    )
    for path in ("/v1/grievances", f"/v1/grievances/{gid}/actions"):
        for body in too_deep:
            for content in (body.encode(), _chunks(body.encode())):
                reply = await http.post(path, content=content, headers=JSON)
                assert reply.status_code == 400, (path, body[:20], reply.text)
                assert reply.json()["detail"].startswith(
                    f"JSON body nests deeper than {codec.MAX_DEPTH} levels (the limit)"
                )
    assert await redis.xlen(KEYS.submitted) == queued
    assert await redis.xlen(KEYS.actions) == 0
    deepest_allowed = json.dumps({**grievance_body(), "title": _nested(codec.MAX_DEPTH - 1)})
    reply = await http.post("/v1/grievances", content=deepest_allowed, headers=JSON)
    assert reply.status_code == 422, reply.text
    assert reply.json()["detail"][0]["field"] == "title"


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    """Yield ``body`` in 1 kB pieces (a request without Content-Length)."""
    for start in range(0, len(body), 1024):
        yield body[start : start + 1024]


async def test_stream_depth_bomb_is_rejected_with_a_reason(redis: Redis) -> None:
    """zt:intake entries nesting too deep land in zt:intake.rejected with the reason."""
    handler = _stream_intake(redis)
    deep = json.dumps({**grievance_body(), "source": "kiosk", "title": _nested(40)})
    for i, payload in enumerate((BOMB, deep), start=1):
        await handler.handle(Entry(id=f"{i}-0", fields={b"payload": payload.encode()}))
    records = await rejected(redis)
    assert [r["entry_id"] for r in records] == ["1-0", "2-0"]
    assert all("deeper than" in r["reasons"][0] for r in records)


async def test_actions_stream_bomb_is_dead_lettered_not_raised(redis: Redis) -> None:
    """A zt:actions recursion bomb is set aside with its reason; the handler does not fail."""
    handler = ActionHandler(Engine(redis, KEYS, CONFIG))
    failures = await handler([Entry(id="1-0", fields={b"payload": BOMB.encode()})])
    assert failures == {}
    ((_, fields),) = await redis.xrange(KEYS.dlq)
    assert "deeper than" in json.loads(fields[b"payload"])["error"]


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("occurred_at", grievance_body(occurred_at="9999-12-31T23:59:59Z")),
        ("occurred_at", grievance_body(occurred_at="1900-01-01T00:00:00Z")),
        ("description", grievance_body(description="\u200b\u200c\u200d\ufeff")),
        ("description", grievance_body(description="\u2060 \u00ad\u200e")),
        ("title", grievance_body(title="\u200b")),
        ("worker.id", grievance_body(worker={"id": "\u200b\u200b"})),
        ("idempotency_key", grievance_body(idempotency_key="k" * 201)),
    ],
)
async def test_unstorable_submissions_are_422(
    http: httpx.AsyncClient, redis: Redis, field: str, body: dict[str, Any]
) -> None:
    """Far dates, invisible-only text and over-long keys are 422 naming the field."""
    reply = await http.post("/v1/grievances", json=body, headers=AUTH)
    assert reply.status_code == 422, reply.text
    assert field in {e["field"] for e in reply.json()["detail"]}
    assert await redis.xlen(KEYS.submitted) == 0


async def test_over_long_idempotency_keys_are_refused_on_every_http_door(
    http: httpx.AsyncClient,
) -> None:
    """Idempotency keys over 200 characters: 422 on /v1, 400 on Open311; 200 is accepted."""
    long = {**AUTH, "Idempotency-Key": "k" * 201}
    assert (
        await http.post("/v1/grievances", json=grievance_body(), headers=long)
    ).status_code == 422
    form = {
        "api_key": "zt-demo-key",
        "service_code": "sanitation",
        "address_string": "西湖路1号",
        "description": "垃圾没人清",
    }
    reply = await http.post(
        "/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "k" * 201}
    )
    assert reply.status_code == 400
    assert "Idempotency-Key" in reply.json()[0]["description"]
    reply = await http.post(
        "/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "k" * 200}
    )
    assert reply.status_code == 200, reply.text


async def test_post_without_content_type_says_what_is_expected(http: httpx.AsyncClient) -> None:
    """No Content-Type: 415 naming application/json, whether the body parses or not."""
    for body in (json.dumps(grievance_body()), "worker=w1&description=x", ""):
        reply = await http.post("/v1/grievances", content=body.encode(), headers=AUTH)
        assert reply.status_code == 415, (body, reply.text)
        assert "application/json" in reply.json()["detail"]


async def test_stream_entries_outside_the_bounds_are_rejected(redis: Redis) -> None:
    """A source with ':', an over-long key or a year-9999 date: rejected with the field named."""
    handler = _stream_intake(redis)
    bodies = [
        {**grievance_body(), "source": "app-a:idem"},
        {**grievance_body(), "source": "kiosk", "idempotency_key": "k" * 201},
        {**grievance_body(), "source": "kiosk", "occurred_at": "9999-12-31T23:59:59Z"},
        {**grievance_body(description="\u200b\u200b"), "source": "kiosk"},
    ]
    for i, body in enumerate(bodies, start=1):
        await handler.handle(Entry(id=f"{i}-0", fields={b"payload": codec.encode(body)}))
    fields = [r["reasons"][0].split(":")[0] for r in await rejected(redis)]
    assert fields == ["source", "idempotency_key", "occurred_at", "description"]
    assert await redis.xlen(KEYS.submitted) == 0


async def test_far_deadline_is_422_at_intake(http: httpx.AsyncClient) -> None:
    """extend to year 9999 (any offset) or beyond a year ahead: 422 on new_deadline."""
    gid = (await http.post("/v1/grievances", json=grievance_body(), headers=AUTH)).json()["id"]
    for deadline in FAR:
        action = {
            "type": "extend",
            "actor": {"id": "w-1001", "role": "worker"},
            "reason": "需要更多时间",
            "new_deadline": deadline,
        }
        reply = await http.post(f"/v1/grievances/{gid}/actions", json=action, headers=AUTH)
        assert reply.status_code == 422, (deadline, reply.text)
        assert reply.json()["detail"][0]["field"] == "new_deadline"


async def test_a_stored_far_deadline_never_breaks_a_read_or_a_message(
    http: httpx.AsyncClient, redis: Redis
) -> None:
    """A year-10000 deadline already in Redis: the GET is 200 and the notifier formats it."""
    gid = (await http.post("/v1/grievances", json=grievance_body(), headers=AUTH)).json()["id"]
    await redis.hset(
        KEYS.grievance(gid), mapping={"resolve_due": 253402387139000, "ack_due": -1e17}
    )
    reply = await http.get(f"/v1/grievances/{gid}", headers=AUTH)
    assert reply.status_code == 200, reply.text
    assert reply.json()["resolve_due_at"] is None
    assert reply.json()["ack_due_at"] is None
    assert labels.when("zh-CN", "9999-12-31T23:59:59Z")
    assert labels.when("en", "9999-12-31T23:59:59-23:59")


async def test_router_refuses_far_deadlines_and_notes_past_the_limit(
    redis_url: str, redis: Redis
) -> None:
    """Through zt:actions: a year-9999 extension and note number MAX_NOTES+1 → action.refused."""
    grievance = make_grievance()
    async with running_router(redis_url, fast_config(ack=600, resolve=6000)):
        await submit(redis, grievance)
        (assigned,) = await eventually(lambda: events_of(redis, grievance.id))
        unit = {"id": assigned["assignee"], "role": "member"}
        await act(
            redis,
            grievance.id,
            type="extend",
            actor=unit,
            reason="需要更多时间",
            new_deadline="9999-12-31T23:59:59Z",
        )
        for i in range(MAX_NOTES + 1):
            await act(redis, grievance.id, type="add_note", actor=unit, note=f"第{i}条")

        async def settled() -> list[dict[str, Any]]:
            events = await events_of(redis, grievance.id)
            return events if len(events) == MAX_NOTES + 3 else []

        events = await eventually(settled, timeout=20)
    refused = [e for e in events if e["type"] == "action.refused"]
    assert len(refused) == 2
    assert "new_deadline" in refused[0]["reason"]
    assert f"limit is {MAX_NOTES}" in refused[1]["reason"]
    assert sum(e["type"] == "grievance.note_added" for e in events) == MAX_NOTES
    record = await redis.hgetall(KEYS.grievance(grievance.id))
    assert b"ext_count" not in record
