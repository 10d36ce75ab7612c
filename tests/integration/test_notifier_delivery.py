"""The notifier on real Redis with a real local webhook receiver (SPEC §7, §8)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from services.notifier.channels import Job, build_channels
from services.notifier.delivery import Dispatcher
from services.notifier.retries import RetryLoop
from shared.config import ContactChannel
from shared.redis.client import make_client
from tests.helpers import eventually
from tests.integration.notifier_support import (
    KEYS,
    TRACKING_NO,
    assigned_event,
    config_for,
    outcomes,
    publish,
    receiver,
    running_notifier,
    seed_grievance,
    settings,
    stream_payloads,
)
from zhitong.receiver import serving
from zhitong.redis_server import free_port

pytestmark = pytest.mark.integration


async def test_assigned_event_reaches_worker_and_member(redis: Redis, redis_url: str) -> None:
    """A grievance.assigned event sends a signed receipt to the worker and a case to 王师傅."""
    rx = receiver()
    async with serving(rx, port=free_port()) as url:
        await seed_grievance(redis)
        async with running_notifier(redis, redis_url, config_for(f"{url}/hooks")):
            await publish(redis, assigned_event())
            await eventually(lambda: _count(rx, 2))
            sent = await eventually(lambda: _sent(redis, 4))
    assert {(r["recipient"], r["channel"]) for r in sent} == {
        ("worker:w-1001", "log"),
        ("worker:w-1001", "webhook:demo"),
        ("m-wang", "log"),
        ("m-wang", "webhook:demo"),
    }
    (receipt,) = rx.texts("worker:w-1001")
    assert receipt.startswith(f"您的诉求（编号 {TRACKING_NO}）已收到，已转交党员快递员王师傅，将于")
    (case,) = rx.texts("m-wang")
    assert "来自刘小哥（电话 13800138000）" in case
    assert rx.rejected == []
    worker_delivery = next(d for d in rx.deliveries if d["data"]["recipient"]["id"] != "m-wang")
    assert worker_delivery["type"] == "grievance.assigned"
    assert worker_delivery["data"]["grievance_id"] == "g1"
    assert "phone" not in str(worker_delivery["data"])


async def test_anonymous_worker_is_hidden_from_the_member(redis: Redis, redis_url: str) -> None:
    """An anonymous grievance reaches the member without the worker's name or phone."""
    rx = receiver()
    async with serving(rx, port=free_port()) as url:
        await seed_grievance(redis, anonymous=True)
        async with running_notifier(redis, redis_url, config_for(f"{url}/hooks")):
            await publish(redis, assigned_event())
            await eventually(lambda: _count(rx, 2))
    (case,) = rx.texts("m-wang")
    assert "匿名从业人员" in case
    assert "刘小哥" not in case
    assert "13800138000" not in case


async def test_redelivered_event_sends_once(redis: Redis, redis_url: str) -> None:
    """The same event XADDed twice (a redelivery) produces one delivery per recipient."""
    rx = receiver()
    async with serving(rx, port=free_port()) as url:
        await seed_grievance(redis)
        async with running_notifier(redis, redis_url, config_for(f"{url}/hooks")):
            await publish(redis, assigned_event())
            second = await publish(redis, assigned_event())
            await eventually(lambda: _acked(redis, second))
            await eventually(lambda: _sent(redis, 4))
    assert len(rx.deliveries) == 2
    assert rx.requests == 2
    assert len(await outcomes(redis)) == 4


async def test_500_three_times_then_200_delivers_once(redis: Redis, redis_url: str) -> None:
    """A receiver failing three times gets exactly one successful delivery after backoff."""
    rx = receiver()
    rx.fail_next(500, 500, 500)
    async with serving(rx, port=free_port()) as url:
        await seed_grievance(redis)
        # 李师傅 is reached by log only, so the worker's webhook is the one HTTP delivery.
        async with running_notifier(redis, redis_url, config_for(f"{url}/hooks")) as app:
            await publish(redis, assigned_event(assignee="m-li"))
            (sent,) = await eventually(
                lambda: outcomes(redis, channel="webhook:demo", status="sent")
            )
            metrics = await _metrics(app)
    assert rx.requests == 4
    assert len(rx.deliveries) == 1
    assert sent["attempt"] == 4
    retrying = await outcomes(redis, channel="webhook:demo", status="retrying")
    assert [r["attempt"] for r in retrying] == [1, 2, 3]
    assert all("HTTP 500" in r["error"] for r in retrying)
    assert await redis.zcard(KEYS.retries) == 0
    assert 'zhitong_notifier_deliveries_total{channel="webhook",status="retrying"} 3.0' in metrics


