"""Part 1, end to end: XADD on zt:intake to a sent delivery, at saturation and paced."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from zhitong.bench.common import (
    DESCRIPTION,
    KEYS,
    WORKER,
    log_only_config,
    start_redis,
    start_service,
    stop,
    used_memory,
)
from zhitong.bench.report import Profile, Row, entry_ms, fmt, percentile


def intake_fields(worker_id: str) -> dict[str, str]:
    body = {"worker": {"id": worker_id, **WORKER}, "description": DESCRIPTION, "source": "bench"}
    return {"payload": json.dumps(body, ensure_ascii=False)}


async def wait_groups(client: Redis, streams: Sequence[str], within_s: float = 20) -> None:
    """Wait until every service created its consumer group (created at ``$``: later entries)."""
    deadline = time.monotonic() + within_s
    for stream in streams:
        while True:
            try:
                if await client.xinfo_groups(stream):
                    break
            except Exception:  # noqa: S110 - the stream does not exist yet
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no consumer group on {stream}")
            await asyncio.sleep(0.05)


async def sent_deliveries(
    client: Redis, since: str, wanted: int, within_s: float
) -> list[tuple[int, dict[str, Any]]]:
    """Wait for ``wanted`` sent deliveries after entry ``since``; return (ms, record) pairs."""
    deadline = time.monotonic() + within_s
    found: list[tuple[int, dict[str, Any]]] = []
    last = since
    while len(found) < wanted and time.monotonic() < deadline:
        chunk = await client.xrange(KEYS.deliveries, min=f"({last}", count=10_000)
        if not chunk:
            await asyncio.sleep(0.1)
            continue
        for entry_id, fields in chunk:
            record = json.loads(fields[b"payload"])
            if record.get("status") == "sent":
                found.append((entry_ms(entry_id), record))
        last = chunk[-1][0].decode()
    return found


def latencies(
    sent_at: dict[str, int], deliveries: Sequence[tuple[int, dict[str, Any]]]
) -> list[int]:
    """Return ms from each grievance's XADD to its last delivery (worker and assignee)."""
    worker_of: dict[str, str] = {}
    last: dict[str, int] = {}
    for ms, record in deliveries:
        gid = record["grievance_id"]
        last[gid] = max(last.get(gid, 0), ms)
        recipient = record["recipient"]
        if recipient.startswith("worker:"):
            worker_of[gid] = recipient.removeprefix("worker:")
    return [last[g] - sent_at[w] for g, w in worker_of.items() if w in sent_at]


async def last_entry_ms(client: Redis, stream: str) -> int:
    entries = await client.xrevrange(stream, count=1)
    return entry_ms(entries[0][0]) if entries else 0


async def bench_end_to_end(scratch: Path, profile: Profile) -> list[Row]:
    server = start_redis(scratch, "redis-e2e")
    config = log_only_config(scratch)
    procs: list[subprocess.Popen[bytes]] = []
    client = Redis.from_url(server.url)
    try:
        for name in ("intake", "router", "notifier"):
            procs.append(start_service(name, server.url, config, scratch)[0])
        await wait_groups(client, [KEYS.intake, KEYS.submitted, KEYS.events])
        rows = await _saturation(client, profile.e2e_grievances)
        rows += await _paced(client, profile.paced_s)
        return rows
    finally:
        stop(procs)
        await client.aclose()
        server.stop()


async def _saturation(client: Redis, count: int) -> list[Row]:
    before = await used_memory(client)
    mark = (await client.xrevrange(KEYS.deliveries, count=1) or [(b"0-0", {})])[0][0].decode()
    sent_at: dict[str, int] = {}
    for start in range(0, count, 500):
        async with client.pipeline(transaction=False) as pipe:
            ids = [f"s-{i}" for i in range(start, min(count, start + 500))]
            for worker_id in ids:
                pipe.xadd(KEYS.intake, intake_fields(worker_id))
            for worker_id, entry_id in zip(ids, await pipe.execute(), strict=True):
                sent_at[worker_id] = entry_ms(entry_id)
    deliveries = await sent_deliveries(client, mark, 2 * count, within_s=60 + count / 200)
    first = min(sent_at.values())
    done = max(ms for ms, _ in deliveries) if deliveries else first
    lat = latencies(sent_at, deliveries)
    span = max(done - first, 1) / 1000
    stages = {s: await last_entry_ms(client, s) for s in (KEYS.submitted, KEYS.events)}
    per_grievance = (await used_memory(client) - before) / count
    return [
        Row(
            "end to end",
            f"saturation: {count:,} XADDed at once, all delivered",
            fmt(len(lat) / span, "/s"),
            "≥ 5,000/s",
            len(lat) / span >= 5000,
        ),
        Row(
            "end to end",
            "saturation: intake done (zt:submitted)",
            fmt(count / max(stages[KEYS.submitted] - first, 1) * 1000, "/s"),
        ),
        Row(
            "end to end",
            "saturation: router done (zt:events)",
            fmt(count / max(stages[KEYS.events] - first, 1) * 1000, "/s"),
        ),
        Row(
            "end to end",
            "saturation: latency p50 / p99",
            f"{fmt(percentile(lat, 50), ' ms')} / {fmt(percentile(lat, 99), ' ms')}",
        ),
        Row(
            "memory",
            "whole Redis per grievance after the flow (records + 4 streams, untrimmed)",
            fmt(per_grievance, " B"),
            "≤ 2 KB",
            per_grievance <= 2048,
        ),
    ]


async def _paced(client: Redis, seconds: int, rate: int = 1000) -> list[Row]:
    """Offer ``rate`` grievances/s for ``seconds`` (10 every 10 ms) and measure latency."""
    await asyncio.sleep(1)
    mark = (await client.xrevrange(KEYS.deliveries, count=1) or [(b"0-0", {})])[0][0].decode()
    sent_at: dict[str, int] = {}
    tick, per_tick = 0.01, rate // 100
    began = time.monotonic()
    for n in range(seconds * 100):
        await asyncio.sleep(max(0.0, began + n * tick - time.monotonic()))
        async with client.pipeline(transaction=False) as pipe:
            ids = [f"p-{n * per_tick + i}" for i in range(per_tick)]
            for worker_id in ids:
                pipe.xadd(KEYS.intake, intake_fields(worker_id))
            for worker_id, entry_id in zip(ids, await pipe.execute(), strict=True):
                sent_at[worker_id] = entry_ms(entry_id)
    offered = len(sent_at) / (time.monotonic() - began)
    deliveries = await sent_deliveries(client, mark, 2 * len(sent_at), within_s=60)
    lat = latencies(sent_at, deliveries)
    p99 = percentile(lat, 99)
    return [
        Row(
            "end to end",
            f"{offered:,.0f}/s offered for {seconds} s: latency p50",
            fmt(percentile(lat, 50), " ms"),
        ),
        Row(
            "end to end",
            f"{offered:,.0f}/s offered: latency p99 (XADD → delivery sent)",
            fmt(p99, " ms"),
            "≤ 100 ms",
            p99 <= 100,
        ),
        Row(
            "end to end",
            f"{offered:,.0f}/s offered: delivered",
            f"{len(lat):,} of {len(sent_at):,}",
        ),
    ]
