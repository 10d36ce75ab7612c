"""Part 4, KPIs: ``GET /v1/stats``'s read over 100,000 stored grievances, and what keeping
the counters adds to each router commit.

Run alone: ``python -m zhitong.bench.stats [--quick]``.

* **read** — 100,000 grievances (a year of submissions, 200 members under 20 branches and
  4 committees, states, breaches, ratings and reopens in plausible shares) are written as
  hashes and indexes, and ``rebuild_counters`` counts them as ``zhitong reindex`` would;
  then ``shared.stats.compute`` (what the endpoint, CLI and console call) is timed all-time
  and over 30- and 365-day windows, beside the from-scratch recount it replaces;
* **commit** — grievances go through intake's ``accept`` and the router's real engine
  (assign, acknowledge, resolve, rate), once with the KPI writes and once without; the ops
  per commit and Redis's own time per ``commit_many.lua`` call (``INFO commandstats``) compare.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

from redis.asyncio import Redis

from services.router.engine import Engine
from shared import kpi
from shared.events import Action, Actor
from shared.redis.scripts import Scripts
from shared.stats import compute, load_records, rebuild_counters, summarise
from shared.store import accept, body_hash
from zhitong.bench.common import KEYS, start_redis
from zhitong.bench.report import FULL, QUICK, Profile, Row, fmt, format_table, percentile
from zhitong.bench.timers import _long_sla_config, bench_grievance

STORED = 100_000
DAYS = 365
HOUR, DAY = 3_600_000, 86_400_000


def _units(rng: random.Random) -> Iterator[tuple[str, str, str]]:
    """Yield (member, branch, committee) of a 4 × 5 × 10 directory, at random, forever."""
    while True:
        c, b, m = rng.randrange(4), rng.randrange(5), rng.randrange(10)
        yield f"m-{c}-{b}-{m}", f"b-{c}-{b}", f"c-{c}"


def synthetic_record(
    rng: random.Random, start_ms: int, units: Iterator[tuple[str, str, str]]
) -> dict[str, str]:
    """Return one stored grievance's fields as the lifecycle leaves them (plausible shares)."""
    member, branch, committee = next(units)
    submitted = start_ms + rng.randrange(DAYS * DAY)
    rec: dict[str, str] = {"submitted_at": str(submitted), "c3u": committee, "c3k": "committee"}
    rec["c2k"] = "fallback" if rng.random() < 0.03 else "branch"
    breached = rng.random() < 0.12
    holder, tier = (branch, "2") if breached else (member, "1")
    rec |= {"assignee": holder, "tier": tier, "breaches": "1" if breached else "0"}
    fate = rng.random()
    if fate < 0.03:
        rec |= {"state": "closed", "duplicate_of": "g-original"}
        return rec
    if fate < 0.08:
        rec["state"] = "withdrawn"
        return rec
    if fate < 0.18:
        rec["state"] = "assigned"
        rec["overdue"] = "1" if breached and rng.random() < 0.3 else "0"
        return rec
    ack_s = min(rng.lognormvariate(8.0, 1.2), 20 * 86400)  # median ~50 min
    rec |= {
        "first_acked_at": str(submitted + int(ack_s * 1000)),
        "ack_in_sla": "1" if ack_s <= 4 * 3600 else "0",
        "ack_unit": holder,
        "ack_tier": tier,
    }
    if fate < 0.3:
        rec["state"] = "acknowledged"
        return rec
    resolve_s = ack_s + min(rng.lognormvariate(11.5, 1.0), 60 * 86400)  # median ~1.1 d
    rec |= {
        "resolved_at": str(submitted + int(resolve_s * 1000)),
        "resolved_unit": holder,
        "resolved_tier": tier,
        "state": "resolved" if fate < 0.36 else "closed",
    }
    if rec["state"] == "closed" and rng.random() < 0.7:
        rating = rng.choices([1, 2, 3, 4, 5], weights=[5, 5, 10, 30, 50])[0]
        rec["rating"] = str(rating)
        if rating <= 2 and rng.random() < 0.5:  # reopened to the next tier, still open
            rec |= {"state": "assigned", "assignee": committee, "tier": "3"}
    return rec