async def test_restart_mid_retry_still_delivers_once(redis: Redis, redis_url: str) -> None:
    """A notifier stopped while a retry waits resumes it after restart and sends once."""
    rx = receiver()
    rx.fail_next(503)
    async with serving(rx, port=free_port()) as url:
        await seed_grievance(redis)
        config = config_for(f"{url}/hooks")
        async with running_notifier(redis, redis_url, config, retry_base_s=1.5):
            await publish(redis, assigned_event(assignee="m-li"))
            await eventually(lambda: outcomes(redis, status="retrying"))
        assert await redis.zcard(KEYS.retries) == 1  # the retry outlives the process
        assert rx.deliveries == []
        async with running_notifier(redis, redis_url, config, retry_base_s=1.5):
            await eventually(lambda: outcomes(redis, channel="webhook:demo", status="sent"))
    assert rx.requests == 2
    assert len(rx.deliveries) == 1
    assert await redis.zcard(KEYS.retries) == 0


async def test_receiver_down_for_good_ends_in_the_dlq(redis: Redis, redis_url: str) -> None:
    """An unreachable receiver ends in zt:dlq as notification.failed and oversight is told."""
    await seed_grievance(redis)
    dead_url = f"http://127.0.0.1:{free_port()}/hooks"
    async with running_notifier(redis, redis_url, config_for(dead_url), retry_horizon_s=0.3):
        await publish(redis, assigned_event(assignee="m-li"))
        await eventually(lambda: outcomes(redis, recipient="u-oversight", status="sent"))
        dlq = await eventually(lambda: _failed(redis, "worker:w-1001"))
        # Oversight's own webhook is down too: that notice fails without cascading.
        (notice,) = await eventually(lambda: _failed(redis, "u-oversight"))
    (record,) = dlq
    assert record["kind"] == "notification.failed"
    assert record["event_id"] == "e1"
    assert record["channel"] == "webhook:demo"
    assert record["attempts"] >= 2  # retried until the 0.3 s horizon, then given up
    assert "ConnectError" in record["error"]
    (failed,) = await outcomes(redis, recipient="worker:w-1001", status="failed")
    assert failed["attempt"] == record["attempts"]
    assert notice["event_type"] == "notification.failed"
    assert len(await stream_payloads(redis, KEYS.dlq)) == 2
    assert await redis.zcard(KEYS.retries) == 0


async def test_client_error_is_not_retried(redis: Redis, redis_url: str) -> None:
    """A 400 from the receiver fails the delivery at once, without retries."""
    rx = receiver()
    rx.fail_next(400)
    async with serving(rx, port=free_port()) as url:
        await seed_grievance(redis)
        async with running_notifier(redis, redis_url, config_for(f"{url}/hooks")):
            await publish(redis, assigned_event(assignee="m-li"))
            (failed,) = await eventually(lambda: _failed(redis, "worker:w-1001"))
    assert failed["attempts"] == 1
    assert "HTTP 400" in failed["error"]
    # One refused request for the worker, then oversight's notice about it (accepted).
    await eventually(lambda: _count(rx, 1))
    assert rx.requests == 2
    (notice,) = rx.texts("u-oversight")
    assert notice.startswith(f"【通知失败】诉求 {TRACKING_NO} 的“grievance.assigned”通知未能送达")
    assert await outcomes(redis, status="retrying") == []


async def test_429_is_retried(redis: Redis, redis_url: str) -> None:
    """A 429 (rate limited) is retried like a 5xx, then delivered."""
    rx = receiver()
    rx.fail_next(429)
    async with serving(rx, port=free_port()) as url:
        await seed_grievance(redis)
        async with running_notifier(redis, redis_url, config_for(f"{url}/hooks")):
            await publish(redis, assigned_event(assignee="m-li"))
            await eventually(lambda: outcomes(redis, channel="webhook:demo", status="sent"))
    assert rx.requests == 2
    assert len(rx.deliveries) == 1


async def _count(rx: object, n: int) -> bool:
    return len(rx.deliveries) >= n  # type: ignore[attr-defined]


