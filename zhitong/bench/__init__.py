"""Benchmarks: end to end, HTTP intake, KPI reads and counters, SLA timers beside arq and
BullMQ, Redis memory.

Run ``python -m zhitong.bench`` (full, a few minutes) or ``--quick`` (under a minute). Every
part starts its own private ``redis-server`` (AOF ``everysec``, as deployed) in a scratch
directory and prints one table at the end; docs/BENCHMARKS.md records a run and what it
means. Nothing here is a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from zhitong.bench.arq_peer import bench_arq
from zhitong.bench.bullmq_peer import bench_bullmq
from zhitong.bench.end_to_end import bench_end_to_end
from zhitong.bench.intake_http import bench_http
from zhitong.bench.report import FULL, QUICK, Profile, Row, entry_ms, fmt, format_table, percentile
from zhitong.bench.timers import bench_timers

__all__ = ["Row", "entry_ms", "fmt", "format_table", "main", "percentile"]


async def run(profile: Profile, parts: set[str], scratch: Path) -> list[Row]:
    # Imported here, so ``python -m zhitong.bench.stats`` (the part alone) loads it once.
    from zhitong.bench.stats import bench_stats  # noqa: PLC0415

    rows: list[Row] = []
    steps: list[tuple[str, Callable[[], Awaitable[list[Row]]]]] = [
        ("e2e", lambda: bench_end_to_end(scratch, profile)),
        ("http", lambda: bench_http(scratch, profile)),
        ("stats", lambda: bench_stats(scratch, profile)),
    ]
    for name, step in steps:
        if name in parts:
            print(f"… {name}", file=sys.stderr, flush=True)
            rows += await step()
    if "timers" in parts:
        print("… timers", file=sys.stderr, flush=True)
        timer_rows, client, server, fired_rate = await bench_timers(scratch, profile)
        rows += timer_rows
        await client.aclose()
        server.stop()
        # The peers at their best settings, the same sizes, each on a fresh Redis like ours.
        pending, due = profile.timer_pending, profile.timer_due
        print("… arq peer (sweep, then the best)", file=sys.stderr, flush=True)
        rows += await bench_arq(scratch, pending, due, fired_rate)
        print("… BullMQ peer (sweep, then the best)", file=sys.stderr, flush=True)
        rows += await asyncio.to_thread(bench_bullmq, scratch, pending, due, fired_rate)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(prog="python -m zhitong.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["e2e", "http", "stats", "timers"],
        default=["e2e", "http", "stats", "timers"],
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
