"""Civic duplicates end to end on real Redis: whichever router sees a duplicate first, the
link holds; Open311 and the refusals tell a report's link from the record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from redis.asyncio import Redis

from services.router.engine import Engine
from shared.events import Category, Channel, Grievance
from tests.helpers import eventually
from tests.integration.intake_support import (
    fixture_http,  # noqa: F401  (fixture used by name)
    fixture_intake_app,  # noqa: F401  (fixture used by name)
)
from tests.integration.router_support import (
    KEYS,
    events_of,
    fast_config,
    make_grievance,
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