async def _sent(redis: Redis, n: int) -> list[dict[str, object]]:
    sent = await outcomes(redis, status="sent")
    return sent if len(sent) >= n else []


async def _acked(redis: Redis, entry_id: str) -> bool:
    info = await redis.xpending(KEYS.events, "notifier")
    groups = await redis.xinfo_groups(KEYS.events)
    last = groups[0]["last-delivered-id"].decode()
    return info["pending"] == 0 and last == entry_id


async def _failed(redis: Redis, recipient: str) -> list[dict[str, object]]:
    return [r for r in await stream_payloads(redis, KEYS.dlq) if r.get("recipient") == recipient]


async def test_claim_of_a_dead_sender_is_finished_after_its_lease(
    redis: Redis, redis_url: str
) -> None:
    """A delivery claimed by a notifier that died before sending is sent once, after its lease."""
    rx = receiver()
    async with serving(rx, port=free_port()) as url:
        config = config_for(f"{url}/hooks")
        notifier_settings = settings(redis_url)
        client = make_client(redis_url)
        async with httpx.AsyncClient() as http:
            dispatcher = Dispatcher(client, notifier_settings, config, build_channels(config, http))
            dispatcher.lease_ms = 100
            job = Job(
                job_id="msg_dead",
                event_id="e9",
                grievance_id="g1",
                event_type="grievance.assigned",
                recipient="worker:w-1001",
                audience="worker",
                channel=ContactChannel(type="webhook", endpoint="demo"),
                channel_label="webhook:demo",
                locale="zh-CN",
                text="您的诉求已收到",
            )
            assert await dispatcher.claim(job)  # ... and the claiming process dies here
            assert not await dispatcher.claim(job)  # a redelivered event does not send
            retries = RetryLoop(client, notifier_settings, dispatcher)
            await eventually(retries.run_due)
            await eventually(lambda: _count(rx, 1))
        await client.aclose()
    assert rx.requests == 1
    (sent,) = await outcomes(redis, status="sent")
    assert sent["delivery_id"] == "msg_dead"


async def test_unreadable_event_is_dead_lettered(redis: Redis, redis_url: str) -> None:
    """An entry that is not an event goes to zt:dlq as poison and does not block the stream."""
    rx = receiver()
    async with serving(rx, port=free_port()) as url:
        await seed_grievance(redis)
        overrides = {"max_deliveries": 1, "reclaim_idle_ms": 100}
        async with running_notifier(redis, redis_url, config_for(f"{url}/hooks"), **overrides):
            bad = await publish(redis, {"event_id": "x", "type": "grievance.unheard_of"})
            await publish(redis, assigned_event())
            await eventually(lambda: _count(rx, 2))
            (poison,) = await eventually(lambda: stream_payloads(redis, KEYS.dlq), timeout=15)
    assert poison["kind"] == "poison"
    assert poison["entry_id"] == bad
    assert "validation error" in poison["error"]


async def _metrics(app: FastAPI) -> str:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notifier"
    ) as http:
        return (await http.get("/metrics")).text


async def test_failure_notice_quotes_no_url_secret_nor_response_body(
    redis: Redis, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Oversight's notice, the records and the logs name the endpoint, never its token or body."""
    rx = receiver()
    rx.fail_next(400)
    async with serving(rx, port=free_port()) as url:
        await seed_grievance(redis)
        secret_url = url.replace("http://", "http://hook-user:hook-pass@") + "/t/PATHTOKEN?k=s3cret"
        async with running_notifier(redis, redis_url, config_for(secret_url)):
            await publish(redis, assigned_event(assignee="m-li"))
            await eventually(lambda: _count(rx, 1))
            await eventually(lambda: outcomes(redis, recipient="u-oversight", status="sent"))
    (notice,) = rx.texts("u-oversight")
    assert "HTTP 400 Bad Request from webhook endpoint 'demo' (http://127.0.0.1:" in notice
    records = [str(r) for r in await stream_payloads(redis, KEYS.dlq)]
    records += [str(r) for r in await stream_payloads(redis, KEYS.deliveries)]
    logs = capsys.readouterr().out
    assert "delivery_failed" in logs
    for leak in ("s3cret", "PATHTOKEN", "hook-pass", "scripted failure"):
        for text in (notice, rx.deliveries[0]["data"]["failed"]["error"], logs, *records):
            assert leak not in text
