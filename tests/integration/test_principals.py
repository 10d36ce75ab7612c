"""Who may do what, over HTTP on a real Redis: issue 11's attacks, each refused.

App B may not read or act on app A's grievances, an app key never acts as a unit, a unit
key acts only as itself or a unit below it, roles agree with the directory, the service-wide
numbers are for oversight only, and the key-less Open311 view shows only public reports,
masked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from services.intake.app import build_app
from services.intake.auth import hash_key
from shared.config import ApiKey, Config, load_config
from shared.streams import Keys
from tests.conftest import ROOT
from tests.helpers import eventually
from tests.integration.intake_support import (
    AUTH,
    BRANCH_AUTH,
    COMMITTEE_AUTH,
    FALLBACK_AUTH,
    MEMBER_AUTH,
    OVERSIGHT_AUTH,
    grievance_body,
    intake_settings,
)
from tests.integration.router_support import fast_config, running_router

pytestmark = pytest.mark.integration

KEYS = Keys()
OTHER_KEY = "zt-other-app-key"
OTHER_AUTH = {"Authorization": f"Bearer {OTHER_KEY}"}
PHONE = "13912345678"


def with_other_app(config: Config) -> Config:
    """Return ``config`` plus a second app key (source ``other-app``)."""
    other = ApiKey(
        source="other-app", key_sha256=hash_key(OTHER_KEY), scopes=["submit", "act", "read"]
    )
    return config.model_copy(update={"api_keys": [*config.api_keys, other]})


@pytest.fixture(name="stack")
async def fixture_stack(redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Return a client on an in-process intake with a router behind it (two app keys)."""
    config = with_other_app(fast_config(ack=60, resolve=600))
    app = build_app(intake_settings(redis_url, ROOT / "config" / "demo.yaml"), config)
    async with running_router(redis_url, config), app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield client


async def assigned(client: httpx.AsyncClient, gid: str) -> dict[str, Any]:
    """Return the grievance once the router has assigned it (read with the oversight key)."""

    async def probe() -> dict[str, Any] | None:
        view = (await client.get(f"/v1/grievances/{gid}", headers=OVERSIGHT_AUTH)).json()
        return view if view.get("state") == "assigned" else None

    return await eventually(probe)


async def act(
    client: httpx.AsyncClient, gid: str, headers: dict[str, str], kind: str, **actor: str
) -> httpx.Response:
    """Return the reply to one action posted with ``headers``."""
    body: dict[str, Any] = {"type": kind, "actor": actor}
    if kind == "feedback":
        body["rating"] = 5
    if kind == "resolve":
        body["resolution"] = "已解决"
    return await client.post(f"/v1/grievances/{gid}/actions", json=body, headers=headers)


async def test_app_b_can_neither_read_nor_act_on_app_a_grievance(
    stack: httpx.AsyncClient, redis: Redis
) -> None:
    """App B reading, withdrawing as or rating as app A's worker: the 404 of an unknown id."""
    gid = (await stack.post("/v1/grievances", json=grievance_body(), headers=AUTH)).json()["id"]
    await assigned(stack, gid)
    unknown = await stack.get("/v1/grievances/01UNKNOWN", headers=OTHER_AUTH)
    foreign = await stack.get(f"/v1/grievances/{gid}", headers=OTHER_AUTH)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["detail"].replace(gid, "01UNKNOWN") == unknown.json()["detail"]
    queued = await redis.xlen(KEYS.actions)
    for kind in ("withdraw", "feedback", "worker_reply"):
        reply = await act(stack, gid, OTHER_AUTH, kind, id="w-1001", role="worker")
        assert reply.status_code == 404, reply.text
    assert await redis.xlen(KEYS.actions) == queued
    # The app that filed it may act as its worker, and only as that worker.
    mine = await act(stack, gid, AUTH, "add_note", id="w-1001", role="worker")
    assert mine.status_code == 202, mine.text
    other_worker = await act(stack, gid, AUTH, "withdraw", id="w-9999", role="worker")
    assert other_worker.status_code == 403
    assert "not the worker" in other_worker.json()["detail"]


