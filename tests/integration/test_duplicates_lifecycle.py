"""Civic duplicates end to end on real Redis: whichever router sees a duplicate first, the
link holds; Open311 and the refusals tell a report's link from the record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from redis.asyncio import Redis

from services.router.engine import Engine
from shared.events import Category, Channel, Grievance
from tests.helpers import eventually
from tests.integration.intake_support import (
    AUTH,
    OVERSIGHT_AUTH,
    fixture_http,  # noqa: F401  (fixture used by name)
    fixture_intake_app,  # noqa: F401  (fixture used by name)
    grievance_body,
)
from tests.integration.router_support import (
    KEYS,
    act,
    events_of,
    fast_config,
    make_grievance,
    running_router,
    state_of,
    submit,
)
from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration

CONFIG = fast_config(ack=3600, resolve=7200)


def _report(duplicate_of: str | None = None, **worker: Any) -> Grievance:
    """Return a public civic report (Open311, a broken pipe); a duplicate names its original."""
    report = make_grievance(**worker)
    report.category = Category.PUBLIC_FACILITY
    report.channel = Channel.OPEN311
    report.duplicate_of = duplicate_of
    return report


async def _types(redis: Redis, gid: str) -> list[str]:
    return [e["type"] for e in await events_of(redis, gid)]


# --- the order of original and duplicate, whoever routes first ---


async def test_a_duplicate_routed_before_its_original_routes_the_original_first(
    redis: Redis,
) -> None:
    """The original still ``submitted``: one commit assigns it and links the duplicate; the
    original's own entry then changes nothing."""
    engine = Engine(redis, KEYS, CONFIG)
    original, duplicate = _report(), _report(id="w-3003")
    duplicate.duplicate_of = original.id
    await submit(redis, original)
    await submit(redis, duplicate)
    (outcome,) = await engine.assign([duplicate])
    assert (outcome.status, outcome.detail[1]) == ("linked", original.id)
    assert (await engine.assign([original]))[0].status == "skip"
    assert await _types(redis, original.id) == [
        "grievance.assigned",
        "grievance.duplicate_linked",
    ]
    assert await _types(redis, duplicate.id) == ["grievance.duplicate_linked"]
    linked = await state_of(redis, duplicate.id)
    routed = await state_of(redis, original.id)
    assert (linked["duplicate_of"], linked["original_tracking_no"]) == (
        original.id,
        original.tracking_no,
    )
    assert (linked["tier"], linked["assignee"]) == (routed["tier"], routed["assignee"])
    assert await redis.smembers(KEYS.duplicates(original.id)) == {duplicate.id.encode()}


@pytest.mark.parametrize("duplicates_first", [False, True])
async def test_original_and_duplicates_in_one_batch_link_in_either_order(
    redis: Redis, duplicates_first: bool
) -> None:
    """One batch holding the original and two duplicates: one assignment, two links."""
    engine = Engine(redis, KEYS, CONFIG)
    original = _report()
    duplicates = [_report(original.id, id=f"w-30{n}") for n in range(2)]
    for report in (original, *duplicates):
        await submit(redis, report)
    batch = [*duplicates, original] if duplicates_first else [original, *duplicates]
    outcomes = {g.id: o.status for g, o in zip(batch, await engine.assign(batch), strict=True)}
    linked = {d.id for d in duplicates}
    assert outcomes == {original.id: "assigned", **dict.fromkeys(linked, "linked")}
    assert (await _types(redis, original.id)).count("grievance.assigned") == 1
    members = await redis.smembers(KEYS.duplicates(original.id))
    assert {m.decode() for m in members} == linked


@pytest.fixture(name="routers")
def fixture_routers(redis_url: str, tmp_path: Path) -> Iterator[list[ServiceProcess]]:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(CONFIG.model_dump(mode="json"), allow_unicode=True))
    procs = [
        ServiceProcess("router", redis_url, path, tmp_path, consumer=f"router-{i}")
        for i in range(3)
    ]
    yield procs
    for proc in procs:
        proc.kill()


