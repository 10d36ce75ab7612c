"""Red team: hand-made hostile inputs against the running services (separate processes).

Not hypothesis' generic strings but what an attacker or a careless upstream app sends:
recursion bombs, keys in the wrong place, deadlines at the end of time, invisible text,
lone surrogates, storage-key separators, every phone and ID format in every text field.
Every answer is below 500 and no log line of any service holds the key or a number.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from shared import codec
from shared.streams import Keys
from tests.chaos.harness import log_only_config
from tests.helpers import eventually
from tests.integration.intake_support import (
    fixture_http,  # noqa: F401  (fixture used by name)
    fixture_intake_app,  # noqa: F401  (fixture used by name)
)
from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration

KEYS = Keys()
KEY = "zt-demo-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
NUMBERS = (
    "13912345678",
    "139 1234 5601",
    "139-1234-5602",
    "139.1234.5603",
    "１３９１２３４５６０４",
    "0571-87654321",
    "11010519491231002X",
    "110105 19491231 0037",
    "110105491231002",
)
PII_TEXT = "联系我：" + "，".join(NUMBERS) + "，或 zhang.wei@example.cn"
WORKER = {
    "id": "w-red-1",
    "name": "张伟",
    "phone": "139 1234 5601",
    "industry": "express_delivery",
    "platform": "中通",
    "region": "城东区",
}
BOMB = "[" * 10_000 + "]" * 10_000


def _grievance(**overrides: Any) -> dict[str, Any]:
    return {"worker": WORKER, "description": PII_TEXT, "title": PII_TEXT[:60], **overrides}


def _hostile_submissions() -> list[tuple[str, dict[str, str], bytes]]:
    """Return (path, headers, body) triples an attacker would try on the POST routes."""
    json_h = {**AUTH, "Content-Type": "application/json"}
    raw = [
        ("/open311/v2/requests.json", {"Content-Type": "application/json"}, BOMB),
        ("/open311/v2/requests.json", {}, f"api_key={KEY}&description={BOMB}"),
        ("/open311/v2/requests.json", {}, "&".join(f"f{i}=1" for i in range(5000))),
        (
            "/open311/v2/requests.json",
            {**AUTH, "Idempotency-Key": "k" * 5000},
            f"service_code=sanitation&address_string=1&description={PII_TEXT}",
        ),
        (
            "/open311/v2/requests.json",
            {"Content-Type": "application/json"},
            json.dumps(
                {
                    "api_key": KEY,
                    "lat": "1e999",
                    "long": "NaN",
                    "phone": NUMBERS[4],
                    "service_code": "sanitation",
                    "description": PII_TEXT,
                }
            ),
        ),
        ("/v1/grievances", json_h, BOMB),
        ("/v1/grievances", json_h, '{"worker":' * 3000),
        ("/v1/grievances", AUTH, json.dumps(_grievance())),
        ("/v1/grievances", json_h, '{"worker":{"id":"w"},"description":"\\ud800\\udfff\\ud800"}'),
        ("/v1/grievances", json_h, '{"worker":{"id":"w"},"description":"a\\u0000b"}'),
        ("/v1/grievances", json_h, json.dumps(_grievance(description="\u200b\u2060\ufeff"))),
        ("/v1/grievances", json_h, json.dumps(_grievance(occurred_at="9999-12-31T23:59:59-23:59"))),
        ("/v1/grievances", json_h, json.dumps(_grievance(occurred_at="0001-01-01T00:00:00+23:59"))),
        ("/v1/grievances", json_h, json.dumps(_grievance(location={"lat": 1e308, "lon": -1e308}))),
        ("/v1/grievances", {**json_h, "Idempotency-Key": "x" * 201}, json.dumps(_grievance())),
        (
            "/v1/grievances",
            {"Authorization": f"Bearer {KEY} {NUMBERS[0]}", "Content-Type": "application/json"},
            json.dumps(_grievance()),
        ),
        (
            "/v1/grievances",
            {"Authorization": f"Basic {KEY}", "Content-Type": "text/plain"},
            PII_TEXT,
        ),
    ]
    return [(path, headers, body.encode()) for path, headers, body in raw]


def _hostile_actions(worker_id: str) -> list[dict[str, Any]]:
    actor = {"id": worker_id, "role": "worker"}
    return [
        {
            "type": "extend",
            "actor": actor,
            "reason": "x",
            "new_deadline": "9999-12-31T23:59:59-23:59",
        },
        {"type": "extend", "actor": actor, "reason": "x", "new_deadline": "9999-12-31T23:59:59Z"},
        {"type": "add_note", "actor": actor, "note": PII_TEXT},
        {"type": "add_note", "actor": actor, "note": "\u200b" * 50},
        {"type": "add_note", "actor": actor, "note": "长" * 2001},
        {"type": "feedback", "actor": actor, "rating": 1e400},
        {"type": "withdraw", "actor": {"id": "\u202e" + worker_id, "role": "worker"}},
        {"type": "resolve", "actor": actor, "resolution": PII_TEXT, "idempotency_key": ":" * 201},
    ]


async def test_red_team_inputs_get_no_5xx_and_leave_no_key_or_number_in_any_log(
    redis_url: str, redis: Redis, tmp_path: Path
) -> None:
    """Hostile HTTP bodies, actions and stream entries: all < 500; logs hold no key or number."""
    config = log_only_config(tmp_path / "config.yaml")
    env = {"ZHITONG_RECLAIM_IDLE_MS": "1000", "ZHITONG_POLL_MS": "20"}
    procs = [
        ServiceProcess(name, redis_url, config, tmp_path, consumer=f"{name}-red", env=env)
        for name in ("intake", "router", "notifier")
    ]
    statuses: list[tuple[int, str]] = []
    try:
        for proc in procs:
            proc.start()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{procs[0].port}") as client:
            for path, headers, body in _hostile_submissions():
                reply = await client.post(path, content=body, headers=headers)
                statuses.append((reply.status_code, f"{path} {body[:40]!r}"))
            good = await client.post("/v1/grievances", json=_grievance(), headers=AUTH)
            gid = good.json()["id"]
            for action in _hostile_actions(WORKER["id"]):
                reply = await client.post(
                    f"/v1/grievances/{gid}/actions",
                    content=json.dumps(action),
                    headers={**AUTH, "Content-Type": "application/json"},
                )
                statuses.append((reply.status_code, f"action {action['type']}"))
            await redis.xadd(KEYS.intake, {"payload": BOMB})
            await redis.xadd(KEYS.intake, codec.fields({**_grievance(), "source": "a:b"}))
            await redis.xadd(KEYS.actions, {"payload": BOMB})
            await redis.xadd(
                KEYS.actions,
                codec.fields(
                    {
                        "type": "extend",
                        "actor": {"id": "m-1", "role": "member"},
                        "reason": PII_TEXT,
                        "new_deadline": "9999-12-31T23:59:59Z",
                        "action_id": "red-1",
                        "grievance_id": gid,
                    }
                ),
            )
            reply = await client.get(f"/v1/grievances/{gid}", headers=AUTH)
            statuses.append((reply.status_code, "read"))

            async def settled() -> bool:
                rejected = await redis.xlen(KEYS.intake_rejected)
                dead = await redis.xlen(KEYS.dlq)
                sent = await redis.xlen(KEYS.deliveries)
                return rejected >= 2 and dead >= 1 and sent >= 1

            await eventually(settled, timeout=20)
    finally:
        for proc in procs:
            proc.kill()
    assert not [s for s in statuses if s[0] >= 500], statuses
    lines = [
        line
        for proc in procs
        for line in (tmp_path / f"{proc.consumer}.log").read_text(errors="replace").splitlines()
    ]
    assert any(gid in line for line in lines), "the scan must cover the scenario's log lines"
    secrets = (KEY, "zhang.wei@example.cn", "张伟", *NUMBERS)
    leaks = [line for line in lines if any(secret in line for secret in secrets)]
    assert not leaks, "\n".join(leaks[:5])


@pytest.mark.parametrize(
    "query",
    [
        "start_date=9999-12-31T23:59:59Z",
        "end_date=9999-12-31T23:59:59-23:59",
        "start_date=9999-12-31T23:59:59Z&end_date=9999-12-31T23:59:59-23:59",
        "end_date=0001-01-01T00:00:00%2B23:59",
        "end_date=0001-01-01",
    ],
)
async def test_open311_list_dates_at_the_ends_of_the_calendar_are_400(
    http: httpx.AsyncClient, query: str
) -> None:
    """Key-less GET requests with year-1 or year-9999 dates: a GeoReport 400, not a 500."""
    for ext in ("json", "xml"):
        reply = await http.get(f"/open311/v2/requests.{ext}?{query}")
        assert reply.status_code == 400, (ext, reply.text)
        assert "2000-2099" in reply.text
