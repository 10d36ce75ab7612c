"""The worker's side of the full chain of issue 3, in zh-CN: what they read, in order."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from services.notifier import labels
from tests.helpers import eventually
from tests.integration.notifier_support import config_for, receiver, running_notifier
from tests.integration.router_support import (
    act,
    events_of,
    make_grievance,
    member_breach_config,
    running_router,
    submit,
)
from zhitong.receiver import Receiver, serving
from zhitong.redis_server import free_port

pytestmark = pytest.mark.integration

WORKER = {"id": "w-1001", "role": "worker"}


async def _texts(rx: Receiver, n: int) -> list[str]:
    texts = rx.texts("worker:w-1001")
    return texts if len(texts) >= n else []


async def _event(redis: Redis, gid: str, kind: str, count: int = 1) -> bool:
    return sum(e["type"] == kind for e in await events_of(redis, gid)) >= count


async def test_worker_story_from_receipt_through_reopen_to_closure(
    redis: Redis, redis_url: str
) -> None:
    """No ack → branch; resolved; rated 1 → reopened at the committee; resolved; 5 → closed."""
    rx = receiver()
    grievance = make_grievance()
    gid, no = grievance.id, grievance.tracking_no
    async with serving(rx, port=free_port()) as url:
        config = config_for(f"{url}/hooks").model_copy(update={"sla": member_breach_config(1).sla})
        async with running_router(redis_url, config), running_notifier(redis, redis_url, config):
            await submit(redis, grievance)
            await eventually(lambda: _event(redis, gid, "grievance.escalated"), timeout=15)
            branch = {"id": "b-zto-east", "role": "branch"}
            await act(redis, gid, type="acknowledge", actor=branch)
            await act(redis, gid, type="resolve", actor=branch, resolution="已协调物业开放快递通道")
            await eventually(lambda: _event(redis, gid, "grievance.feedback_requested"))
            await act(redis, gid, type="feedback", actor=WORKER, rating=1, comment="还是进不去")
            await eventually(lambda: _event(redis, gid, "grievance.reopened"))
            committee = {"id": "c-express", "role": "committee"}
            await act(redis, gid, type="acknowledge", actor=committee)
            await act(
                redis,
                gid,
                type="resolve",
                actor=committee,
                resolution="联席会议协调交警与街道，已为快递车辆设置临时通道",
            )
            await eventually(lambda: _event(redis, gid, "grievance.feedback_requested", 2))
            await act(redis, gid, type="feedback", actor=WORKER, rating=5)
            texts = await eventually(lambda: _texts(rx, 8), timeout=15)
    print("\n".join(f"{i}. {t}" for i, t in enumerate(texts, 1)))
    assert all(f"编号 {no}" in t for t in texts)
    markers = ["已收到", "升级转交", "受理", "办结", "重新交由", "受理", "办结", "已结案"]
    assert len(texts) == len(markers)
    for marker, text in zip(markers, texts, strict=True):
        assert marker in text, f"expected {marker!r} in {text!r}"
    assert "请直接回复数字 1–5" in texts[3]
    # Each rating request states when rating closes, in the worker's local time.
    resolved = [e for e in await events_of(redis, gid) if e["type"] == "grievance.resolved"]
    for text, event in zip((texts[3], texts[6]), resolved, strict=True):
        assert text.endswith(f"评价截止：{labels.when('zh-CN', event['feedback_closes_at'])}。")
    assert texts[-1].endswith("如有新的困难，欢迎随时反映。")
