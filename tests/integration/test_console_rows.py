"""``/console``'s countdowns from the read model: reopened grievances, rating windows, names."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis

from services.intake.app import build_app as build_intake
from services.router.engine import Engine
from shared.events import Action
from shared.settings import IntakeSettings
from tests.helpers import eventually
from tests.integration.router_support import KEYS, fast_config, make_grievance, state_of, submit
from tests.integration.test_console import CHROMIUM, OVERSIGHT_AUTH, OVERSIGHT_KEY, cell, chromium
from zhitong.redis_server import free_port

pytestmark = pytest.mark.integration

CONFIG = fast_config(ack=3600, resolve=7200)


@pytest.fixture(name="intake_url")
async def fixture_intake_url(redis_url: str) -> AsyncIterator[str]:
    """Serve intake over real HTTP (Chromium needs a socket); no router: the test drives it."""
    settings = IntakeSettings(redis_url=redis_url, consumer_name="intake-console-rows")
    server = uvicorn.Server(
        uvicorn.Config(
            build_intake(settings, CONFIG), host="127.0.0.1", port=free_port(), log_config=None
        )
    )
    task = asyncio.create_task(server.serve())
    try:

        async def started() -> bool:
            return server.started

        await eventually(started, timeout=20)
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        await task


async def act(engine: Engine, gid: str, kind: str, actor: tuple[str, str], **body: object) -> None:
    """Apply one action as ``actor`` (id, role); it must be accepted."""
    action = Action.model_validate(
        {"action_id": f"{gid}-{kind}", "grievance_id": gid, "type": kind,
         "actor": {"id": actor[0], "role": actor[1]}, **body}
    )  # fmt: skip
    assert (await engine.act(action)).status == "applied"


@pytest.fixture(name="scenario")
async def fixture_scenario(redis: Redis) -> dict[str, str]:
    """One grievance reopened by a rating of 1, one resolved and awaiting its rating."""
    engine = Engine(redis, KEYS, CONFIG)
    reopened, rated = make_grievance(), make_grievance(id="w-2")
    for grievance in (reopened, rated):
        await submit(redis, grievance)
    await engine.assign([reopened, rated])
    for grievance in (reopened, rated):
        member = (await state_of(redis, grievance.id))["assignee"]
        await act(engine, grievance.id, "resolve", (member, "member"), resolution="已协调")
    await act(engine, reopened.id, "feedback", ("w-1001", "worker"), rating=1)
    return {"reopened": reopened.id, "rated": rated.id}


async def test_console_data_marks_reopened_and_rating_windows_with_names(
    intake_url: str, scenario: dict[str, str], redis: Redis
) -> None:
    """The data says reopened, when the rating window closes, and who holds each by name."""
    async with httpx.AsyncClient(base_url=intake_url) as client:
        data = (await client.get("/console/data", headers=OVERSIGHT_AUTH)).json()
    rows = {g["id"]: g for g in data["open"]}
    reopened, rated = rows[scenario["reopened"]], rows[scenario["rated"]]
    assert (reopened["state"], reopened["reopened"]) == ("assigned", True)
    assert reopened["assignee_name"] == "城东快递网点联合党支部"
    assert rated["awaiting_rating"] is True
    assert rated["feedback_closes_ms"] == int((await state_of(redis, scenario["rated"]))["fb_due"])
    assert rated["ack_due_ms"] is None
    assert not {"worker_id", "description", "grievance"} & set(rated)  # no personal data


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
async def test_console_shows_reopened_and_the_rating_window_in_chromium(
    intake_url: str, scenario: dict[str, str], tmp_path: Path
) -> None:
    """已分派 · 重新交办 for the reopened one; 评价（… 截止） and time left for the other."""
    dom = await chromium(
        "--dump-dom", f"{intake_url}/console#key={OVERSIGHT_KEY}", profile=tmp_path
    )
    reopened = f'data-grievance="{scenario["reopened"]}"'
    rated = f'data-grievance="{scenario["rated"]}"'
    assert cell(dom, reopened, "state") == "已分派 · 重新交办"
    assert cell(dom, reopened, "assignee") == "城东快递网点联合党支部"
    assert cell(dom, rated, "state") == "已办结"
    assert cell(dom, rated, "deadline").startswith("评价（")
    assert cell(dom, rated, "deadline").endswith("截止）")
    assert cell(dom, rated, "remaining").startswith("2天")  # a 72 h window, just opened