async def test_an_app_key_never_acts_as_a_unit(stack: httpx.AsyncClient, redis: Redis) -> None:
    """resolve as the committee, acknowledge as the assignee with the app key: 403, not queued."""
    gid = (await stack.post("/v1/grievances", json=grievance_body(), headers=AUTH)).json()["id"]
    view = await assigned(stack, gid)
    queued = await redis.xlen(KEYS.actions)
    for kind, actor in (
        ("resolve", {"id": "c-express", "role": "committee"}),
        ("acknowledge", {"id": view["assignee"]["id"], "role": "member"}),
        ("acknowledge", {"id": "w-1001", "role": "worker"}),
    ):
        reply = await act(stack, gid, AUTH, kind, **actor)
        assert reply.status_code == 403, reply.text
        assert "nothing was applied" in reply.json()["detail"]
    assert await redis.xlen(KEYS.actions) == queued
    after = (await stack.get(f"/v1/grievances/{gid}", headers=AUTH)).json()
    assert after["state"] == "assigned"


async def test_roles_must_agree_with_the_directory(stack: httpx.AsyncClient) -> None:
    """The assignee claiming to be a worker, a member claiming a committee role: 403."""
    gid = (await stack.post("/v1/grievances", json=grievance_body(), headers=AUTH)).json()["id"]
    view = await assigned(stack, gid)
    assignee = view["assignee"]["id"]
    branch_key = await act(stack, gid, BRANCH_AUTH, "acknowledge", id=assignee, role="worker")
    assert branch_key.status_code == 403
    assert "not a worker" in branch_key.json()["detail"]
    wrong = await act(stack, gid, COMMITTEE_AUTH, "acknowledge", id=assignee, role="committee")
    assert wrong.status_code == 403
    assert "not a committee" in wrong.json()["detail"]


async def test_unit_keys_act_as_their_unit_or_below_and_read_their_subtree(
    stack: httpx.AsyncClient,
) -> None:
    """m-wang's key may not speak as its committee; the branch key acknowledges as m-wang."""
    body = grievance_body(worker={**grievance_body()["worker"], "id": "w-unit"})
    gid = (await stack.post("/v1/grievances", json=body, headers=AUTH)).json()["id"]
    view = await assigned(stack, gid)
    assert view["chain"][1]["unit"] == "b-zto-east"
    for headers in (BRANCH_AUTH, COMMITTEE_AUTH, OVERSIGHT_AUTH):
        assert (await stack.get(f"/v1/grievances/{gid}", headers=headers)).status_code == 200
    assert (await stack.get(f"/v1/grievances/{gid}", headers=FALLBACK_AUTH)).status_code == 404
    upward = await act(stack, gid, MEMBER_AUTH, "resolve", id="c-express", role="committee")
    assert upward.status_code == 403
    assert "or a unit below it" in upward.json()["detail"]
    oversight = await act(stack, gid, OVERSIGHT_AUTH, "resolve", id="c-express", role="committee")
    assert oversight.status_code == 403
    reply = await act(
        stack, gid, BRANCH_AUTH, "acknowledge", id=view["assignee"]["id"], role="member"
    )
    assert reply.status_code == 202, reply.text

    async def acknowledged() -> bool:
        seen = (await stack.get(f"/v1/grievances/{gid}", headers=BRANCH_AUTH)).json()
        return seen["state"] == "acknowledged"

    await eventually(acknowledged)


async def test_stats_and_console_data_are_for_oversight_only(stack: httpx.AsyncClient) -> None:
    """App and unit keys get 403 on the service-wide numbers; the oversight key reads them."""
    await stack.post("/v1/grievances", json=grievance_body(), headers=AUTH)
    for path in ("/v1/stats", "/console/data"):
        for headers in (AUTH, OTHER_AUTH, MEMBER_AUTH, COMMITTEE_AUTH):
            reply = await stack.get(path, headers=headers)
            assert reply.status_code == 403, (path, headers)
            assert "oversight" in reply.json()["detail"]
        assert (await stack.get(path, headers=OVERSIGHT_AUTH)).status_code == 200


