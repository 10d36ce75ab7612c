"""Quiet hours and rate limits on real Redis: held, then one digest, once (SPEC §7, issue 10)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from redis.asyncio import Redis

from services.notifier.app import build_app
from services.notifier.channels import Job, build_channels
from services.notifier.delivery import Dispatcher
from services.notifier.digests import DigestLoop, Pacer
from services.notifier.pacing import bucket_of, to_ms, window_frees_at
from services.notifier.retries import RetryLoop
from shared.config import Config, ContactChannel, NotifierPacing, QuietHours, RateLimit
from shared.redis.client import make_client
from shared.redis.scripts import Scripts
from shared.streams import GROUP_NOTIFIER
from tests.helpers import eventually
from tests.integration.notifier_support import (
    KEYS,
    TRACKING_NO,
    assigned_event,
    config_for,
    outcomes,
    publish,
    receiver,
    seed_grievance,
    settings,
)
from zhitong.receiver import Receiver, serving
from zhitong.redis_server import free_port

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = QuietHours(start="22:00", end="07:00", timezone="Asia/Shanghai")
WORKER = "worker:w-1001"


class Clock:
    """Return a clock the test moves by hand (the notifier judges pacing by it)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def at(hour: int, day: int = 24) -> datetime:
    """Return ``hour``:00 Shanghai time on a November 2025 day."""
    return datetime(2025, 11, day, hour, tzinfo=SHANGHAI)


def paced(url: str, **pacing: Any) -> Config:
    """Return the demo config (webhook at ``url``) with notifier pacing defaults."""
    return config_for(url).model_copy(update={"notifier": NotifierPacing(**pacing)})


@asynccontextmanager
async def notifier(
    redis: Redis, redis_url: str, config: Config, clock: Clock
) -> AsyncIterator[None]:
    """Run a notifier on ``clock`` for the block, once its group reads zt:events."""
    app = build_app(settings(redis_url), config, clock)
    async with app.router.lifespan_context(app):

        async def group_ready() -> bool:
            groups = await redis.xinfo_groups(KEYS.events)
            return any(g["name"] == GROUP_NOTIFIER.encode() for g in groups)

        await eventually(group_ready)
        yield


def refused_event(n: int) -> dict[str, Any]:
    """Return the n-th action.refused event for the worker of g1 (a repeatable refusal)."""
    return assigned_event(
        f"r{n}",
        type="action.refused",
        seq=n + 1,
        actor={"id": "w-1001", "role": "worker"},
        reason="not_allowed",
        data={"refused_action": "acknowledge"},
    )


async def all_sent(redis: Redis, n: int, **match: Any) -> list[dict[str, Any]]:
    """Return the 'sent' records matching ``match`` once there are ``n`` of them."""
    sent = await outcomes(redis, status="sent", **match)
    return sent if len(sent) >= n else []


async def webhook_digests(rx: Receiver) -> list[dict[str, Any]]:
    """Return the digests the receiver got."""
    return [d for d in rx.deliveries if d["type"] == "notification.digest"]


async def assert_every_held_job_is_in_one_sent_digest(redis: Redis) -> None:
    """Check that each held record has one 'digested' record naming a digest that was sent."""
    held = {r["delivery_id"] for r in await outcomes(redis, status="held")}
    digested = await outcomes(redis, status="digested")
    assert sorted(r["delivery_id"] for r in digested) == sorted(held)
    sent = {r["delivery_id"] for r in await outcomes(redis, status="sent")}
    assert {r["digest_id"] for r in digested} <= sent
    assert await redis.zcard(KEYS.digests) == 0
    assert await redis.keys(f"{KEYS.prefix}held*") == []


