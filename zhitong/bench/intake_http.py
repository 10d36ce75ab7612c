"""Part 2, HTTP intake: POST /v1/grievances under wrk (or httpx when wrk is absent)."""

from __future__ import annotations

import asyncio
import json
import math
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from zhitong.bench.common import (
    AUTH,
    DESCRIPTION,
    WORKER,
    log_only_config,
    start_redis,
    start_service,
    stop,
)
from zhitong.bench.report import Profile, Row, fmt, percentile

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
