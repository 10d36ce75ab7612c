"""The grievance lifecycle (SPEC §5), the one definition: who may act, what each action and
timer does, which deadlines and timers follow, which events are told.

Pure: every function takes a ``Record`` (a working copy of the stored grievance) and the
Redis clock's ``now``, changes the copy and records its events; ``engine.py`` reads the
records, calls these functions and commits the result atomically (``commit_many.lua``, guarded
by the records' versions).  This module is the entry point and holds what timers do and how a
new grievance is routed; ``actions`` holds each action's rule (adding an action means adding
one function to ``ACTIONS``), ``duplicates`` the civic-duplicate rules, ``steps`` the
building blocks they share (deadlines, timers, tier changes).
Every duration (deadlines, warnings, pauses, the feedback window, the overdue repeat) is
counted on the grievance's calendar by ``working_time``: working time when the SLA policy
has a calendar, wall-clock time for 24×7.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from services.router.actions import ACTIONS, act
from services.router.duplicates import link_duplicate
from services.router.steps import (
    DUE_BEFORE,
    TIMER_KINDS,
    Decision,
    Situation,
    assign_tier,
    breach,
    due_after,
    finish,
)
from shared.events import ACTIVE_STATES, WORKER_ACTIONS
from shared.record import Link, Record

__all__ = [
    "ACTIONS",
    "DUE_BEFORE",
    "TIMER_KINDS",
    "WORKER_ACTIONS",
    "Decision",
    "Situation",
    "act",
    "assign",
    "fire",
    "link_duplicate",
]

# --- timers ---


def fire(g: Record, kind: str, now: int) -> str | None:
    """Apply a due timer of ``kind``; return its event id, or ``None`` when it had no effect."""
    g.timer_forget(kind)
    effect = _TIMER_EFFECTS.get(kind)
    if effect is None:
        return None
    states, apply = effect
    return apply(g, now) if g.state in states else None


def _closes_rating(g: Record, now: int) -> str:
    finish(g, "closed", now)
    return g.emit("grievance.closed", now, reason="feedback_window_expired")


def _repeats_overdue(g: Record, now: int) -> str | None:
    if g.get("overdue") != "1":
        return None
    g.timer_add("od", due_after(g, now, g.num("od")))
    return g.emit("grievance.overdue", now, reason="still_overdue")


def _warns(of: str) -> Callable[[Record, int], str]:
    def warn(g: Record, now: int) -> str:
        return g.emit(
            "grievance.sla_warning", now, reason=f"{of}_due_soon", data={"warning_for": of}
        )

    return warn


_OPEN_CLOCK = frozenset({"assigned", "acknowledged"})
# Timer kind → (states in which it has an effect, the effect).
_TIMER_EFFECTS: dict[str, tuple[frozenset[str], Callable[[Record, int], str | None]]] = {
    "ack": (frozenset({"assigned"}), lambda g, now: breach(g, "ack_overdue", now)),
    "res": (_OPEN_CLOCK, lambda g, now: breach(g, "resolve_overdue", now)),
    "wa": (frozenset({"assigned"}), _warns("ack")),
    "wr": (_OPEN_CLOCK, _warns("resolve")),
    "fb": (frozenset({"resolved"}), _closes_rating),
    "fbr": (
        frozenset({"resolved"}),
        lambda g, now: g.emit(
            "grievance.feedback_requested", now, reason="reminder", data={"reminder": True}
        ),
    ),
    "od": (ACTIVE_STATES, _repeats_overdue),
}


# --- routing a new grievance ---


def assign(
    g: Record,
    chain: Sequence[Link],
    sla: Mapping[str, Any],
    *,
    first_tier: int = 1,
    note: str,
    now: int,
    original: Record | None = None,
) -> tuple[str, str]:
    """Route a submitted grievance: its chain from ``first_tier`` up to the top tier and its
    SLA snapshot, then its first unit — or, when it duplicates the open civic report
    ``original``, a link to that instead.

    A chain names each unit once: a short one (no branch matched, or no committee) starts
    above tier 1, so a missed deadline at its top is overdue, never an escalation to itself.
    Return (``assigned`` | ``linked``, event id).
    """
    for tier, link in enumerate(chain, start=first_tier):
        g.set_link(tier, link)
    for name, value in sla.items():
        g.put(name, value)
    g.put("notes", 0)  # counted from here on (records routed before it are counted once)
    if original is not None and original.state in ACTIVE_STATES:
        return "linked", link_duplicate(g, original, now)
    return "assigned", assign_tier(g, first_tier, now, "grievance.assigned", reason=note)