async def test_quiet_hours_hold_until_seven_then_one_digest(redis: Redis, redis_url: str) -> None:
    """Normal messages at 03:00 local are held and arrive as one digest per channel at 07:00."""
    clock = Clock(at(3))
    rx = receiver()
    async with serving(rx, port=free_port()) as url:
        await seed_grievance(redis)
        async with notifier(redis, redis_url, paced(f"{url}/hooks", quiet_hours=NIGHT), clock):
            await publish(redis, assigned_event("e1", assignee="m-li"))
            await publish(
                redis,
                assigned_event("e2", type="grievance.acknowledged", seq=2, state="acknowledged"),
            )
            # worker (log + webhook) × 2 events, 李师傅 (log) × 1
            held = await eventually(lambda: _records(redis, 5, status="held"))
            assert rx.deliveries == []
            assert {r["reason"] for r in held} == {"quiet_hours"}
            assert {r["held_until"] for r in held} == {"2025-11-23T23:00:00.000Z"}
            due = await redis.zrange(KEYS.digests, 0, -1, withscores=True)
            assert [score for _, score in due] == [to_ms(at(7))] * 3
            clock.now = at(7)
            await eventually(lambda: all_sent(redis, 3))
            await eventually(lambda: webhook_digests(rx))
    (digest,) = rx.deliveries
    assert digest["type"] == "notification.digest"
    assert digest["data"]["recipient"]["id"] == WORKER
    text = digest["data"]["text"]
    assert text.startswith("免打扰时段（22:00–07:00）内为您暂存了 2 条通知，汇总如下：")
    assert f"编号 {TRACKING_NO}" in text
    assert len(text.splitlines()) == 3
    worker_hooks = {
        r["delivery_id"]
        for r in held
        if r["recipient"] == WORKER and r["channel"] == "webhook:demo"
    }
    items = digest["data"]["digest"]["items"]
    assert {i["delivery_id"] for i in items} == worker_hooks
    assert {i["event_type"] for i in items} == {"grievance.assigned", "grievance.acknowledged"}
    await assert_every_held_job_is_in_one_sent_digest(redis)


async def test_critical_message_at_three_is_sent_at_once(redis: Redis, redis_url: str) -> None:
    """A critical grievance's message at 03:00 local goes out at once, nothing held."""
    rx = receiver()
    async with serving(rx, port=free_port()) as url:
        await seed_grievance(redis, urgency="critical")
        config = paced(f"{url}/hooks", quiet_hours=NIGHT)
        async with notifier(redis, redis_url, config, Clock(at(3))):
            await publish(redis, assigned_event(assignee="m-li"))
            await eventually(lambda: all_sent(redis, 3))
    (message,) = rx.deliveries
    assert message["type"] == "grievance.assigned"
    assert await outcomes(redis, status="held") == []
    assert await redis.zcard(KEYS.digests) == 0


async def test_fifty_refusals_in_a_minute_give_five_sends_and_one_summary(
    redis: Redis, redis_url: str
) -> None:
    """50 refused-action messages to one worker: 5 sent, then one summary counting the 45."""
    clock = Clock(at(12))
    rx = receiver()
    limit = RateLimit(max=5, window=600)
    async with serving(rx, port=free_port()) as url:
        await seed_grievance(redis)
        async with notifier(redis, redis_url, paced(f"{url}/hooks", rate_limit=limit), clock):
            for n in range(50):
                clock.now = at(12) + timedelta(seconds=n)  # all within one minute
                await publish(redis, refused_event(n))
            await eventually(lambda: _records(redis, 90, status="held"))  # 45 × (log, webhook)
            sent_early = await outcomes(redis, status="sent")
            assert len(sent_early) == 10
            assert len(rx.deliveries) == 5
            clock.now = at(12) + timedelta(minutes=11)
            await eventually(lambda: webhook_digests(rx))
            await eventually(lambda: all_sent(redis, 12))
    assert len(rx.deliveries) == 6
    summary = rx.deliveries[-1]
    assert summary["data"]["digest"]["count"] == 45
    assert summary["data"]["digest"]["reason"] == "rate_limit"
    assert summary["data"]["text"].splitlines()[0] == "您的通知较多，以下 45 条已合并为这一条："
    assert f"编号 {TRACKING_NO}（同类 45 条）" in summary["data"]["text"]
    firsts = [d["data"]["event_id"] for d in rx.deliveries[:5]]
    assert firsts == [f"r{n}" for n in range(5)]
    assert [i["event_id"] for i in summary["data"]["digest"]["items"]] == [
        f"r{n}" for n in range(5, 50)
    ]
    # The first over the limit on each channel hits it; the rest queue behind it, in order.
    reasons = [r["reason"] for r in await outcomes(redis, status="held")]
    assert (reasons.count("rate_limit"), reasons.count("digest_pending")) == (2, 88)
    await assert_every_held_job_is_in_one_sent_digest(redis)