def open311_form(**overrides: str) -> dict[str, str]:
    """Return a GeoReport report of a broken street light, with the reporter's phone in it."""
    form = {
        "api_key": "zt-demo-key",
        "service_code": "public_facility",
        "lat": "36.0611234",
        "long": "103.8343456",
        "address_string": "解放路12号",
        "description": f"路灯坏了，联系我{PHONE}",
        "first_name": "李",
        "phone": PHONE,
    }
    form.update(overrides)
    return form


async def test_open311_shows_only_open311_reports_never_http_or_anonymous_ones(
    stack: httpx.AsyncClient,
) -> None:
    """HTTP-filed (civic or not, anonymous or not) ids answer Open311 as unknown ids do."""
    unknown = await stack.get("/open311/v2/requests/01UNKNOWN.json")
    civic = grievance_body(category="public_facility", location={"lat": 30.1, "lon": 120.1})
    for body in (grievance_body(), civic, {**civic, "anonymous": True}):
        filed = (await stack.post("/v1/grievances", json=body, headers=AUTH)).json()
        for ref in (filed["id"], filed["tracking_no"]):
            reply = await stack.get(f"/open311/v2/requests/{ref}.json")
            assert reply.status_code == unknown.status_code == 404
            assert (
                reply.json()[0]["description"].replace(ref, "01UNKNOWN")
                == (unknown.json()[0]["description"])
            )


async def test_open311_view_is_masked_rounded_and_in_plain_words(
    stack: httpx.AsyncClient,
) -> None:
    """The public view masks numbers, rounds to ~100 m, names a unit, hides internal notes."""
    filed = await stack.post("/open311/v2/requests.json", data=open311_form())
    request_id = filed.json()[0]["service_request_id"]
    await assigned(stack, request_id)
    refused = await act(
        stack, request_id, FALLBACK_AUTH, "request_info", id="u-liangxin", role="member"
    )
    assert refused.status_code == 202

    async def refusal_recorded() -> bool:
        view = (await stack.get(f"/v1/grievances/{request_id}", headers=AUTH)).json()
        return view["timeline"][-1]["type"] == "action.refused"

    await eventually(refusal_recorded)
    reply = await stack.get(f"/open311/v2/requests/{request_id}.json")
    view = reply.json()[0]
    assert PHONE not in reply.text
    assert "李" not in reply.text
    assert "[redacted]" in view["description"]
    assert (view["lat"], view["long"]) == (36.061, 103.834)
    assert view["status_notes"] == "已转交承办单位 Passed to the responsible unit"
    assert "acknowledge" not in reply.text
    assert view["agency_responsible"] == "两新工委值班室"


# --- the property: no key changes a grievance it may not act on ---------------------------

KEY_AUTH = {
    "demo-app": AUTH,
    "other-app": OTHER_AUTH,
    "m-wang": MEMBER_AUTH,
    "b-zto-east": BRANCH_AUTH,
    "c-express": COMMITTEE_AUTH,
    "u-liangxin": FALLBACK_AUTH,
    "oversight": OVERSIGHT_AUTH,
}
SUBTREE = {
    "m-wang": {"m-wang"},
    "b-zto-east": {"b-zto-east", "m-wang", "m-li"},
    "c-express": {"c-express", "b-zto-east", "m-wang", "m-li", "b-express-west", "m-zhao"},
    "u-liangxin": {"u-liangxin"},
}
ROLES = {
    "m-wang": "member",
    "m-li": "member",
    "m-zhao": "member",
    "b-zto-east": "branch",
    "b-express-west": "branch",
    "c-express": "committee",
    "c-transport": "committee",
    "m-truck-chen": "member",
    "u-oversight": "oversight",
}
# (app, worker, chain) of each grievance the property acts on; the chain is written as the
# router's assign step would, so that unit keys have something to read.
GRIEVANCES = {
    "a-own": ("demo-app", "w-a", ("m-wang", "b-zto-east", "c-express")),
    "a-far": ("demo-app", "w-b", ("m-truck-chen", "b-drivers-home", "c-transport")),
    "b-west": ("other-app", "w-c", ("m-zhao", "b-express-west", "c-express")),
}
WORKER_KINDS = {"feedback", "withdraw", "worker_reply", "add_note"}
ACTIONS = [
    "acknowledge",
    "resolve",
    "escalate",
    "add_note",
    "feedback",
    "withdraw",
    "worker_reply",
    "extend",
]


