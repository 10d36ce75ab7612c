"""Benchmarks (issue 6): end to end, HTTP intake, SLA timers beside arq, Redis memory.

Run ``python -m zhitong.bench`` (full, a few minutes) or ``--quick`` (under a minute). Every
part starts its own private ``redis-server`` (AOF ``everysec``, as deployed) in a scratch
directory and prints one table at the end; docs/BENCHMARKS.md records a run and what it
means. Nothing here is a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from redis.asyncio import Redis

from services.router.engine import Engine
from shared.config import Config
from shared.events import Category, Classification, Grievance, Urgency, Worker
from shared.ids import new_grievance_id, tracking_no
from shared.streams import Keys
from zhitong.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parent.parent
KEYS = Keys()
AUTH = "Bearer zt-demo-key"
WORKER = {"industry": "express_delivery", "platform": "中通", "region": "城东区"}
DESCRIPTION = "小区物业禁止快递员进入，进不了小区送件，每天要多走两公里"


# --- pure helpers -------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Return the nearest-rank ``q``-th percentile of ``values`` (nan when empty)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the results table: a figure, its target and whether it was met."""

    part: str
    measure: str
    value: str
    target: str = ""
    met: bool | None = None


def format_table(rows: Sequence[Row]) -> str:
    """Return ``rows`` as a Markdown table (pasted as is into docs/BENCHMARKS.md)."""
    mark = {True: "met", False: "**missed**", None: ""}
    lines = ["| part | measure | value | target | |", "|---|---|---|---|---|"]
    lines += [f"| {r.part} | {r.measure} | {r.value} | {r.target} | {mark[r.met]} |" for r in rows]
    return "\n".join(lines)


def fmt(value: float, unit: str = "", digits: int = 0) -> str:
    """Return ``value`` with thousands separators and a unit (``n/a`` for nan)."""
    if math.isnan(value):
        return "n/a"
    return f"{value:,.{digits}f}{unit}"


@dataclass(frozen=True, slots=True)
class Profile:
    """Sizes of one run (``--quick`` or full)."""

    e2e_grievances: int
    paced_s: int
    http_s: int
    timer_pending: int
    timer_due: int
    arq_jobs: int


QUICK = Profile(
    e2e_grievances=2_000,
    paced_s=3,
    http_s=4,
    timer_pending=100_000,
    timer_due=10_000,
    arq_jobs=2_000,
)
FULL = Profile(
    e2e_grievances=20_000,
    paced_s=10,
    http_s=15,
    timer_pending=1_000_000,
    timer_due=100_000,
    arq_jobs=20_000,
)


def entry_ms(entry_id: bytes | str) -> int:
    """Return the Redis-clock milliseconds in a stream entry id."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


# --- processes ----------------------------------------------------------------------------


def start_redis(scratch: Path, name: str) -> RedisServer:
    return RedisServer(scratch / name).start()


def log_only_config(scratch: Path) -> Path:
    """Write the demo config without webhook channels (no receiver needed) and return it."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items()}
        if isinstance(node, list):
            return [
                strip(v) for v in node if not (isinstance(v, dict) and v.get("type") == "webhook")
            ]
        return node

    raw = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    path = scratch / "bench.yaml"
    path.write_text(yaml.safe_dump(strip(raw), allow_unicode=True), encoding="utf-8")
    return path


