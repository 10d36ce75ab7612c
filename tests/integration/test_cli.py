"""The ``zhitong`` commands against a real Redis: submit, show, stats and the DLQ tools."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from redis.asyncio import Redis
from typer.testing import CliRunner

from services.intake.app import build_app as build_intake
from services.router.app import build_app as build_router
from shared import codec
from shared.settings import IntakeSettings, RouterSettings
from tests.helpers import eventually
from tests.integration.test_end_to_end import _config
from tests.processes import ServiceProcess
from zhitong.cli import app
from zhitong.stackfile import write_stack_file

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
GRIEVANCE = {
    "worker": {
        "id": "w-cli-1",
        "industry": "express_delivery",
        "platform": "中通",
        "region": "城东区",
    },
    "description": "小区物业禁止快递员进入，进不了小区送件",
}


def zhitong(*args: str, redis_url: str | None = None) -> Result:
    """Return the result of running ``zhitong ARGS`` (with ``--redis-url`` when given)."""
    argv = [*args, "--redis-url", redis_url] if redis_url else list(args)
    return CliRunner().invoke(app, argv)


async def zhitong_async(*args: str, redis_url: str | None = None) -> Result:
    """Return ``zhitong(...)`` run in a thread, so in-process services keep running."""
    return await asyncio.to_thread(zhitong, *args, redis_url=redis_url)


@pytest.fixture(name="stack")
async def fixture_stack(redis_url: str) -> AsyncIterator[None]:
    """Run intake and router in-process on the test Redis."""
    config = _config()
    common = {"redis_url": redis_url, "reclaim_idle_ms": 1000, "poll_ms": 20}
    apps = [
        build_intake(IntakeSettings(**common, consumer_name="intake-cli"), config),
        build_router(RouterSettings(**common, consumer_name="router-cli"), config),
    ]
    async with AsyncExitStack() as stack:
        for each in apps:
            await stack.enter_async_context(each.router.lifespan_context(each))
        yield


async def test_submit_from_flags_publishes_on_the_intake_stream(
    redis_url: str, redis: Redis
) -> None:
    """Without --url, ``submit`` XADDs the flags' grievance to zt:intake with its source."""
    result = await zhitong_async(
        "submit",
        "--worker-id", "w-9",
        "--industry", "food_delivery",
        "--description", "站点扣了我三天的工资",
        "--source", "hotline",
        redis_url=redis_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ((entry_id, fields),) = await redis.xrange("zt:intake")
    assert f"published zt:intake {entry_id.decode()}" in result.stdout
    assert codec.decode(fields) == {
        "worker": {"id": "w-9", "industry": "food_delivery"},
        "description": "站点扣了我三天的工资",
        "source": "hotline",
    }


async def test_submit_invalid_is_one_line_and_publishes_nothing(
    redis_url: str, redis: Redis
) -> None:
    """A grievance without worker id or description fails with one line naming both."""
    result = await zhitong_async("submit", "--industry", "trucking", redis_url=redis_url)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: invalid grievance:")
    assert "worker.id: Field required" in line
    assert "description: Field required" in line
    assert await redis.xlen("zt:intake") == 0


async def test_submit_file_then_show_in_both_languages(
    stack: None, redis_url: str, redis: Redis, tmp_path: Path
) -> None:
    """A --file submission is routed; ``show`` by tracking number prints state and timeline."""
    del stack
    path = tmp_path / "grievance.json"
    path.write_text(json.dumps(GRIEVANCE, ensure_ascii=False), encoding="utf-8")
    submitted = await zhitong_async("submit", "--file", str(path), redis_url=redis_url)
    assert submitted.exit_code == 0, submitted.output

    async def assigned_event() -> dict[str, Any] | None:
        for _, fields in await redis.xrange("zt:events"):
            event = codec.decode(fields)
            if event["type"] == "grievance.assigned":
                return event
        return None

    event = await eventually(assigned_event, timeout=10)
    tracking = (await redis.hget(f"zt:g:{{{event['grievance_id']}}}", "tracking_no")).decode()

    zh = await zhitong_async("show", tracking, redis_url=redis_url)
    assert zh.exit_code == 0, zh.output
    for text in (event["grievance_id"], tracking, "状态", "已分派", "通行受阻", "处理记录", "分派"):
        assert text in zh.stdout
    en = await zhitong_async("show", event["grievance_id"], "--lang", "en", redis_url=redis_url)
    assert en.exit_code == 0, en.output
    for text in ("state", "assigned", "road access", "timeline", event["assignee"]):
        assert text in en.stdout
    as_json = await zhitong_async("show", tracking, "--json", redis_url=redis_url)
    view = json.loads(as_json.stdout)
    assert view["state"] == "assigned"
    assert [e["type"] for e in view["timeline"]] == ["grievance.assigned"]


async def test_show_unknown_grievance_is_one_line(redis_url: str) -> None:
    """An unknown id exits 1 with one line."""
    result = await zhitong_async("show", "ZT-NOPE", "--lang", "en", redis_url=redis_url)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: no grievance: ZT-NOPE"]


@pytest.fixture(name="intake_process")
def fixture_intake_process(redis_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    """Return a real intake process on the test Redis."""
    process = ServiceProcess(
        "intake", redis_url, ROOT / "config" / "demo.yaml", tmp_path, consumer="intake-cli-http"
    ).start()
    try:
        yield process
    finally:
        process.terminate()


async def test_submit_over_http_returns_the_tracking_number(
    intake_process: ServiceProcess, redis: Redis
) -> None:
    """With --url and --key, ``submit`` POSTs to intake and prints the id and tracking number."""
    url = f"http://127.0.0.1:{intake_process.port}"
    result = await zhitong_async(
        "submit",
        "--worker-id", "w-http",
        "--description", "工资被拖欠两个月",
        "--url", url,
        "--key", "zt-demo-key",
        "--idempotency-key", "cli-1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    _, gid, tracking = result.stdout.split()
    assert tracking.startswith("tracking_no=ZT-")
    assert await redis.hget(f"zt:g:{{{gid}}}", "source") == b"demo-app"
    refused = await zhitong_async(
        "submit", "--worker-id", "w-http", "--description", "x", "--url", url, "--key", "wrong"
    )
    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        "error: intake refused the grievance (401): Unknown API key"
    ]


async def test_unreachable_redis_is_one_line() -> None:
    """A Redis nobody listens on gives one error line naming it, password hidden."""
    result = await zhitong_async("stats", redis_url="redis://u:secret@127.0.0.1:1/0")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: Redis at redis://u:***@127.0.0.1:1/0:")
    assert "secret" not in line


async def test_submit_without_a_url_uses_the_running_stacks_redis(
    redis_url: str, redis: Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Next to a running stack, ``submit`` with no --redis-url publishes on that stack's Redis."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZHITONG_REDIS_URL", raising=False)
    monkeypatch.delenv("ZHITONG_VAR_DIR", raising=False)
    write_stack_file(Path("var"), redis_url, None)
    result = await zhitong_async("submit", "--worker-id", "w-st", "--description", "工资被拖欠")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"redis: {redis_url} (the running stack, from {Path('var/stack.json')})"
    ]
    assert await redis.xlen("zt:intake") == 1
