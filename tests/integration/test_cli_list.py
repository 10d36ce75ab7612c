"""``zhitong list`` and ``zhitong show`` against a real Redis: names, zh-CN reasons, filters."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest
from click.testing import Result
from redis.asyncio import Redis
from typer.testing import CliRunner

from services.router.engine import Engine
from shared.events import Action
from tests.integration.router_support import KEYS, fast_config, make_grievance, state_of, submit
from zhitong.cli import app

pytestmark = pytest.mark.integration

CONFIG = fast_config(ack=3600, resolve=7200)
DEMO = "config/demo.yaml"


async def zhitong(redis_url: str, *args: str) -> Result:
    """Return ``zhitong ARGS --redis-url …`` run in a thread."""
    argv = [*args, "--redis-url", redis_url]
    return await asyncio.to_thread(CliRunner().invoke, app, argv)


async def applied(
    engine: Engine, gid: str, kind: str, actor: tuple[str, str], **body: object
) -> None:
    """Apply one action as ``actor`` (id, role); it must be accepted."""
    action = Action.model_validate(
        {"action_id": f"{gid}-{kind}", "grievance_id": gid, "type": kind,
         "actor": {"id": actor[0], "role": actor[1]}, **body}
    )  # fmt: skip
    assert (await engine.act(action)).status == "applied"


@pytest.fixture(name="scenario")
async def fixture_scenario(redis: Redis) -> dict[str, str]:
    """Three grievances: one reopened after a low rating, one awaiting its rating, one new."""
    engine = Engine(redis, KEYS, CONFIG)
    reopened, rated, fresh = make_grievance(), make_grievance(id="w-2"), make_grievance(id="w-3")
    for grievance in (reopened, rated, fresh):
        await submit(redis, grievance)
    await engine.assign([reopened, rated, fresh])
    for grievance, worker in ((reopened, "w-1001"), (rated, "w-2")):
        member = (await state_of(redis, grievance.id))["assignee"]
        await applied(engine, grievance.id, "resolve", (member, "member"), resolution="已协调")
        if grievance is reopened:
            await applied(engine, grievance.id, "feedback", (worker, "worker"), rating=1)
    return {"reopened": reopened.id, "rated": rated.id, "fresh": fresh.id}


async def test_list_names_units_and_marks_reopened_and_rating_windows(
    redis_url: str, scenario: dict[str, str]
) -> None:
    """The table shows unit names, 重新交办 and the rating window; filters narrow it."""
    table = await zhitong(redis_url, "list", "--config", DEMO)
    assert table.exit_code == 0, table.output
    assert "城东快递网点联合党支部" in table.stdout  # the reopened one is at the branch now
    assert "已分派 · 重新交办" in table.stdout
    assert "评价 " in table.stdout  # the rating window's deadline
    assert "b-zto-east" not in table.stdout
    resolved = await zhitong(redis_url, "list", "--state", "resolved", "--json")
    assert resolved.exit_code == 0, resolved.output
    page = json.loads(resolved.stdout)
    assert [item["id"] for item in page["items"]] == [scenario["rated"]]
    assert page["items"][0]["awaiting_rating"] is True
    assert page["next_cursor"] is None
    by_worker = await zhitong(redis_url, "list", "--worker-id", "w-3", "--csv")
    rows = list(csv.DictReader(io.StringIO(by_worker.stdout)))
    assert [row["id"] for row in rows] == [scenario["fresh"]]


async def test_list_pages_with_a_cursor_and_all(redis_url: str, scenario: dict[str, str]) -> None:
    """--limit 1 leaves a cursor to go on from; --all reads to the end."""
    first = json.loads((await zhitong(redis_url, "list", "--limit", "1", "--json")).stdout)
    assert len(first["items"]) == 1
    second = await zhitong(
        redis_url, "list", "--limit", "1", "--cursor", first["next_cursor"], "--json"
    )
    assert json.loads(second.stdout)["items"][0]["id"] != first["items"][0]["id"]
    every = json.loads((await zhitong(redis_url, "list", "--limit", "1", "--all", "--json")).stdout)
    assert {item["id"] for item in every["items"]} == set(scenario.values())


async def test_list_refuses_what_it_cannot_read(redis_url: str) -> None:
    """A unit not in the directory, a bad cursor, an unknown state: one line, exit non-zero."""
    unknown = await zhitong(redis_url, "list", "--unit", "u-nobody", "--config", DEMO)
    assert unknown.exit_code == 1
    assert "u-nobody" in unknown.stderr
    assert (await zhitong(redis_url, "list", "--cursor", "zzz")).exit_code == 1
    assert (await zhitong(redis_url, "list", "--state", "lost")).exit_code == 2


async def test_show_in_zh_cn_prints_reasons_and_units_in_chinese(
    redis_url: str, scenario: dict[str, str]
) -> None:
    """No English reason, no bare unit id in the zh-CN timeline."""
    shown = await zhitong(redis_url, "show", scenario["reopened"], "--config", DEMO)
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    assert "匹配到城东快递网点联合党支部" in out
    assert "评 1 分" in out
    assert "重新交办" in out
    for english in ("matched branch", "rating 1", "(member)", "(worker)"):
        assert english not in out
    assert out.count("b-zto-east") == out.count("(b-zto-east)") == 1  # the assignee's id
    assert "m-wang" not in out
    assert "m-li" not in out
    en = await zhitong(redis_url, "show", scenario["rated"], "--lang", "en", "--config", DEMO)
    assert "rating window closes" in en.stdout
    view = json.loads((await zhitong(redis_url, "show", scenario["rated"], "--json")).stdout)
    assert view["awaiting_rating"] is True
    assert view["feedback_closes_at"]
