"""Part 3c, the BullMQ peer: delayed no-op jobs due at once, the same sizes as our timers.

BullMQ (Node) is what people pick for delayed jobs on Redis.  It runs at its best settings
found here: ``removeOnComplete`` (no finished-job bookkeeping) and the best of a
concurrency sweep (10, 100, 500) on a short burst; then that setting runs the timers' sizes
(``due`` due at one instant among ``pending``) on a fresh ``redis-server`` configured as
ours.  ``make bench`` installs ``bullmq`` and ``ioredis`` under ``var/bench-node``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from zhitong.bench.common import ROOT, start_redis
from zhitong.bench.report import Row, fmt

SCRIPT = Path(__file__).with_name("bullmq_peer.cjs")
NODE_MODULES = ROOT / "var" / "bench-node" / "node_modules"
VERSIONS = {"bullmq": "6.7.0", "ioredis": "5.11.1"}
CONCURRENCY = (10, 100, 500)
SWEEP_JOBS = 10_000


def missing() -> str | None:
    """Return why the peer cannot run here, or ``None``."""
    if shutil.which("node") is None:
        return "not run: node is not installed"
    if not (NODE_MODULES / "bullmq").is_dir():
        packages = " ".join(f"{n}@{v}" for n, v in VERSIONS.items())
        return f"not run: npm install --prefix var/bench-node {packages} (make bench does)"
    return None


def run_once(scratch: Path, name: str, pending: int, due: int, concurrency: int) -> dict[str, Any]:
    """Run one BullMQ burst on a fresh redis-server and return the script's figures."""
    server = start_redis(scratch, name)
    try:
        done = subprocess.run(  # noqa: S603 - node with our own script
            ["node", str(SCRIPT), str(server.port), str(pending), str(due), str(concurrency)],  # noqa: S607
            env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
            capture_output=True,
            text=True,
            timeout=1800,
            check=True,
        )
    finally:
        server.stop()
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def bench_bullmq(scratch: Path, pending: int, due: int, timers_rate: float) -> list[Row]:
    """Sweep concurrency on a short burst, then run the best at the timers' sizes."""
    reason = missing()
    if reason:
        return [Row("BullMQ peer", reason, "n/a")]
    sweep_n = min(SWEEP_JOBS, due)
    sweep = {
        # Twice as many pending as due: the ones due later pace the write margin.
        c: run_once(scratch, f"redis-bullmq-sweep{c}", 2 * sweep_n, sweep_n, c)["rate"]
        for c in CONCURRENCY
    }
    best = max(sweep, key=lambda c: sweep[c])
    full = run_once(scratch, "redis-bullmq", pending, due, best)
    ratio = timers_rate / full["rate"] if full["rate"] else math.nan
    tried = ", ".join(f"{c}: {fmt(rate, '/s')}" for c, rate in sweep.items())
    return [
        Row(
            "BullMQ peer",
            f"sweep, {sweep_n:,} due at once among {2 * sweep_n:,}, jobs/s by concurrency",
            tried,
        ),
        Row(
            "BullMQ peer",
            f"{due:,} due at once among {pending:,} pending, concurrency {best}: jobs/s",
            fmt(full["rate"], "/s"),
        ),
        Row(
            "BullMQ peer",
            "… lateness p50 / p99",
            f"{fmt(full['p50'], ' ms')} / {fmt(full['p99'], ' ms')}",
        ),
        Row(
            "BullMQ peer",
            "Zhitong timers fired/s ÷ BullMQ jobs/s (same sizes)",
            fmt(ratio, "×", 1),
            "≥ 6×",
            ratio >= 6,
        ),
    ]