async def test_digest_is_sent_once_with_two_replicas_and_a_crash(
    redis: Redis, redis_url: str
) -> None:
    """Two replicas cutting at once make one digest; deaths after a take or a cut send it once."""
    rx = receiver()
    async with serving(rx, port=free_port()) as url:
        config = paced(f"{url}/hooks", quiet_hours=NIGHT)
        notifier_settings = settings(redis_url)
        clock = Clock(at(3))
        a, b = make_client(redis_url), make_client(redis_url)
        async with httpx.AsyncClient() as http:
            channels = build_channels(config, http)
            pacers = [Pacer(c, notifier_settings, config, clock) for c in (a, b)]
            one, two = (
                Dispatcher(c, notifier_settings, config, channels, pacer=p)
                for c, p in zip((a, b), pacers, strict=True)
            )
            loops = [
                DigestLoop(p, notifier_settings, d.attempt_many, d.lease_ms)
                for p, d in zip(pacers, (one, two), strict=True)
            ]
            jobs = [_job(f"e{n}") for n in range(3)]
            for job in jobs:
                assert await one.claim(job)
            await one.attempt_many(jobs)
            assert len(await outcomes(redis, status="held")) == 3
            clock.now = at(7)
            bucket = bucket_of(jobs[0])
            cut = await asyncio.gather(*(p.cut(bucket, one.lease_ms) for p in pacers))
            (digest,) = [d for d in cut if d is not None]
            await asyncio.gather(one.attempt_many([digest]), *(loop.run_due() for loop in loops))
            assert len(rx.deliveries) == 1
            # Next night: the replica that cuts dies before sending; the retry loop sends it.
            clock.now = at(3, day=25)
            later = [_job(f"n{n}") for n in range(2)]
            for job in later:
                assert await two.claim(job)
            await two.attempt_many(later)
            clock.now = at(7, day=25)
            assert await pacers[0].take_due(10, 1000) == [bucket]  # ... and this replica dies
            assert await loops[1].run_due() == 0  # leased to the dead one for 1 s
            clock.now += timedelta(seconds=1)
            assert await pacers[1].cut(bucket, 50) is not None  # ... and this one dies too
            assert await asyncio.gather(*(loop.run_due() for loop in loops)) == [0, 0]
            await eventually(RetryLoop(a, notifier_settings, one).run_due)  # after the lease
        await a.aclose()
        await b.aclose()
    assert rx.requests == 2
    counts = [d["data"]["digest"]["count"] for d in rx.deliveries]
    assert counts == [3, 2]
    await assert_every_held_job_is_in_one_sent_digest(redis)


@pytest.mark.parametrize(
    "sent", [[], [1000], [1000, 2000, 3000], [0, 1000, 2000, 3000], [500, 1500, 2500, 9000]]
)
async def test_hold_script_rate_rule_matches_the_python_rule(redis: Redis, sent: list[int]) -> None:
    """notify_hold.lua holds exactly when window_frees_at says full, until the same instant."""
    now, limit, window = 9500, 3, 9000
    job = _job("e1")
    bucket = bucket_of(job)
    delivery = KEYS.delivery(job.event_id, job.recipient, job.channel_label)
    await redis.set(delivery, "sending")
    if sent:
        await redis.zadd(KEYS.sent_log(bucket), {f"s{t}": t for t in sent})
    keys = [
        delivery,
        KEYS.retries,
        KEYS.retry_job(job.job_id),
        KEYS.held(bucket),
        KEYS.held_jobs(bucket),
        KEYS.digests,
        KEYS.sent_log(bucket),
        KEYS.deliveries,
    ]
    args = [
        job.job_id,
        job.model_dump_json(),
        now,
        0,
        1,
        limit,
        window,
        1,
        bucket,
        '{"status": "held"}',
        60,
        1000,
    ]
    result = await Scripts(redis).call("notify_hold", keys, args)
    frees = window_frees_at(sent, now, limit, window)
    if frees is None:
        assert result == b"send"
    else:
        assert result == b"rate_limit"
        assert await redis.zscore(KEYS.digests, bucket) == frees


def _job(event_id: str) -> Job:
    return Job(
        job_id=f"msg_{event_id}",
        event_id=event_id,
        grievance_id="g1",
        event_type="grievance.assigned",
        tracking_no=TRACKING_NO,
        recipient=WORKER,
        audience="worker",
        channel=ContactChannel(type="webhook", endpoint="demo"),
        channel_label="webhook:demo",
        locale="zh-CN",
        text=f"消息 {event_id}",
        urgency="normal",
    )


async def _records(redis: Redis, n: int, **match: Any) -> list[dict[str, Any]]:
    found = await outcomes(redis, **match)
    return found if len(found) >= n else []
