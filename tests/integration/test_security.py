"""Security: keys and scopes on every route, the chain of authority, no PII in any log line."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from redis.asyncio import Redis

from services.intake.app import build_app as build_intake
from services.intake.auth import hash_key
from services.router.app import build_app as build_router
from shared import codec
from shared.config import ApiKey, Config, load_config
from shared.settings import IntakeSettings, RouterSettings
from shared.streams import Keys
from tests.chaos.harness import log_only_config
from tests.helpers import eventually
from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration

KEYS = Keys()
ROOT = Path(__file__).resolve().parents[2]
HEALTH = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect"}
# GeoReport v2 reads are public by that standard (Open311 reports only, masked); see
# tests/integration/test_principals.py.
PUBLIC = {
    *(
        ("GET", f"/open311/v2/{path}.{fmt}")
        for fmt in ("json", "xml")
        for path in ("services", "services/{service_code}", "requests", "requests/{request_id}")
    ),
    # The status page and its script hold no data; /console/data needs "read".
    ("GET", "/console"),
    ("GET", "/console/static/{name}"),
}
# The scope each route needs.  A new route fails the test until it is added here.
SCOPES = {
    ("POST", "/v1/grievances"): "submit",
    ("GET", "/v1/grievances"): "read",
    ("GET", "/v1/grievances/{grievance_id}"): "read",
    ("POST", "/v1/grievances/{grievance_id}/actions"): "act",
    ("GET", "/v1/stats"): "read",
    ("GET", "/console/data"): "read",
    ("POST", "/open311/v2/requests.json"): "submit",
    ("POST", "/open311/v2/requests.xml"): "submit",
}
SCOPED_KEYS = {scope: f"zt-only-{scope}" for scope in ("submit", "act", "read")}
# Only app keys submit; the read-only key is an oversight key, so that it passes the
# oversight-only routes (stats, console) too.
HOLDERS = {"submit": "app", "act": "app", "read": "oversight"}
WORKER = {
    "id": "w-pii-1",
    "name": "张伟",
    "phone": "13912345678",
    "industry": "express_delivery",
    "platform": "中通",
    "region": "城东区",
}
SECRETS = ("13912345678", "11010519491231002X", "张伟")
# The name is only in worker.name: free text is not searched for names (see the report).
DESCRIPTION = "我的电话13912345678，身份证11010519491231002X，小区物业不让快递员进"


def _config() -> Config:
    config = load_config(ROOT / "config" / "demo.yaml")
    extra = [
        ApiKey.model_validate(
            {
                "source": f"only-{scope}",
                "key_sha256": hash_key(key),
                "scopes": [scope],
                "holder": HOLDERS[scope],
            }
        )
        for scope, key in SCOPED_KEYS.items()
    ]
    return config.model_copy(update={"api_keys": [*config.api_keys, *extra]})


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """Return (method, path) of every API route, those of included routers too.

    FastAPI ≥ 0.165 keeps an included router as one entry whose routes are its effective
    route contexts; the check that every scoped route is found guards this walk itself.
    """
    found: set[tuple[str, str]] = set()
    for entry in app.routes:
        contexts = getattr(entry, "effective_route_contexts", None)
        routes = list(contexts()) if callable(contexts) else [entry]
        for route in routes:
            if contexts is None and not isinstance(route, APIRoute):
                continue  # Starlette's own docs routes
            path = getattr(route, "path", "")
            if path and path not in HEALTH:
                found.update((method, path) for method in getattr(route, "methods", ()) or ())
    missing = set(SCOPES) - found
    assert not missing, f"route discovery lost routes it must see: {sorted(missing)}"
    return sorted(found)


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-unknown", path)


@pytest.fixture(name="intake")
async def fixture_intake(redis_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Return the in-process intake app with one key per single scope, and a client on it."""
    settings = IntakeSettings(redis_url=redis_url, consumer_name="intake-security")
    app = build_intake(settings, _config())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield app, client


