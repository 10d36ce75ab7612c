"""SLA policy arithmetic (pure): the snapshot stored on a grievance when it is submitted.

The snapshot freezes the durations in force at submission so later edits of the policy
file never move open deadlines (SPEC §5).  The Lua scripts read it as compact JSON.
"""

from __future__ import annotations

import json
from typing import Any

from shared.config import SlaPolicy, UrgencySla, WorkingHours
from shared.events import Category, Urgency


def tiers_for(policy: SlaPolicy, urgency: Urgency, category: Category) -> UrgencySla:
    """Return the per-tier durations: a category override first, then the urgency table."""
    override = policy.categories.get(category, {}).get(urgency)
    if override is not None:
        return override
    table = policy.urgency.get(urgency) or policy.urgency.get(Urgency.NORMAL)
    if table is None:
        raise ValueError(f"SLA policy has no entry for urgency {urgency.value} nor normal")
    return table


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def calendar_snapshot(calendar: str | WorkingHours) -> dict[str, Any] | None:
    """Return the working-time calendar as the Lua scripts read it (None = 24×7)."""
    if not isinstance(calendar, WorkingHours):
        return None
    return {
        "days": calendar.days,
        "s": _minutes(calendar.start),
        "e": _minutes(calendar.end),
        "off": calendar.utc_offset_minutes,
    }


def snapshot(policy: SlaPolicy, urgency: Urgency, category: Category) -> dict[str, Any]:
    """Return the SLA snapshot for one grievance as the hash fields the scripts read.

    ``a<tier>``/``r<tier>``: ack/resolve seconds; ``warn``: pre-breach fraction; ``fb``:
    feedback window; ``od``: overdue repeat; ``mext``/``mreo``: extension and reopen limits;
    ``cal``: the working-time calendar as JSON (absent for 24×7).
    """
    tiers = tiers_for(policy, urgency, category)
    snap: dict[str, Any] = {}
    for tier, durations in enumerate((tiers.member, tiers.branch, tiers.committee), start=1):
        snap[f"a{tier}"] = durations.ack
        snap[f"r{tier}"] = durations.resolve
    snap.update(
        warn=policy.warning_fraction,
        fb=policy.feedback_window,
        od=policy.overdue_repeat,
        mext=policy.max_extensions,
        mreo=policy.max_reopens,
    )
    calendar = calendar_snapshot(policy.calendar)
    if calendar is not None:
        snap["cal"] = json.dumps(calendar, separators=(",", ":"))
    return snap


def add_working_ms(start_ms: int, seconds: float, calendar: dict[str, Any] | None) -> int:
    """Return ``start_ms`` plus ``seconds`` of working time (mirrors ``add_work`` in Lua)."""
    if calendar is None:
        return start_ms + int(seconds * 1000)
    day_ms, offset = 86_400_000, calendar["off"] * 60_000
    days = set(calendar["days"])
    local, remaining = start_ms + offset, int(seconds * 1000)
    for _ in range(4000):  # bounded like the Lua loop: ~11 years of days
        day = local // day_ms
        weekday = (day + 3) % 7 + 1  # 1970-01-01 was a Thursday (ISO 4)
        work_start = day * day_ms + calendar["s"] * 60_000
        work_end = day * day_ms + calendar["e"] * 60_000
        if weekday in days:
            local = max(local, work_start)
            if local < work_end:
                available = work_end - local
                if remaining <= available:
                    return int(local + remaining - offset)
                remaining -= available
        local = (day + 1) * day_ms
    return int(local - offset)
