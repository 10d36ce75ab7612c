"""``GET /v1/grievances`` on real Redis: filters, paging, who sees what, CSV, errors."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from services.intake.principals import Holder, Policy, Principal, Tenancy
from services.router.engine import Engine
from shared.events import Category, Grievance, Urgency
from tests.integration.intake_support import (
    AUTH,
    BRANCH_AUTH,
    COMMITTEE_AUTH,
    FALLBACK_AUTH,
    MEMBER_AUTH,
    OVERSIGHT_AUTH,
    fixture_http,  # noqa: F401  (fixture used by name)
    fixture_intake_app,  # noqa: F401  (fixture used by name)
)
from tests.integration.router_support import KEYS, fast_config, make_grievance, state_of, submit

pytestmark = pytest.mark.integration

CONFIG = fast_config(ack=3600, resolve=7200)
EAST = {"industry": "express_delivery", "platform": "中通", "region": "城东区"}
# Each grievance: its source, worker and classification; routed by the demo directory.
SCENARIO: dict[str, dict[str, Any]] = {
    "east-1": {"source": "demo-app", "worker": {"id": "w-1", **EAST}, "category": "wages"},
    "east-2": {"source": "demo-app", "worker": {"id": "w-2", **EAST}, "urgency": "high"},
    "west": {
        "source": "demo-app",
        "worker": {"id": "w-1", "industry": "express_delivery", "region": "城西区"},
        "needs_review": True,
    },
    "truck": {
        "source": "demo-app",
        "worker": {"id": "w-3", "industry": "trucking", "station": "接驾嘴服务区"},
        "category": "insurance_claim",
    },
    "nowhere": {"source": "demo-app", "worker": {"id": "w-4", "industry": "other"}},
    "other-app": {"source": "other-app", "worker": {"id": "w-1", **EAST}, "category": "wages"},
}


def scenario_grievance(name: str, at: datetime) -> Grievance:
    spec = SCENARIO[name]
    grievance = make_grievance(**spec["worker"])
    return grievance.model_copy(
        update={
            "source": spec["source"],
            "submitted_at": at,
            "category": Category(spec.get("category", "road_access")),
            "urgency": Urgency(spec.get("urgency", "normal")),
            "needs_review": spec.get("needs_review", False),
        }
    )


@pytest.fixture(name="stored")
async def fixture_stored(redis: Redis, intake_app: FastAPI) -> dict[str, str]:
    """Store and route the scenario (one minute apart, "east-1" oldest); return name → id."""
    start = datetime(2025, 11, 24, 8, 0, tzinfo=UTC)
    grievances = {
        name: scenario_grievance(name, start + timedelta(minutes=n))
        for n, name in enumerate(SCENARIO)
    }
    for grievance in grievances.values():
        await submit(redis, grievance)
    await Engine(redis, KEYS, CONFIG).assign(list(grievances.values()))
    return {name: g.id for name, g in grievances.items()}


async def every_page(
    http: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Return every item of a list, following ``next_cursor`` to the end."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        reply = await http.get("/v1/grievances", params=query, headers=headers)
        assert reply.status_code == 200, reply.text
        page = reply.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def ids_of(http: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    return [item["id"] for item in await every_page(http, headers, **params)]


async def test_filters_narrow_the_list_newest_first(
    http: httpx.AsyncClient, stored: dict[str, str], redis: Redis
) -> None:
    """Each filter gives exactly the grievances it names, newest first."""
    everything = await ids_of(http, OVERSIGHT_AUTH)
    assert everything == [stored[name] for name in reversed(SCENARIO)]

    async def names(**params: Any) -> set[str]:
        found = await ids_of(http, OVERSIGHT_AUTH, **params)
        assert len(found) == len(set(found))
        by_id = {gid: name for name, gid in stored.items()}
        return {by_id[gid] for gid in found}

    east_member = (await state_of(redis, stored["east-1"]))["assignee"]
    assert await names(category="wages") == {"east-1", "other-app"}
    assert await names(urgency="high") == {"east-2"}
    assert await names(needs_review="true") == {"west"}
    assert await names(needs_review="false") == set(SCENARIO) - {"west"}
    assert await names(worker_id="w-1") == {"east-1", "west", "other-app"}
    assert await names(worker_id="w-1", source="other-app") == {"other-app"}
    assert await names(source="demo-app") == set(SCENARIO) - {"other-app"}
    assert await names(unit="b-zto-east") == {"east-1", "east-2", "other-app"}
    assert await names(unit="c-express") == {"east-1", "east-2", "west", "other-app"}
    assert "east-1" in await names(unit=east_member)
    assert await names(unit="u-liangxin") == {"nowhere"}
    assert await names(state="assigned") == set(SCENARIO)
    assert await names(state="closed") == set()
    assert await names(overdue="true") == set()
    assert await names(since="2025-11-24T08:02:00Z", until="2025-11-24T08:04:00Z") == {
        "west",
        "truck",
    }
    assert await names(since="2025-11-24T16:02:00+08:00", category="insurance_claim") == {"truck"}


async def test_every_key_sees_exactly_what_it_may_read(
    http: httpx.AsyncClient, stored: dict[str, str], redis: Redis
) -> None:
    """An app never lists another app's, a member never a sibling's; the policy decides all."""
    policy = Policy.of(CONFIG)
    records = {gid: await state_of(redis, gid) for gid in stored.values()}
    east = {records[stored[n]]["assignee"] for n in ("east-1", "east-2")}
    assert east == {"m-wang", "m-li"}  # round robin: siblings hold one each
    keys = {
        "demo-app": (AUTH, Principal("demo-app", frozenset({"read"}))),
        "m-wang": (MEMBER_AUTH, Principal("m", frozenset({"read"}), Holder.UNIT, "m-wang")),
        "b-zto-east": (BRANCH_AUTH, Principal("b", frozenset(), Holder.UNIT, "b-zto-east")),
        "c-express": (COMMITTEE_AUTH, Principal("c", frozenset(), Holder.UNIT, "c-express")),
        "u-liangxin": (FALLBACK_AUTH, Principal("f", frozenset(), Holder.UNIT, "u-liangxin")),
        "oversight": (OVERSIGHT_AUTH, Principal("o", frozenset(), Holder.OVERSIGHT)),
    }
    for name, (headers, principal) in keys.items():
        may = {g for g, f in records.items() if policy.may_read(principal, Tenancy.of_fields(f))}
        listed = await ids_of(http, headers, limit=2)
        assert set(listed) == may, name
        assert len(listed) == len(may), name
    assert stored["other-app"] not in await ids_of(http, AUTH)
    wang = set(await ids_of(http, MEMBER_AUTH))
    assert {gid for gid, f in records.items() if f["assignee"] == "m-li"}.isdisjoint(wang)
    assert wang == {gid for gid, f in records.items() if f["assignee"] == "m-wang"}


async def test_a_scope_beyond_the_key_is_refused(
    http: httpx.AsyncClient, stored: dict[str, str]
) -> None:
    """A member asking for its branch or a sibling, an app for another app's: 403."""
    assert stored
    for headers, params in (
        (MEMBER_AUTH, {"unit": "b-zto-east"}),
        (MEMBER_AUTH, {"unit": "m-li"}),
        (BRANCH_AUTH, {"unit": "b-express-west"}),
        (AUTH, {"source": "other-app"}),
    ):
        reply = await http.get("/v1/grievances", params=params, headers=headers)
        assert reply.status_code == 403, (params, reply.text)
    inside = await http.get("/v1/grievances", params={"unit": "m-wang"}, headers=BRANCH_AUTH)
    assert inside.status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "lost"}, "state"),
        ({"category": "food"}, "category"),
        ({"urgency": "urgent"}, "urgency"),
        ({"overdue": "maybe"}, "overdue"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2025-11-24T10:00:00Z", "until": "2025-11-24T09:00:00Z"}, "until"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"unit": "u-nobody"}, "unit"),
        ({"format": "xml"}, "format"),
        ({"colour": "red"}, "colour"),
        ({"source": "a b"}, "source"),
    ],
)
async def test_invalid_parameters_are_422_with_the_field(
    http: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    """Every parameter is checked; the error names it."""
    reply = await http.get("/v1/grievances", params=params, headers=OVERSIGHT_AUTH)
    assert reply.status_code == 422, reply.text
    assert field in {error["field"] for error in reply.json()["detail"]}


async def test_csv_gives_the_same_rows_formula_safe(
    http: httpx.AsyncClient, redis: Redis, stored: dict[str, str]
) -> None:
    """format=csv and Accept: text/csv give the JSON's rows; no cell starts a formula."""
    hostile = make_grievance().model_copy(
        update={"title": '=HYPERLINK("http://x")', "description": "@SUM(A1:A9) 进不了小区"}
    )
    await submit(redis, hostile)
    as_json = await ids_of(http, OVERSIGHT_AUTH, limit=3)
    first = await http.get("/v1/grievances", params={"format": "csv", "limit": 3},
                           headers=OVERSIGHT_AUTH)  # fmt: skip
    assert first.headers["content-type"].startswith("text/csv")
    assert first.text.startswith("\ufeff")
    header = {**OVERSIGHT_AUTH, "Accept": "text/csv"}
    rows: list[dict[str, str]] = []
    reply = await http.get("/v1/grievances", params={"limit": 3}, headers=header)
    assert reply.text == first.text
    while True:
        assert reply.status_code == 200
        rows.extend(csv.DictReader(io.StringIO(reply.text.removeprefix("\ufeff"))))
        cursor = reply.headers.get("x-next-cursor")
        if cursor is None:
            break
        reply = await http.get("/v1/grievances", params={"limit": 3, "cursor": cursor},
                               headers=header)  # fmt: skip
    assert [row["id"] for row in rows] == as_json
    assert len(rows) == len(stored) + 1
    row = next(r for r in rows if r["id"] == hostile.id)
    assert row["title"] == '\'=HYPERLINK("http://x")'
    assert row["description"].startswith("'@SUM")
    assert row["state"] == "submitted"
    assert row["anonymous"] == "false"
    assert "worker_name" not in row
    assert "张三" not in reply.text


async def test_app_keys_see_their_workers_names_in_the_list_as_in_get(
    http: httpx.AsyncClient, stored: dict[str, str], redis: Redis
) -> None:
    """The list applies GET's rule: names only for the filing app, never for units."""
    named = make_grievance(name="李四", phone="13900139000").model_copy(
        update={"source": "demo-app"}
    )
    await submit(redis, named)
    mine = {i["id"]: i for i in await every_page(http, AUTH)}
    assert mine[named.id]["grievance"]["worker"]["name"] == "李四"
    seen = {i["id"]: i for i in await every_page(http, OVERSIGHT_AUTH)}
    assert seen[named.id]["grievance"]["worker"]["name"] is None
    assert seen[named.id]["grievance"]["worker"]["phone"] is None
    assert set(stored.values()) <= set(seen)