async def test_every_route_is_known_and_needs_a_key(
    intake: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """Every non-health route is either scoped or a named public read; no key → 401/403."""
    app, client = intake
    routes = _routes(app)
    unknown = [r for r in routes if r not in SCOPES and r not in PUBLIC]
    assert not unknown, f"new routes need a scope decision in SCOPES: {unknown}"
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        for headers in ({}, {"Authorization": "Bearer not-a-key"}, {"Authorization": "Basic x"}):
            reply = await client.request(method, _url(path), json={}, headers=headers)
            # GeoReport answers a missing api_key with 403 (its convention); ours with 401.
            expected = {403} if path.startswith("/open311") else {401}
            assert reply.status_code in expected, (method, path, headers, reply.text)
            if reply.status_code == 401:
                assert reply.headers["www-authenticate"].startswith("Bearer")


async def test_every_route_refuses_a_key_without_its_scope(
    intake: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """Each scoped route: a key lacking the scope → 403; the key holding it gets past auth."""
    app, client = intake
    for method, path in _routes(app):
        needed = SCOPES.get((method, path))
        if needed is None:
            continue
        for scope, key in SCOPED_KEYS.items():
            headers = {"Authorization": f"Bearer {key}"}
            reply = await client.request(method, _url(path), json={}, headers=headers)
            if scope == needed:
                assert reply.status_code not in {401, 403}, (method, path, scope, reply.text)
            else:
                assert reply.status_code == 403, (method, path, scope, reply.text)


async def test_action_by_actor_outside_the_chain_is_refused(redis_url: str, redis: Redis) -> None:
    """Outsiders acknowledging: refused at intake (403) or by the router (action.refused).

    A committee key may speak for its other branch and that branch's member, but the router
    refuses them (not in this grievance's chain); another committee, and a worker sending a
    unit action through the app key, never get past intake.
    """
    config = _config()
    common = {"redis_url": redis_url, "reclaim_idle_ms": 1000, "poll_ms": 20}
    apps = [
        build_intake(IntakeSettings(**common, consumer_name="intake-chain"), config),
        build_router(RouterSettings(**common, consumer_name="router-chain"), config),
    ]
    auth = {"Authorization": "Bearer zt-demo-key"}
    committee = {"Authorization": "Bearer zt-demo-committee-key"}
    async with AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=apps[0])
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://intake", headers=auth)
        )
        body = {"worker": WORKER, "description": "进不了小区送件", "category": "road_access"}
        gid = (await client.post("/v1/grievances", json=body)).json()["id"]

        async def view() -> dict[str, Any] | None:
            seen = (await client.get(f"/v1/grievances/{gid}")).json()
            return seen if seen.get("state") == "assigned" else None

        before = await eventually(view)
        forbidden = [
            ({"id": "c-transport", "role": "committee"}, committee),
            ({"id": WORKER["id"], "role": "worker"}, auth),
        ]
        for actor, headers in forbidden:
            reply = await client.post(
                f"/v1/grievances/{gid}/actions",
                json={"type": "acknowledge", "actor": actor},
                headers=headers,
            )
            assert reply.status_code == 403, reply.text
        outsiders = [{"id": "b-express-west", "role": "branch"}, {"id": "m-zhao", "role": "member"}]
        action_ids = []
        for actor in outsiders:
            reply = await client.post(
                f"/v1/grievances/{gid}/actions",
                json={"type": "acknowledge", "actor": actor},
                headers=committee,
            )
            assert reply.status_code == 202, reply.text
            action_ids.append(reply.json()["action_id"])

        async def refusals() -> list[dict[str, Any]]:
            timeline = (await client.get(f"/v1/grievances/{gid}")).json()["timeline"]
            found = [e for e in timeline if e["type"] == "action.refused"]
            return found if len(found) == len(outsiders) else []

        refused = await eventually(refusals)
        after = (await client.get(f"/v1/grievances/{gid}")).json()
    assert {e["actor"]["id"] for e in refused} == {a["id"] for a in outsiders}
    assert all(e["reason"] for e in refused)
    assert after["state"] == before["state"] == "assigned"
    assert after["assignee"] == before["assignee"]
    handled = {a.decode() for a in await redis.smembers(KEYS.applied_actions(gid))}
    assert handled == set(action_ids)


async def test_no_log_line_holds_the_workers_name_phone_or_id_number(
    redis_url: str, redis: Redis, tmp_path: Path
) -> None:
    """Submit, act, reject, notify with a worker's PII: no service log line holds any of it."""
    config = log_only_config(tmp_path / "config.yaml")
    procs = [
        ServiceProcess(
            name,
            redis_url,
            config,
            tmp_path,
            consumer=f"{name}-pii",
            env={"ZHITONG_RECLAIM_IDLE_MS": "1000", "ZHITONG_POLL_MS": "20"},
        )
        for name in ("intake", "router", "notifier")
    ]
    try:
        for proc in procs:
            proc.start()
        base = f"http://127.0.0.1:{procs[0].port}"
        auth = {"Authorization": "Bearer zt-demo-key"}
        async with httpx.AsyncClient(base_url=base, headers=auth) as client:
            body = {"worker": WORKER, "description": DESCRIPTION, "title": "电话13912345678"}
            gid = (await client.post("/v1/grievances", json=body)).json()["id"]
            stream_body = {**body, "source": "kiosk-pii"}
            await redis.xadd(KEYS.intake, codec.fields(stream_body))
            bad = {**stream_body, "worker": {**WORKER, "industry": "张伟 13912345678"}}
            await redis.xadd(KEYS.intake, codec.fields(bad))
            await redis.xadd(KEYS.intake, {"payload": "张伟 13912345678 11010519491231002X"})
            note = {
                "type": "add_note",
                "actor": {"id": WORKER["id"], "role": "worker"},
                "note": DESCRIPTION,
            }
            await client.post(f"/v1/grievances/{gid}/actions", json=note)
            refused = {"type": "acknowledge", "actor": {"id": "m-13912345678", "role": "member"}}
            await client.post(f"/v1/grievances/{gid}/actions", json=refused)
            await client.post("/v1/grievances", json={**body, "urgency": "张伟 13912345678"})
            await client.get(f"/v1/grievances/{gid}")

            async def delivered() -> bool:
                entries = await redis.xrange(KEYS.deliveries)
                records = [json.loads(f[b"payload"]) for _, f in entries]
                sent = [r for r in records if r["status"] == "sent"]
                rejected = await redis.xlen(KEYS.intake_rejected)
                return len(sent) >= 4 and rejected == 2

            await eventually(delivered, timeout=20)
    finally:
        for proc in procs:
            proc.kill()
    lines = [
        line
        for proc in procs
        for line in (tmp_path / f"{proc.consumer}.log")
        .read_text(encoding="utf-8", errors="replace")
        .splitlines()
    ]
    assert any(gid in line for line in lines), "the scan must cover the scenario's log lines"
    leaks = [line for line in lines if any(secret in line for secret in SECRETS)]
    assert not leaks, "\n".join(leaks[:10])
