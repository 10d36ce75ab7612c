"""Deliveries outlast outages (SPEC §8): the horizon, per-send records, exactly-once replays.

Real Redis, a real receiver on a port that is stopped and started, the schedule scaled down
by the config file (``channels.retry``) as an operator would.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.notifier.channels import Job, build_channels
from services.notifier.delivery import Dispatcher
from shared import codec
from shared.config import ContactChannel
from shared.redis.client import as_text, make_client
from tests.helpers import eventually
from tests.integration.notifier_support import (
    KEYS,
    SECRET,
    assigned_event,
    config_with,
    outcomes,
    publish,
    receiver,
    running_notifier,
    seed_grievance,
    serving_app,
    settings,
)
from tests.integration.test_cli import zhitong_async
from zhitong import dlq
from zhitong.receiver import Receiver, serving
from zhitong.redis_server import free_port

pytestmark = pytest.mark.integration

OPS_KEY = {"authorization": "Bearer zt-ops-key"}
MESSAGES = 20


async def test_receiver_down_for_a_while_gets_every_message_once(
    redis: Redis, redis_url: str
) -> None:
    """A receiver stopped while 20 messages are due gets each exactly once when it is back."""
    rx = receiver()
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks"
    # Scaled down: 50 ms base, 0.4 s cap, a horizon far beyond the outage.
    retry = {"webhook": {"base": 0.05, "cap": 0.4, "horizon": "1m"}}
    await seed_grievance(redis)
    async with running_notifier(redis, redis_url, config_with(url, retry=retry)):
        async with serving(rx, port=port):
            await publish(redis, assigned_event("e0", assignee="m-li"))
            await eventually(lambda: _received(rx, 1))
        down_at = time.monotonic()
        for i in range(1, MESSAGES + 1):
            await publish(redis, assigned_event(f"e{i}", assignee="m-li"))
        # Down until every message has failed more often than the old limit of 6 attempts.
        await eventually(lambda: _all_retried(redis, MESSAGES, more_than=6), timeout=30)
        down_s = time.monotonic() - down_at
        async with serving(rx, port=port):
            await eventually(lambda: _received(rx, MESSAGES + 1), timeout=15)
            await eventually(lambda: _webhooks_sent(redis, MESSAGES + 1))
    ids = [d["webhook_id"] for d in rx.deliveries]
    assert len(ids) == len(set(ids)) == MESSAGES + 1, f"down {down_s:.1f}s"
    assert rx.duplicates == 0
    assert rx.requests == MESSAGES + 1  # nothing reached it while it was down
    assert {d["data"]["event_id"] for d in rx.deliveries} == {f"e{i}" for i in range(21)}
    assert await redis.xlen(KEYS.dlq) == 0
    assert await redis.zcard(KEYS.retries) == 0


async def test_given_up_delivery_is_replayed_exactly_once(redis: Redis, redis_url: str) -> None:
    """Past the horizon a delivery fails; concurrent CLI and API replays re-send it once."""
    rx = receiver()
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks"
    retry = {"webhook": {"base": 0.05, "cap": 0.2, "horizon": 0.5}}
    await seed_grievance(redis)
    async with running_notifier(redis, redis_url, config_with(url, retry=retry)) as app:
        await publish(redis, assigned_event(assignee="m-li"))
        # The worker's message and oversight's notice about it both pass their horizon.
        letters = await eventually(lambda: _dead_letters(redis, 2))
        assert await redis.zcard(KEYS.retries) == 0
        worker, notice = letters
        assert worker.record["recipient"] == "worker:w-1001"
        assert notice.record["recipient"] == "u-oversight"
        async with serving(rx, port=port):
            # Three CLI-side replays and three API calls race for the same dead letter.
            path = f"/v1/deliveries/failed/{worker.id}/replay"
            cli, api = await asyncio.gather(
                asyncio.gather(*(dlq.replay(redis, KEYS, worker) for _ in range(3))),
                asyncio.gather(*(_api(app, "POST", path) for _ in range(3))),
            )
            statuses = sorted(r.status_code for r in api)
            assert sum(r is not None for r in cli) + statuses.count(202) == 1
            assert set(statuses) <= {202, 404}
            again = await zhitong_async("dlq", "replay", worker.id, redis_url=redis_url)
            assert again.exit_code == 1
            assert "no such DLQ entry" in again.stderr
            rest = await zhitong_async("dlq", "replay", "--all", redis_url=redis_url)
            assert rest.exit_code == 0, rest.output
            assert "replayed 1 dead letter(s)" in rest.stdout
            await eventually(lambda: _received(rx, 2))
            await eventually(lambda: _webhooks_sent(redis, 2))
    assert rx.requests == 2
    assert rx.duplicates == 0
    assert sorted(d["data"]["recipient"]["id"] for d in rx.deliveries) == [
        "u-oversight",
        "worker:w-1001",
    ]
    assert await redis.xlen(KEYS.dlq) == 0
    replayed = await outcomes(redis, status="replayed")
    assert {r["delivery_id"] for r in replayed} == {
        worker.record["delivery_id"],
        notice.record["delivery_id"],
    }
    delivery_key = KEYS.delivery("e1", "worker:w-1001", "webhook:demo")
    assert await redis.get(delivery_key) == b"sent"


async def test_ops_api_needs_an_ops_key_and_lists_what_was_given_up(
    redis: Redis, redis_url: str
) -> None:
    """Only a key with the ``ops`` scope lists and replays; records hold no message text."""
    dead = f"http://127.0.0.1:{free_port()}/hooks?token=s3cret"
    retry = {"webhook": {"base": 0.05, "horizon": 0.2}}
    await seed_grievance(redis)
    async with running_notifier(redis, redis_url, config_with(dead, retry=retry)) as app:
        await publish(redis, assigned_event(assignee="m-li"))
        await eventually(lambda: _dead_letters(redis, 2))
        anonymous = await _api(app, "GET", "/v1/deliveries/failed", headers={})
        app_key = await _api(
            app, "GET", "/v1/deliveries/failed", headers={"authorization": "Bearer zt-demo-key"}
        )
        listed = await _api(app, "GET", "/v1/deliveries/failed")
        bad_id = await _api(app, "POST", "/v1/deliveries/failed/nope/replay")
        unknown = await _api(app, "POST", "/v1/deliveries/failed/1-1/replay")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert app_key.status_code == 403
    assert listed.status_code == 200
    failed = listed.json()["failed"]
    assert [f["recipient"] for f in failed] == ["worker:w-1001", "u-oversight"]
    assert all(f["kind"] == "notification.failed" and "text" not in f for f in failed)
    assert "s3cret" not in listed.text
    assert bad_id.status_code == 422
    assert unknown.status_code == 404


async def test_replay_of_an_aged_out_delivery_is_refused_and_kept(
    redis: Redis, redis_url: str
) -> None:
    """A dead letter whose delivery aged out is not replayed and stays for ops to read."""
    record = {
        "kind": "notification.failed",
        "event_id": "e7",
        "grievance_id": "g1",
        "delivery_id": "msg_gone",
        "recipient": "worker:w-1001",
        "channel": "webhook:demo",
        "status": "failed",
        "attempts": 9,
        "error": "HTTP 500",
        "at": "2026-01-01T00:00:00Z",
    }
    entry_id = as_text(await redis.xadd(KEYS.dlq, codec.fields(record)))
    result = await zhitong_async("dlq", "replay", entry_id, redis_url=redis_url)
    assert result.exit_code == 1
    assert "aged out" in result.stderr
    assert await redis.xlen(KEYS.dlq) == 1
    assert await redis.zcard(KEYS.retries) == 0


async def test_fast_send_is_recorded_while_a_slow_one_is_in_flight(
    redis: Redis, redis_url: str
) -> None:
    """In one batch, the fast endpoint's 'sent' record exists before the slow send returns."""
    release = asyncio.Event()
    arrived: list[str] = []

    async def slow(request: Request) -> Response:
        arrived.append(request.headers["webhook-id"])
        await release.wait()
        return JSONResponse({"status": "received"})

    rx = receiver()
    slow_app = Starlette(routes=[Route("/hooks", slow, methods=["POST"])])
    async with (
        serving(rx, port=free_port()) as fast_url,
        serving_app(slow_app, free_port()) as slow_url,
    ):
        hooks = {
            "demo": {"url": f"{fast_url}/hooks", "secrets": [SECRET]},
            "slow": {"url": f"{slow_url}/hooks", "secrets": [SECRET]},
        }
        config = config_with(f"{fast_url}/hooks", webhooks=hooks)
        client = make_client(redis_url)
        async with httpx.AsyncClient(timeout=10) as http:
            dispatcher = Dispatcher(
                client, settings(redis_url), config, build_channels(config, http)
            )
            fast_job, slow_job = _job("msg_fast", "demo"), _job("msg_slow", "slow")
            assert await dispatcher.claim(fast_job)
            assert await dispatcher.claim(slow_job)
            batch = asyncio.create_task(dispatcher.attempt_many([slow_job, fast_job]))
            (sent,) = await eventually(lambda: outcomes(redis, delivery_id="msg_fast"))
            fast_state = await redis.get(KEYS.delivery("e5", "worker:w-1001", "webhook:demo"))
            slow_state = await redis.get(KEYS.delivery("e5", "worker:w-1001", "webhook:slow"))
            still_in_flight = arrived == ["msg_slow"] and not batch.done()
            release.set()
            await batch
        await client.aclose()
    assert still_in_flight
    assert sent["status"] == "sent"
    assert (fast_state, slow_state) == (b"sent", b"sending")
    (slow_sent,) = await outcomes(redis, delivery_id="msg_slow")
    assert slow_sent["status"] == "sent"
    assert len(rx.deliveries) == 1