async def test_three_routers_link_every_duplicate_whichever_comes_first(
    redis: Redis, routers: list[ServiceProcess]
) -> None:
    """60 originals, each followed at once by two duplicates, over three router replicas:
    every original is assigned once and every duplicate linked to it, none routed alone."""
    for router in routers:
        router.start()
    families: dict[str, list[str]] = {}
    for n in range(60):
        original = _report()
        duplicates = [_report(original.id, id=f"w-{n}-{k}") for k in range(2)]
        for report in (original, *duplicates):
            await submit(redis, report)
        families[original.id] = [d.id for d in duplicates]
    everyone = [gid for original, dups in families.items() for gid in (original, *dups)]

    async def all_routed() -> bool:
        async with redis.pipeline(transaction=False) as pipe:
            for gid in everyone:
                pipe.hget(KEYS.grievance(gid), "state")
            states = await pipe.execute()
        return all(state == b"assigned" for state in states)

    await eventually(all_routed, timeout=30, interval=0.1)
    for original, duplicates in families.items():
        assert (await _types(redis, original)).count("grievance.assigned") == 1
        members = await redis.smembers(KEYS.duplicates(original))
        assert {m.decode() for m in members} == set(duplicates)
        for duplicate in duplicates:
            assert await _types(redis, duplicate) == ["grievance.duplicate_linked"]
            assert (await state_of(redis, duplicate))["duplicate_of"] == original


# --- what a duplicate reads, from its record: linked, promoted, ended ---


async def _open311(http: httpx.AsyncClient, gid: str) -> dict[str, Any]:
    response = await http.get(f"/open311/v2/requests/{gid}.json")
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()[0]
    return view


async def _linked_pair(redis: Redis) -> tuple[Grievance, Grievance]:
    """Return a public original (城东, 中通 → b-zto-east) and a public duplicate filed from
    城西 (its own chain would be b-express-west), linked."""
    original = _report()
    duplicate = _report(id="w-3003", region="城西区", platform="美团")
    duplicate.duplicate_of = original.id
    await submit(redis, original)
    await submit(redis, duplicate)

    async def linked() -> bool:
        return (await state_of(redis, duplicate.id)).get("duplicate_of") == original.id

    await eventually(linked)
    return original, duplicate


async def test_a_linked_duplicate_on_open311_follows_its_original_as_it_escalates(
    http: httpx.AsyncClient, redis_url: str, redis: Redis
) -> None:
    """Linked: the original's unit is responsible, also after it escalated to the committee."""
    async with running_router(redis_url, CONFIG):
        original, duplicate = await _linked_pair(redis)
        view = await _open311(http, duplicate.id)
        assert (view["status"], view["duplicate_of"]) == ("open", original.id)
        assert view["agency_responsible"] == "城东快递网点联合党支部"
        assert "already being handled" in view["service_notice"]
        committee = {"id": "c-express", "role": "committee"}
        for _ in range(2):
            await act(redis, original.id, type="escalate", actor=committee, reason="需协调")

        async def at_the_committee() -> dict[str, Any] | None:
            seen = await _open311(http, duplicate.id)
            return seen if seen["agency_responsible"] == "区快递行业党委" else None

        view = await eventually(at_the_committee)
        assert view["expected_datetime"] == (await _open311(http, original.id))["expected_datetime"]


async def test_a_linked_duplicates_read_model_follows_its_original(
    http: httpx.AsyncClient, redis_url: str, redis: Redis
) -> None:
    """GET shows a linked duplicate where its original's work stands (tier, assignee,
    deadline), not the copy taken when it was linked."""
    async with running_router(redis_url, CONFIG):
        original, duplicate = await _linked_pair(redis)
        committee = {"id": "c-express", "role": "committee"}
        for _ in range(2):
            await act(redis, original.id, type="escalate", actor=committee, reason="需协调")

        async def at_tier_3() -> dict[str, Any] | None:
            reply = await http.get(f"/v1/grievances/{original.id}", headers=OVERSIGHT_AUTH)
            seen: dict[str, Any] = reply.json()
            return seen if seen["tier"] == 3 else None

        first = await eventually(at_tier_3)
        reply = await http.get(f"/v1/grievances/{duplicate.id}", headers=OVERSIGHT_AUTH)
    assert reply.status_code == 200, reply.text
    view = reply.json()
    assert (await state_of(redis, duplicate.id))["tier"] == "1"  # the stale copy
    assert view["duplicate_of"] == original.id
    assert (view["tier"], view["assignee"]["id"]) == (3, "c-express")
    assert view["assignee"] == first["assignee"]
    assert view["ack_due_at"] == first["ack_due_at"]
    assert view["state"] == first["state"]


