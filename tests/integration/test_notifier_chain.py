"""The whole loop with the real router: what the worker reads, in order (issue 5)."""

from __future__ import annotations

from datetime import datetime

import pytest
from redis.asyncio import Redis

from tests.helpers import eventually
from tests.integration.notifier_support import config_for, receiver, running_notifier
from tests.integration.router_support import (
    act,
    events_of,
    fast_config,
    make_grievance,
    running_router,
    submit,
)
from zhitong.receiver import Receiver, serving
from zhitong.redis_server import free_port

pytestmark = pytest.mark.integration

WORKER = {"id": "w-1001", "role": "worker"}


async def _worker_texts(rx: Receiver, n: int) -> list[str]:
    texts = rx.texts("worker:w-1001")
    return texts if len(texts) >= n else []


async def _has_event(redis: Redis, gid: str, kind: str) -> bool:
    return any(e["type"] == kind for e in await events_of(redis, gid))


async def test_worker_reads_receipt_to_closure_in_chinese(redis: Redis, redis_url: str) -> None:
    """Submit → assigned → acknowledged → resolved (rating asked) → rated 5 → closed."""
    rx = receiver()
    grievance = make_grievance()
    gid, no = grievance.id, grievance.tracking_no
    async with serving(rx, port=free_port()) as url:
        config = config_for(f"{url}/hooks").model_copy(update={"sla": fast_config(60, 600).sla})
        async with (
            running_router(redis_url, config),
            running_notifier(redis, redis_url, config),
        ):
            await submit(redis, grievance)
            await eventually(lambda: _worker_texts(rx, 1))
            member = (await events_of(redis, gid))[0]["assignee"]
            actor = {"id": member, "role": "member"}
            await act(redis, gid, type="acknowledge", actor=actor)
            await eventually(lambda: _worker_texts(rx, 2))
            await act(redis, gid, type="resolve", actor=actor, resolution="已协调物业开放快递通道")
            await eventually(lambda: _worker_texts(rx, 3))
            await eventually(lambda: _has_event(redis, gid, "grievance.feedback_requested"))
            await act(redis, gid, type="feedback", actor=WORKER, rating=5, comment="谢谢")
            texts = await eventually(lambda: _worker_texts(rx, 4))
    name = {"m-wang": "党员快递员王师傅", "m-li": "党员快递员李师傅"}[member]
    receipt, acknowledged, resolved, closed = texts
    assert receipt.startswith(f"您的诉求（编号 {no}）已收到，已转交{name}，将于")
    assert receipt.endswith("前响应。请保存编号，用于查询办理进度。")
    assert acknowledged.startswith(f"您的诉求（编号 {no}）已由{name}受理，将于")
    assert resolved.startswith(
        f"您的诉求（编号 {no}）已由{name}办结。\n办理结果：已协调物业开放快递通道\n"
    )
    assert "请直接回复数字 1–5 为本次办理打分" in resolved
    assert (
        closed == f"您的诉求（编号 {no}）已结案，感谢您的评价（5 分）。如有新的困难，欢迎随时反映。"
    )
    rating_ask = next(
        d
        for d in rx.deliveries
        if d["type"] == "grievance.resolved" and d["data"]["recipient"]["id"] == "worker:w-1001"
    )
    assert rating_ask["data"]["reply_with"]["path"] == f"/v1/grievances/{gid}/actions"
    assert rating_ask["data"]["reply_with"]["body"]["type"] == "feedback"
    # The rating deadline travels with the request, machine-readable, for the app to show.
    closes_at = rating_ask["data"]["feedback_closes_at"]
    assert rating_ask["data"]["reply_with"]["until"] == closes_at
    assert datetime.fromisoformat(closes_at) > datetime.fromisoformat(rating_ask["timestamp"])