def may_act(key: str, grievance: str, kind: str, actor_id: str, role: str) -> bool:
    """Return SPEC §3's answer for one attempt, written out independently of the policy."""
    if grievance not in GRIEVANCES:
        return False
    app, worker, chain = GRIEVANCES[grievance]
    if key in {"demo-app", "other-app"}:
        return key == app and role == "worker" and actor_id == worker and kind in WORKER_KINDS
    if key == "oversight":
        return actor_id == "u-oversight" and role == "oversight"
    subtree = SUBTREE[key]
    role_ok = ROLES.get(actor_id) == role or (actor_id == "u-liangxin" and role != "worker")
    return (
        actor_id in subtree
        and role_ok
        and bool(subtree & set(chain))
        and role in {"member", "branch", "committee"}
    )


@pytest.fixture(name="sync_stack")
def fixture_sync_stack(redis_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Return a client on intake with three filed, routed grievances, and their ids."""
    config = with_other_app(load_config(ROOT / "config" / "demo.yaml"))
    settings_ = intake_settings(redis_url, ROOT / "config" / "demo.yaml")
    app: FastAPI = build_app(settings_, config)
    redis = SyncRedis.from_url(redis_url)
    ids: dict[str, str] = {"unknown": "01NOSUCHGRIEVANCE"}
    with TestClient(app) as client:
        for name, (app_name, worker, chain) in GRIEVANCES.items():
            body = grievance_body(worker={"id": worker, "industry": "express_delivery"})
            reply = client.post("/v1/grievances", json=body, headers=KEY_AUTH[app_name])
            gid = reply.json()["id"]
            links = {f"c{t}u": unit for t, unit in enumerate(chain, start=1)}
            redis.hset(
                KEYS.grievance(gid),
                mapping={**links, "assignee": chain[0], "tier": "1", "state": "assigned"},
            )
            ids[name] = gid
        yield client, ids
    redis.close()


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    attempt=st.tuples(
        st.sampled_from(sorted(KEY_AUTH)),
        st.sampled_from([*GRIEVANCES, "unknown"]),
        st.sampled_from(ACTIONS),
        st.sampled_from([*ROLES, "u-liangxin", "w-a", "w-b", "w-c", "d-hrss"]),
        st.sampled_from(
            ["worker", "member", "branch", "committee", "department", "oversight", "system"]
        ),
    )
)
def test_no_key_can_change_a_grievance_it_may_not_act_on(
    sync_stack: tuple[TestClient, dict[str, str]],
    redis_url: str,
    attempt: tuple[str, str, str, str, str],
) -> None:
    """Any key, grievance, action and actor: queued (202) exactly when SPEC §3 allows it."""
    client, ids = sync_stack
    key, grievance, kind, actor_id, role = attempt
    redis = SyncRedis.from_url(redis_url)
    gid = ids[grievance]
    before = (redis.xlen(KEYS.actions), redis.hgetall(KEYS.grievance(gid)))
    body: dict[str, Any] = {"type": kind, "actor": {"id": actor_id, "role": role}}
    reply = client.post(f"/v1/grievances/{gid}/actions", json=body, headers=KEY_AUTH[key])
    allowed = may_act(key, grievance, kind, actor_id, role)
    assert (reply.status_code == 202) == allowed, (attempt, reply.text)
    if not allowed:
        assert reply.status_code in {403, 404}
        assert (redis.xlen(KEYS.actions), redis.hgetall(KEYS.grievance(gid))) == before
    redis.close()