async def test_a_promoted_duplicate_reads_open_with_its_own_unit(
    http: httpx.AsyncClient, redis_url: str, redis: Redis
) -> None:
    """Original withdrawn: the duplicate is routed on its own and Open311 says open, its own
    unit, no link — not the original's withdrawal."""
    async with running_router(redis_url, CONFIG):
        original, duplicate = await _linked_pair(redis)
        await act(redis, original.id, type="withdraw", actor={"id": "w-1001", "role": "worker"})

        async def promoted() -> dict[str, str] | None:
            record = await state_of(redis, duplicate.id)
            return record if record.get("promoted_from") == original.id else None

        record = await eventually(promoted)
    assert (record["state"], record["duplicate_of"], record["c1u"]) == ("assigned", "", "m-zhao")
    view = await _open311(http, duplicate.id)
    assert view["status"] == "open"
    assert view["status_notes"].startswith("已转交承办单位")
    assert view["agency_responsible"] == "城西快递驿站党支部"
    assert "duplicate_of" not in view
    assert "already being handled" not in view["service_notice"]
    assert (await _open311(http, original.id))["status"] == "closed"


async def test_a_duplicate_closed_with_its_original_reads_the_resolution(
    http: httpx.AsyncClient, redis_url: str, redis: Redis
) -> None:
    """Resolving the original closes the duplicate with the same resolution; it stays linked."""
    async with running_router(redis_url, CONFIG):
        original, duplicate = await _linked_pair(redis)
        assignee = (await state_of(redis, original.id))["assignee"]
        actor = {"id": assignee, "role": "member"}
        await act(redis, original.id, type="resolve", actor=actor, resolution="水管已修复")

        async def closed() -> dict[str, Any] | None:
            seen = await _open311(http, duplicate.id)
            return seen if seen["status"] == "closed" else None

        view = await eventually(closed)
    assert view["status_notes"] == "已办结 Closed：水管已修复"
    assert view["duplicate_of"] == original.id


async def test_acting_on_a_linked_duplicate_is_refused_with_the_original_to_act_on(
    redis_url: str, redis: Redis
) -> None:
    """The assignee shown on the duplicate (the original's) is told to act on the original."""
    async with running_router(redis_url, CONFIG):
        original, duplicate = await _linked_pair(redis)
        assignee = (await state_of(redis, duplicate.id))["assignee"]
        await act(redis, duplicate.id, type="acknowledge", actor={"id": assignee, "role": "member"})

        async def refused() -> list[dict[str, Any]]:
            events = await events_of(redis, duplicate.id)
            return [e for e in events if e["type"] == "action.refused"]

        (refusal,) = await eventually(refused)
    assert refusal["reason"] == (
        f"this report is linked to {original.tracking_no} as a duplicate; act on that one"
    )
    assert refusal["data"]["refusal_kind"] == "not_now"


async def test_a_civic_duplicates_reply_names_the_link_apart_from_a_replay(
    http: httpx.AsyncClient,
) -> None:
    """202 of a civic duplicate: ``linked_to`` (and its alias), ``replayed`` false; its
    repeat (200): ``replayed`` true, the same link."""
    place = {"lat": 36.0611, "lon": 103.8343}
    body = grievance_body(category="public_facility", description="水管漏水", location=place)
    first = await http.post("/v1/grievances", json=body, headers=AUTH)
    original = first.json()["id"]
    near = {**body, "location": {**place, "lat": place["lat"] + 0.0001}}
    headers = {**AUTH, "Idempotency-Key": "pipe-2"}
    filed = await http.post("/v1/grievances", json=near, headers=headers)
    again = await http.post("/v1/grievances", json=near, headers=headers)
    assert filed.status_code == 202
    assert {k: filed.json()[k] for k in ("replayed", "linked_to", "duplicate_of")} == {
        "replayed": False,
        "linked_to": original,
        "duplicate_of": original,
    }
    assert "duplicate" not in filed.json()
    assert again.status_code == 200
    assert (again.json()["replayed"], again.json()["linked_to"]) == (True, original)
    assert again.json()["id"] == filed.json()["id"]