async def _store(client: Redis, n: int, today: date) -> None:
    """Write ``n`` synthetic grievances (hashes + open/ended indexes) in pipelines."""
    rng = random.Random(13)  # noqa: S311 - reproducible fixtures, not secrets
    start = int(
        datetime.combine(today - timedelta(days=DAYS - 1), datetime.min.time(), UTC).timestamp()
        * 1000
    )
    units = _units(rng)
    for first in range(0, n, 5_000):
        async with client.pipeline(transaction=False) as pipe:
            for i in range(first, min(n, first + 5_000)):
                rec = synthetic_record(rng, start, units)
                gid = f"g-{i:06d}"
                pipe.hset(KEYS.grievance(gid), mapping=rec)
                ended = rec["state"] in {"closed", "withdrawn"}
                index = KEYS.ended_index if ended else KEYS.open_index
                pipe.zadd(index, {gid: int(rec["submitted_at"])})
            await pipe.execute()


async def _timed(
    client: Redis, call: Callable[[], Awaitable[Any]], runs: int
) -> tuple[list[float], float, float]:
    """Return the wall-clock ms of ``runs`` calls (after one warm-up), and the CPU ms per
    call of this process and of Redis (what the wall time is on an idle machine)."""
    await call()
    await client.config_resetstat()
    times = []
    cpu = time.process_time()
    for _ in range(runs):
        t0 = time.perf_counter()
        await call()
        times.append((time.perf_counter() - t0) * 1000)
    cpu_ms = (time.process_time() - cpu) * 1000 / runs
    stats = await client.info("commandstats")
    redis_us = sum(float(v.get("usec", 0)) for k, v in stats.items() if k != "cmdstat_info")
    return times, cpu_ms, redis_us / 1000 / runs


async def _read_rows(client: Redis, stored: int, runs: int) -> list[Row]:
    today = datetime.now(UTC).date()
    await _store(client, stored, today)
    t0 = time.perf_counter()
    counted = await rebuild_counters(client, KEYS)
    rebuild_s = time.perf_counter() - t0
    rows = [
        Row(
            "stats",
            f"rebuild_counters over {counted:,} stored (zhitong reindex)",
            fmt(rebuild_s, " s", 1),
        )
    ]
    windows: dict[str, dict[str, date]] = {
        "all time": {},
        "last 7 days": {"since": today - timedelta(days=6)},
        "last 30 days": {"since": today - timedelta(days=29)},
        "last 365 days": {"since": today - timedelta(days=364)},
    }
    for label, span in windows.items():
        times, cpu_ms, redis_ms = await _timed(client, partial(compute, client, KEYS, **span), runs)
        p50, p99 = percentile(times, 50), percentile(times, 99)
        target = "< 50 ms" if label == "all time" else ""
        rows.append(
            Row(
                "stats",
                f"compute, {label}, {stored:,} stored: wall p50 / p99 of {runs} "
                "(CPU per call: this process + Redis)",
                f"{fmt(p50, ' ms', 1)} / {fmt(p99, ' ms', 1)} "
                f"({fmt(cpu_ms, ' ms', 1)} + {fmt(redis_ms, ' ms', 1)})",
                target,
                p50 < 50 if target else None,
            )
        )
    t0 = time.perf_counter()
    summarise((await load_records(client, KEYS)).values())
    scratch_s = time.perf_counter() - t0
    rows.append(
        Row(
            "stats",
            "… the from-scratch recount it replaces (read + sum)",
            fmt(scratch_s * 1000, " ms"),
        )
    )
    memory, day_fields = 0, []
    async for key in client.scan_iter(match=KEYS.kpi_pattern, count=1000):
        memory += await client.memory_usage(key) or 0
        if key != KEYS.kpi_all.encode():
            day_fields.append(await client.hlen(key))
    fields = f"{await client.hlen(KEYS.kpi_all):,} / {statistics.mean(day_fields):,.0f}"
    rows.append(Row("stats", "counter fields: all-time hash / a day's hash (mean)", fields))
    rows.append(Row("stats", "Redis memory of every counter hash", fmt(memory / 1e6, " MB", 1)))
    return rows


