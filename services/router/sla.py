"""SLA policy (pure): the snapshot stored on a grievance when it is routed.

The snapshot freezes the durations and the working-time calendar in force at routing so
later edits of the policy file never move open deadlines (SPEC §5); ``working_time.py``
counts every duration on that calendar.
"""

from __future__ import annotations

from typing import Any

from services.router import working_time
from shared.config import SlaPolicy, UrgencySla
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


def snapshot(policy: SlaPolicy, urgency: Urgency, category: Category) -> dict[str, Any]:
    """Return the SLA snapshot for one grievance as the record fields the lifecycle reads.

    ``a<tier>``/``r<tier>``: ack/resolve seconds; ``warn``: pre-breach fraction; ``fb``:
    feedback window; ``od``: overdue repeat; ``mext``/``mreo``: extension and reopen limits;
    ``cal``: the working-time calendar as JSON (absent for 24×7; see ``working_time``).
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
    calendar = working_time.snapshot(policy.calendar)
    if calendar is not None:
        snap["cal"] = calendar
    return snap