def start_service(
    name: str, redis_url: str, config: Path, scratch: Path
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``python -m services.<name>`` and return it with its port once /readyz is 200."""
    port = free_port()
    env = {
        **os.environ,
        "ZHITONG_REDIS_URL": redis_url,
        "ZHITONG_CONFIG": str(config),
        "ZHITONG_HTTP_PORT": str(port),
        "ZHITONG_CONSUMER_NAME": f"bench-{name}",
    }
    log = (scratch / f"{name}.log").open("ab")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module name
        [sys.executable, "-m", f"services.{name}"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {scratch}/{name}.log")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=0.5).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{name} not ready in 30 s")


def stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


async def used_memory(client: Redis) -> int:
    info = await client.info("memory")
    return int(info["used_memory"])


# --- 1. end to end ------------------------------------------------------------------------


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


# --- 2. HTTP intake -----------------------------------------------------------------------

WRK_SCRIPT = """wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "{auth}"
"""


async def bench_http(scratch: Path, profile: Profile, connections: int = 32) -> list[Row]:
    server = start_redis(scratch, "redis-http")
    body = json.dumps(
        {"worker": {"id": "w-http", **WORKER}, "description": DESCRIPTION}, ensure_ascii=False
    )
    proc, port = start_service("intake", server.url, log_only_config(scratch), scratch)
    url = f"http://127.0.0.1:{port}/v1/grievances"
    try:
        if shutil.which("wrk"):
            tool, rate, p50, p99, errors = _wrk(scratch, url, body, profile.http_s, connections)
        else:
            tool, rate, p50, p99, errors = await _httpx_load(url, body, profile.http_s, connections)
    finally:
        stop([proc])
        server.stop()
    return [
        Row(
            "HTTP intake",
            f"POST /v1/grievances, {tool}, {connections} connections",
            fmt(rate, " req/s"),
            "≥ 1,500 req/s",
            rate >= 1500 and errors == 0,
        ),
        Row("HTTP intake", "latency p50 / p99", f"{fmt(p50, ' ms', 1)} / {fmt(p99, ' ms', 1)}"),
        Row("HTTP intake", "non-202 responses or errors", f"{errors:,}"),
    ]


def _wrk(
    scratch: Path, url: str, body: str, seconds: int, conns: int
) -> tuple[str, float, float, float, int]:
    script = scratch / "post.lua"
    script.write_text(WRK_SCRIPT.format(body=body, auth=AUTH), encoding="utf-8")
    out = subprocess.run(  # noqa: S603 - fixed arguments, loopback URL
        [
            shutil.which("wrk") or "wrk",
            "-t1",
            f"-c{conns}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, errs.groups())) if errs else 0)
    return "wrk -t1", rate, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"), errors


def _wrk_ms(out: str, label: str) -> float:
    match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
    if match is None:
        return math.nan
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
    return float(match.group(1)) * scale


async def _httpx_load(
    url: str, body: str, seconds: int, conns: int
) -> tuple[str, float, float, float, int]:
    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=conns)
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    async with httpx.AsyncClient(limits=limits, headers=headers) as http:
        end = time.monotonic() + seconds

        async def user() -> None:
            nonlocal errors
            while time.monotonic() < end:
                t0 = time.perf_counter()
                reply = await http.post(url, content=body.encode())
                lat.append((time.perf_counter() - t0) * 1000)
                errors += reply.status_code != 202

        began = time.monotonic()
        await asyncio.gather(*(user() for _ in range(conns)))
    rate = len(lat) / (time.monotonic() - began)
    return "httpx async", rate, percentile(lat, 50), percentile(lat, 99), errors


# --- 3. timers ----------------------------------------------------------------------------


def bench_grievance(n: int) -> Grievance:
    now = datetime.now(UTC)
    return Grievance(
        id=new_grievance_id(),
        tracking_no=tracking_no(now),
        source="bench",
        channel="stream",
        submitted_at=now,
        worker=Worker(id=f"t-{n}", **WORKER),
        category=Category.ROAD_ACCESS,
        urgency=Urgency.NORMAL,
        description=DESCRIPTION,
        classification=Classification(category_reason="given", urgency_reason="given"),
    )


async def redis_ms(client: Redis) -> int:
    seconds, micros = await client.time()
    return int(seconds) * 1000 + int(micros) // 1000


@dataclass(slots=True)
class Drain:
    """What the pollers saw: lateness of each fired timer and when the last fired."""

    lateness: list[int]
    stale: int = 0
    last_ms: float = 0.0
    calls: int = 0


async def pollers(
    engine: Engine,
    stop_when: Callable[[Drain], bool],
    count: int = 3,
    batch: int = 100,
    idle_s: float = 0.05,
) -> Drain:
    """Run ``count`` pollers the way TimerPoller does until ``stop_when`` says so."""
    drain = Drain(lateness=[])

    async def poll() -> None:
        while not stop_when(drain):
            result = await engine.fire_due(batch)
            drain.calls += 1
            drain.stale += result.stale
            if result.fired:
                drain.lateness.extend(result.lateness_ms)
                drain.last_ms = time.time() * 1000
            if result.fired + result.stale < batch:
                await asyncio.sleep(idle_s * (0.5 + random.random()))  # noqa: S311

    await asyncio.gather(*(poll() for _ in range(count)))
    return drain


async def pinger(client: Redis, done: asyncio.Event) -> list[float]:
    """Return round-trip ms of a PING every 1 ms: what other clients feel during a drain."""
    rtts: list[float] = []
    while not done.is_set():
        t0 = time.perf_counter()
        await client.ping()
        rtts.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.001)
    return rtts


async def bench_timers(
    scratch: Path, profile: Profile
) -> tuple[list[Row], Redis, RedisServer, float]:
    """Return the timer rows, the still-running Redis (for the arq peer) and fired/s."""
    server = start_redis(scratch, "redis-timers")
    client = Redis.from_url(server.url, max_connections=32)
    engine = Engine(client, KEYS, _long_sla_config())
    due_n = profile.timer_due
    base = await used_memory(client)
    gids: list[str] = []
    for start in range(0, due_n, 1000):
        batch = [bench_grievance(i) for i in range(start, min(due_n, start + 1000))]
        await engine.assign(batch)
        gids += [g.id for g in batch]
    per_grievance = (await used_memory(client) - base) / due_n
    fillers = profile.timer_pending - await client.zcard(KEYS.timers)
    base = await used_memory(client)
    far = await redis_ms(client) + 30 * 86_400_000
    for start in range(0, fillers, 10_000):
        async with client.pipeline(transaction=False) as pipe:
            for i in range(start, min(fillers, start + 10_000)):
                # Shaped like real members (ULID|kind|gen) but with no grievance behind them.
                pipe.zadd(KEYS.timers, {f"{new_grievance_id()}|res|1": far + i})
            await pipe.execute()
    per_timer = (await used_memory(client) - base) / max(fillers, 1)
    pending = await client.zcard(KEYS.timers)
    rows = [
        Row(
            "memory",
            "Redis per open grievance (router state: hash, timeline, 4 timers, index, event)",
            fmt(per_grievance, " B"),
            "≤ 2 KB",
            per_grievance <= 2048,
        ),
        Row(
            "memory",
            "Redis per pending timer (sorted-set member)",
            fmt(per_timer, " B"),
            "≤ 150 B",
            per_timer <= 150,
        ),
    ]
    burst_rows, fired_rate = await _burst(client, engine, gids, pending)
    rows += burst_rows
    rows += await _timers_paced(client, engine, gids, profile.paced_s)
    return rows, client, server, fired_rate


def _long_sla_config() -> Config:
    """Return the demo config: its SLAs are hours long, so nothing falls due by itself."""
    from shared.config import load_config  # noqa: PLC0415 - keeps the module import light

    return load_config(ROOT / "config" / "demo.yaml")


async def _move(client: Redis, members: Sequence[str], scores: Callable[[int], int]) -> None:
    """Re-score existing timer ``members`` to ``scores(i)`` (ZADD XX: never create one)."""
    for start in range(0, len(members), 10_000):
        async with client.pipeline(transaction=False) as pipe:
            for i, member in enumerate(members[start : start + 10_000], start):
                pipe.zadd(KEYS.timers, {member: scores(i)}, xx=True)
            await pipe.execute()


async def _burst(
    client: Redis, engine: Engine, gids: Sequence[str], pending: int
) -> tuple[list[Row], float]:
    """Make every grievance's tier-1 ack timer due at one instant and drain with 3 pollers."""
    due_at = await redis_ms(client) + 2000 + len(gids) // 20
    moved = len(gids)
    await _move(client, [f"{g}|ack|1" for g in gids], lambda _i: due_at)
    await client.slowlog_reset()
    await client.config_set("slowlog-log-slower-than", 0)
    await client.config_set("slowlog-max-len", 100_000)
    done = asyncio.Event()
    ping_client = Redis.from_url(_url_of(client))
    ping_task = asyncio.create_task(pinger(ping_client, done))
    drain = await pollers(engine, lambda d: len(d.lateness) + d.stale >= moved)
    done.set()
    rtts = await ping_task
    await ping_client.aclose()
    calls = [
        e["duration"] / 1000
        for e in await client.slowlog_get(100_000)
        if e["command"].startswith(b"EVALSHA")
    ]
    await client.config_set("slowlog-log-slower-than", 10_000)
    span = max(drain.last_ms - due_at, 1) / 1000
    rate = len(drain.lateness) / span
    p99 = percentile(drain.lateness, 99)
    worst = max(calls, default=math.nan)
    return [
        Row(
            "timers",
            f"{moved:,} due at once among {pending:,} pending, 3 pollers × batch 100: fired/s",
            fmt(rate, "/s"),
            "≥ 40,000/s",
            rate >= 40_000,
        ),
        Row("timers", "… fired with effect / stale", f"{len(drain.lateness):,} / {drain.stale:,}"),
        Row("timers", "… lateness p50", fmt(percentile(drain.lateness, 50), " ms")),
        Row("timers", "… lateness p99", fmt(p99, " ms"), "≤ 2,500 ms", p99 <= 2500),
        Row(
            "timers",
            "… fire_timers call: mean / max (SLOWLOG)",
            f"{fmt(sum(calls) / max(len(calls), 1), ' ms', 2)} / {fmt(worst, ' ms', 2)}",
            "max ≤ 5 ms",
            worst <= 5,
        ),
        Row(
            "timers",
            "… another client's PING round trip p99 / max during the drain",
            f"{fmt(percentile(rtts, 99), ' ms', 1)} / {fmt(max(rtts, default=math.nan), ' ms', 1)}",
        ),
    ], rate


def _url_of(client: Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}"


async def _timers_paced(
    client: Redis, engine: Engine, gids: Sequence[str], seconds: int, rate: int = 1000
) -> list[Row]:
    """Spread the tier-2 ack timers (set by the escalations) at ``rate`` per second."""
    start = await redis_ms(client) + 1000
    members = [f"{g}|ack|2" for g in gids[: seconds * rate]]
    await _move(client, members, lambda i: start + i * 1000 // rate)
    drain = await pollers(engine, lambda d: len(d.lateness) + d.stale >= len(members))
    p99 = percentile(drain.lateness, 99)
    return [
        Row(
            "timers",
            f"{rate:,} due per second for {seconds} s: lateness p50",
            fmt(percentile(drain.lateness, 50), " ms"),
        ),
        Row(
            "timers",
            f"{rate:,} due per second: lateness p99",
            fmt(p99, " ms"),
            "≤ 200 ms",
            p99 <= 200,
        ),
    ]


# --- 3b. the arq peer ---------------------------------------------------------------------


async def bench_arq(client: Redis, jobs: int, timers_rate: float) -> list[Row]:
    """Run ``jobs`` deferred no-op arq jobs due at one instant on the timers' Redis."""
    try:
        from arq.connections import RedisSettings, create_pool  # noqa: PLC0415 - optional
        from arq.jobs import serialize_job  # noqa: PLC0415
        from arq.worker import Worker, func  # noqa: PLC0415
    except ImportError:
        return [
            Row("arq peer", "not run: pip install --no-deps arq==0.28.0 (see BENCHMARKS.md)", "n/a")
        ]
    kwargs = client.connection_pool.connection_kwargs
    settings = RedisSettings(host=kwargs["host"], port=kwargs["port"])
    pool = await create_pool(settings)
    lateness: list[float] = []

    async def noop(_ctx: dict[str, Any], due_ms: int) -> None:
        lateness.append(time.time() * 1000 - due_ms)

    due_ms = int(time.time() * 1000) + 3000 + jobs // 20
    enqueued = int(time.time() * 1000)
    # What ArqRedis.enqueue_job writes per job, pipelined (its WATCH/MULTI per job would make
    # the set-up, not the run, the slow part).
    for start in range(0, jobs, 5000):
        async with pool.pipeline(transaction=False) as pipe:
            for i in range(start, min(jobs, start + 5000)):
                job_id = f"bench{i}"
                payload = serialize_job("noop", (due_ms,), {}, None, enqueued)
                pipe.psetex(f"arq:job:{job_id}", due_ms - enqueued + 86_400_000, payload)
                pipe.zadd("arq:queue", {job_id: due_ms})
            await pipe.execute()
    worker = Worker(
        functions=[func(noop, name="noop")],
        redis_pool=pool,
        burst=True,
        handle_signals=False,
        keep_result=0,
    )
    await worker.main()
    await worker.close()
    rate = len(lateness) / max(max(lateness, default=0) / 1000, 0.001)
    ratio = timers_rate / rate if rate else math.nan
    return [
        Row(
            "arq peer",
            f"{jobs:,} deferred no-op jobs due at once (same Redis): executed/s",
            fmt(rate, "/s"),
        ),
        Row(
            "arq peer",
            "… lateness p50 / p99",
            f"{fmt(percentile(lateness, 50), ' ms')} / {fmt(percentile(lateness, 99), ' ms')}",
        ),
        Row(
            "arq peer",
            "Zhitong timers fired/s ÷ arq executed/s",
            fmt(ratio, "×", 1),
            "≥ 40×",
            ratio >= 40,
        ),
    ]


# --- main ---------------------------------------------------------------------------------


async def run(profile: Profile, parts: set[str], scratch: Path) -> list[Row]:
    rows: list[Row] = []
    steps: list[tuple[str, Callable[[], Awaitable[list[Row]]]]] = [
        ("e2e", lambda: bench_end_to_end(scratch, profile)),
        ("http", lambda: bench_http(scratch, profile)),
    ]
    for name, step in steps:
        if name in parts:
            print(f"… {name}", file=sys.stderr, flush=True)
            rows += await step()
    if "timers" in parts:
        print("… timers (+ arq)", file=sys.stderr, flush=True)
        timer_rows, client, server, fired_rate = await bench_timers(scratch, profile)
        rows += timer_rows
        try:
            rows += await bench_arq(client, profile.arq_jobs, fired_rate)
        finally:
            await client.aclose()
            server.stop()
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(prog="python -m zhitong.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["e2e", "http", "timers"],
        default=["e2e", "http", "timers"],
        help="run only these parts",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch dir (logs)")
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    scratch = Path(tempfile.mkdtemp(prefix="zhitong-bench-"))
    began = time.monotonic()
    try:
        rows = asyncio.run(run(profile, set(args.only), scratch))
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print(format_table(rows))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n{'quick' if args.quick else 'full'} run, {time.monotonic() - began:.0f} s, "
        f"load average after: {load} on {os.cpu_count()} CPUs"
        + (f", logs in {scratch}" if args.keep else "")
    )


if __name__ == "__main__":
    main()
