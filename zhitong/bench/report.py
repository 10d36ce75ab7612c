"""The benchmark's pure parts: percentiles, number formats, the results table, run sizes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


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


QUICK = Profile(
    e2e_grievances=2_000,
    paced_s=3,
    http_s=4,
    timer_pending=100_000,
    timer_due=10_000,
)
FULL = Profile(
    e2e_grievances=20_000,
    paced_s=10,
    http_s=15,
    timer_pending=1_000_000,
    timer_due=100_000,
)


def entry_ms(entry_id: bytes | str) -> int:
    """Return the Redis-clock milliseconds in a stream entry id."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])
