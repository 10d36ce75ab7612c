"""The lifecycle's building blocks (SPEC §5): what a decision reads, the deadlines and timers
a tier change sets, and the steps every rule shares (assign a tier, breach, finish).

Pure, like ``lifecycle``: every function changes a ``Record`` working copy.  Every duration
is counted on the grievance's calendar by ``working_time`` (working time when the SLA policy
has one, wall-clock time for 24×7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.router import working_time
from services.router.working_time import Calendar
from shared.config import Config
from shared.record import TOP_TIER, Record

# Timer kinds: ack/resolve deadlines and their warnings, the rating window and its reminder,
# the top-tier overdue repeat.
TIMER_KINDS = ("ack", "wa", "res", "wr", "fb", "fbr", "od")
# The timer of the same generation always due before each of these (the warning before its
# deadline, the rating reminder before the window closes): whoever fires the later one fires
# the earlier first if it is due, so they are told in order whichever replica holds which.
DUE_BEFORE = {"ack": "wa", "res": "wr", "fb": "fbr"}


@dataclass
class Situation:
    """What a decision reads besides the grievance: the clock, config, linked reports."""

    now: int
    config: Config
    # Open civic reports linked to this one as duplicates (read only when it may end).
    duplicates: Mapping[str, Record] = field(default_factory=dict)
    # The applied-actions count of notes, when the record predates its counter.
    notes: int | None = None


@dataclass
class Decision:
    """The outcome of one action: applied (with event ids) or refused (with the reason)."""

    records: list[Record]
    event_ids: list[str]
    refusal: str | None = None


# --- deadlines and timers ---


def calendar_of(g: Record) -> Calendar | None:
    raw = g.calendar()
    return Calendar.from_snapshot(raw) if raw else None


def due_after(g: Record, start: int, seconds: float) -> int:
    """Return the instant ``seconds`` of the grievance's working time after ``start``."""
    return working_time.add(start, seconds, calendar_of(g))


def schedule_ack(g: Record, now: int) -> None:
    """Schedule the ack deadline and its warning (the warning only if still ahead)."""
    _schedule(g, now, ("ack", "wa"), due=g.num("ack_due"), span_s=g.num(f"a{g.tier}"))


def schedule_resolve(g: Record, now: int) -> None:
    """Schedule the resolve deadline and its warning (the warning only if still ahead)."""
    _schedule(g, now, ("res", "wr"), due=g.num("resolve_due"), span_s=g.num(f"r{g.tier}"))


def _schedule(g: Record, now: int, kinds: tuple[str, str], *, due: float, span_s: float) -> None:
    kind, warning = kinds
    g.timer_add(kind, int(due))
    # The warning comes when the share ``1 - warn`` of the span is left in working time:
    # for a 3 h span due Friday 10:00 (09–18) at 50 %, Thursday 17:30, not Friday 08:30.
    warn_at = working_time.before(int(due), span_s * (1 - g.num("warn")), calendar_of(g))
    if warn_at > now:
        g.timer_add(warning, warn_at)


def overdue_clear(g: Record) -> None:
    """Stop the top-tier repeat alarm: no deadline is missed any more."""
    g.timer_drop("od")
    g.put("overdue", "0")


def feedback_window_close(g: Record) -> None:
    """Close the worker's rating window (rated, reopened, expired or ended otherwise)."""
    if g.get("fb_due"):
        g.put("fb_due", "")


def assign_tier(g: Record, tier: int, now: int, etype: str, **event: Any) -> str:
    """Give the grievance to the chain's unit at ``tier`` with fresh deadlines from ``now``."""
    target = g.link(tier)
    previous = g.get("assignee")
    g.timers_clear()
    g.put("tier", tier)
    g.put("assignee", target.unit)
    g.put("assignee_name", target.name)
    g.put("assignee_kind", target.kind)
    g.put("state", "assigned")
    g.put("assigned_at", now)
    g.put("acked_at", "")
    g.put("overdue", "0")
    feedback_window_close(g)
    g.put("ack_due", due_after(g, now, g.num(f"a{tier}")))
    g.put("resolve_due", due_after(g, now, g.num(f"r{tier}")))
    schedule_ack(g, now)
    schedule_resolve(g, now)
    if previous and previous != target.unit:
        event["previous_assignee"] = previous
    return g.emit(etype, now, **event)


def first_tier(g: Record) -> int:
    """Return the lowest tier of the grievance's chain (a short chain starts above tier 1)."""
    return next((t for t in (1, 2, TOP_TIER) if g.get(f"c{t}u")), TOP_TIER)


def finish(g: Record, state: str, now: int) -> None:
    """End the grievance (closed / withdrawn / rejected): no timers, out of the open index."""
    g.timers_clear()
    g.put("state", state)
    g.put("closed_at", now)
    g.put("overdue", "0")
    feedback_window_close(g)
    g.put("ack_due", "")
    g.put("resolve_due", "")
    g.extra.append(["ZREM", ("open",), g.id])
    g.extra.append(["ZADD", ("ended",), now, g.id])


def breach(g: Record, reason: str, now: int) -> str:
    """A deadline passed: escalate one tier, or at the top mark overdue and repeat the alarm."""
    g.put("breaches", int(g.num("breaches")) + 1)
    if g.tier < TOP_TIER:
        return assign_tier(g, g.tier + 1, now, "grievance.escalated", reason=reason)
    if g.get("overdue") != "1":
        g.put("overdue", "1")
        g.timer_add("od", due_after(g, now, g.num("od")))
    return g.emit("grievance.overdue", now, reason=reason)


def note_first_ack(g: Record, now: int) -> None:
    """Record the first response for the KPIs (response rate = acknowledged within SLA)."""
    if not g.get("first_acked_at"):
        due = g.ms("ack_due")
        g.put("first_acked_at", now)
        g.put("ack_in_sla", "1" if due is not None and now <= due else "0")
        g.put("ack_tier", g.tier)
        g.put("ack_unit", g.get("assignee"))