def _job(job_id: str, endpoint: str) -> Job:
    channel = ContactChannel(type="webhook", endpoint=endpoint)
    return Job(
        job_id=job_id,
        event_id="e5",
        grievance_id="g1",
        event_type="grievance.assigned",
        recipient="worker:w-1001",
        audience="worker",
        channel=channel,
        channel_label=f"webhook:{endpoint}",
        locale="zh-CN",
        text="您的诉求已收到",
    )


async def _api(
    app: FastAPI, method: str, path: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notifier"
    ) as http:
        return await http.request(method, path, headers=OPS_KEY if headers is None else headers)


async def _received(rx: Receiver, n: int) -> bool:
    return len(rx.deliveries) >= n


async def _all_retried(redis: Redis, n: int, more_than: int) -> bool:
    attempts: dict[str, int] = {}
    for r in await outcomes(redis, channel="webhook:demo", status="retrying"):
        attempts[r["delivery_id"]] = max(attempts.get(r["delivery_id"], 0), r["attempt"])
    return len(attempts) >= n and all(a > more_than for a in attempts.values())


async def _webhooks_sent(redis: Redis, n: int) -> bool:
    return len(await outcomes(redis, channel="webhook:demo", status="sent")) >= n


async def _dead_letters(redis: Redis, n: int) -> list[dlq.DeadLetter]:
    letters = await dlq.list_entries(redis, KEYS)
    return letters if len(letters) >= n else []