async def _lifecycles(client: Redis, n: int) -> tuple[int, float]:
    """Run ``n`` grievances through accept, assign, ack, resolve and a rating of 5; return the
    commit_many.lua calls and Redis's µs per call."""
    await client.flushall()
    await client.config_resetstat()
    engine, scripts = Engine(client, KEYS, _long_sla_config()), Scripts(client)
    grievances = [bench_grievance(i) for i in range(n)]
    for grievance in grievances:
        await accept(client, scripts, KEYS, grievance, idempotency_key=None, digest=body_hash({}))
    await engine.assign(grievances)
    steps: tuple[dict[str, Any], ...] = (
        {"type": "acknowledge"},
        {"type": "resolve", "resolution": "ok"},
        {"type": "feedback", "rating": 5},
    )
    for step, body in enumerate(steps):
        for g in grievances:
            record = await client.hgetall(KEYS.grievance(g.id))
            unit = record[b"assignee"].decode()
            who = (g.worker.id, "worker") if step == 2 else (unit, "member")
            actor = Actor(id=who[0], role=who[1])
            action = Action.model_validate(
                {"action_id": f"{g.id}-{step}", "grievance_id": g.id, "actor": actor, **body}
            )
            await engine.act(action)
    stats = await client.info("commandstats")
    evalsha = stats.get("cmdstat_evalsha", {})
    return int(evalsha.get("calls", 0)), float(evalsha.get("usec_per_call", 0.0))


async def _commit_rows(client: Redis, n: int) -> list[Row]:
    kpi_ops: list[int] = []
    real = kpi.kpi_writes

    def counting(*args: Any) -> list[tuple[str, str, list[str]]]:
        writes = real(*args)
        kpi_ops.append(len(writes))
        return writes

    with mock.patch("shared.readside.kpi_writes", counting):
        calls, with_us = await _lifecycles(client, n)
    with mock.patch("shared.readside.kpi_writes", return_value=[]):
        _calls, without_us = await _lifecycles(client, n)
    changes = [k for k in kpi_ops if k]
    sample = {"state": "assigned", "tier": "1", "assignee": "m-wang"}
    sample["submitted_at"] = "1714554000000"
    acked = sample | {
        "state": "acknowledged",
        "first_acked_at": "1714554060000",
        "ack_in_sla": "1",
        "ack_unit": "m-wang",
        "ack_tier": "1",
    }
    t0 = time.process_time()  # CPU, not wall time: other processes share the cores
    for _ in range(10_000):
        kpi.kpi_writes(KEYS, sample, acked)
    python_us = (time.process_time() - t0) / 10_000 * 1e6
    return [
        Row(
            "stats",
            f"KPI HINCRBYs per grievance change, {n:,} lifecycles: mean / max",
            f"{statistics.mean(changes):.1f} / {max(changes)}",
        ),
        Row(
            "stats",
            "commit_many.lua (a batch of one) in Redis with / without the counters (µs per call)",
            f"{with_us:.1f} / {without_us:.1f} ({calls:,} calls)",
        ),
        Row("stats", "kpi_writes for an acknowledgement: router CPU", fmt(python_us, " µs", 1)),
    ]


async def bench_stats(scratch: Path, profile: Profile) -> list[Row]:
    """Return the KPI rows: reads over stored grievances, the cost added to commits."""
    server = start_redis(scratch, "redis-stats")
    client = Redis.from_url(server.url)
    try:
        quick = profile is QUICK
        rows = await _read_rows(client, 10_000 if quick else STORED, 20 if quick else 100)
        rows += await _commit_rows(client, 200 if quick else 2_000)
    finally:
        await client.aclose()
        server.stop()
    return rows


def main() -> None:
    """Run only this part and print its table."""
    parser = argparse.ArgumentParser(prog="python -m zhitong.bench.stats", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 stored, 200 lifecycles")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="zhitong-bench-stats-"))
    try:
        rows = asyncio.run(bench_stats(scratch, QUICK if args.quick else FULL))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(format_table(rows), file=sys.stdout)


if __name__ == "__main__":
    main()
