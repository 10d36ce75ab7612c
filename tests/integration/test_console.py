"""``/console`` rendered in headless Chromium after a scripted scenario, as a new user sees it."""

from __future__ import annotations

import asyncio
import html
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis

from services.intake.app import build_app as build_intake
from shared import stats
from shared.settings import IntakeSettings
from shared.streams import Keys
from tests.helpers import eventually
from tests.integration.router_support import member_breach_config, running_router
from zhitong.redis_server import free_port

pytestmark = pytest.mark.integration

AUTH = {"Authorization": "Bearer zt-demo-key"}
BRANCH_AUTH = {"Authorization": "Bearer zt-demo-branch-key"}
OVERSIGHT_KEY = "zt-demo-oversight-key"
OVERSIGHT_AUTH = {"Authorization": f"Bearer {OVERSIGHT_KEY}"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
    "--virtual-time-budget=5000",
)
WORKER = {"industry": "express_delivery", "platform": "中通", "region": "城东区"}


@pytest.fixture(name="intake_url")
async def fixture_intake_url(redis_url: str) -> AsyncIterator[str]:
    """Serve intake over real HTTP (Chromium needs a socket) and the router, in-process."""
    config = member_breach_config(member_ack=1)
    settings = IntakeSettings(redis_url=redis_url, consumer_name="intake-console", poll_ms=20)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            build_intake(settings, config),
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        async with running_router(redis_url, config, consumer_name="router-console"):
            await eventually(lambda: _started(server), timeout=20)
            yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started


async def chromium(*args: str, profile: Path) -> str:
    """Return Chromium's stdout for ``args`` (headless, private profile, 60 s at most)."""
    assert CHROMIUM
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return stdout.decode()


def cell(dom: str, row_attr: str, field: str) -> str:
    """Return the text of ``<td data-field=field>`` in the row carrying ``row_attr``."""
    row = re.search(rf"<tr [^>]*{re.escape(row_attr)}[^>]*>(.*?)</tr>", dom, re.S)
    assert row, f"no row {row_attr} in the console"
    found = re.search(rf'<td data-field="{field}"[^>]*>(.*?)</td>', row.group(1), re.S)
    assert found, f"no {field} cell in row {row_attr}"
    return html.unescape(found.group(1))


def element(dom: str, element_id: str) -> str:
    """Return the text of the element with ``id``."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)<', dom, re.S)
    assert found, f"no #{element_id}"
    return html.unescape(found.group(1))


def percent(value: float | None) -> str:
    """Return a rate as the page prints it."""
    return "—" if value is None else f"{value * 100:.1f}%"


async def run_scenario(client: httpx.AsyncClient, redis: Redis) -> list[str]:
    """Submit three grievances; let all escalate (member ack 1 s); acknowledge one at the branch."""
    ids = []
    for n in range(3):
        body = {
            "worker": {"id": f"w-console-{n}", **WORKER},
            "description": f"小区物业禁止快递员进入，进不了小区送件（{n}）",
        }
        reply = await client.post("/v1/grievances", json=body, headers=AUTH)
        assert reply.status_code == 202, reply.text
        ids.append(reply.json()["id"])

    async def all_escalated() -> bool:
        tiers = [await redis.hget(Keys().grievance(g), "tier") for g in ids]
        return tiers == [b"2", b"2", b"2"]

    await eventually(all_escalated, timeout=20)
    branch = (await redis.hget(Keys().grievance(ids[0]), "assignee")).decode()
    action = {"type": "acknowledge", "actor": {"id": branch, "role": "branch"}}
    reply = await client.post(f"/v1/grievances/{ids[0]}/actions", json=action, headers=BRANCH_AUTH)
    assert reply.status_code == 202, reply.text

    async def acknowledged() -> bool:
        return await redis.hget(Keys().grievance(ids[0]), "state") == b"acknowledged"

    await eventually(acknowledged, timeout=10)
    return ids


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
async def test_console_renders_the_scenario_in_chromium(
    intake_url: str, redis: Redis, tmp_path: Path
) -> None:
    """A new user opens /console, gives the oversight key, and sees the scenario's numbers."""
    async with httpx.AsyncClient(base_url=intake_url) as client:
        ids = await run_scenario(client, redis)
        data = (await client.get("/console/data", headers=OVERSIGHT_AUTH)).json()
        assert (await client.get("/console/data")).status_code == 401
        assert (await client.get("/console/data", headers=AUTH)).status_code == 403
    kpis: dict[str, Any] = await stats.compute(redis, Keys())
    overall = kpis["overall"]
    assert (overall["open"], overall["breaches"]) == (3, 3)

    first_visit = await chromium("--dump-dom", f"{intake_url}/console", profile=tmp_path / "p1")
    assert "请输入监督密钥 <small>Oversight API key</small>" in first_visit
    assert re.search(r'<section id="login"(?! hidden)', first_visit), "the key form is shown"

    page = f"{intake_url}/console#key={OVERSIGHT_KEY}"
    dom = await chromium("--dump-dom", page, profile=tmp_path / "p2")
    assert element(dom, "count-open") == "3"
    assert element(dom, "count-breaches") == "3"
    assert element(dom, "count-overdue") == str(overall["overdue"])
    assert element(dom, "rate-response") == percent(overall["response_rate"])
    assert element(dom, "rate-resolution") == percent(overall["resolution_rate"])
    assert element(dom, "rate-satisfaction") == "—"
    (unit,) = kpis["by_unit"]
    assert cell(dom, f'data-unit="{unit}"', "open") == "3"
    assert cell(dom, f'data-unit="{unit}"', "breaches") == "3"
    named = data["stats"]["by_unit"][unit]["name"]
    assert named, "the config names every unit"
    assert cell(dom, f'data-unit="{unit}"', "unit") == named  # its name, not its id
    escalated = [e for e in data["escalations"] if e["grievance_id"] in ids]
    assert len(escalated) == 3
    for gid in ids:
        assert cell(dom, f'data-escalated="{gid}"', "reason") == "超时未响应"
        tracking = next(g["tracking_no"] for g in data["open"] if g["id"] == gid)
        assert tracking in dom
    assert cell(dom, f'data-grievance="{ids[0]}"', "state") == "已受理"
    assert cell(dom, f'data-grievance="{ids[1]}"', "deadline") == "响应"
    assert re.fullmatch(r"(已超时 )?\d+.*", cell(dom, f'data-grievance="{ids[1]}"', "remaining"))

    refusals = {
        "zt-demo-key": ("需要有 read 权限的监督密钥", "it needs an oversight key"),  # app key: 403
        "zt-not-a-key": ("密钥无效", "Unknown API key"),  # 401
    }
    for key, said in refusals.items():
        refused = await chromium(
            "--dump-dom", f"{intake_url}/console#key={key}", profile=tmp_path / f"p-{key}"
        )
        assert re.search(r'<section id="login"(?! hidden)', refused), "the key form is back"
        assert all(words in element(refused, "login-error") for words in said), key

    screenshot = tmp_path / "console.png"
    await chromium(f"--screenshot={screenshot}", page, profile=tmp_path / "p3")
    assert screenshot.stat().st_size > 10_000, "the screenshot is empty"
