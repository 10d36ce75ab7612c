"""Civic duplicates (SPEC §7): a report linked to an open original has no clock of its own.

Linking tells both reporters; while linked, only the reporter's withdrawal and notes apply
to the duplicate (everything else is done on the original); resolving the original closes
its linked reports with the same resolution, ending it otherwise promotes them to their own
chain and clock.
"""

from __future__ import annotations

from services.router.steps import Situation, assign_tier, finish, first_tier
from shared.events import ENDED_STATES, Action, ActionType
from shared.record import Record

# What the reporter may still do on a linked duplicate.
ON_A_DUPLICATE = frozenset({ActionType.WITHDRAW, ActionType.ADD_NOTE})


def link_duplicate(g: Record, original: Record, now: int) -> str:
    """Link a civic report to the open ``original``: no clock of its own, both told."""
    original.extra.append(["SADD", ("dups", original.id), g.id])
    g.put("duplicate_of", original.id)
    g.put("original_tracking_no", original.get("tracking_no"))
    g.put("state", "assigned")
    g.put("tier", original.tier)
    g.put("assignee", original.get("assignee"))
    g.put("assignee_name", original.get("assignee_name"))
    g.put("assigned_at", now)
    linked = {"duplicate_of": original.id, "original_tracking_no": original.get("tracking_no")}
    event_id = g.emit("grievance.duplicate_linked", now, reason="nearby open report", data=linked)
    original.emit(
        "grievance.duplicate_linked",
        now,
        reason="nearby report linked",
        data={"duplicate": g.id, "duplicate_tracking_no": g.get("tracking_no")},
    )
    return event_id


def link_refusal(g: Record, action: Action) -> str | None:
    """Return why ``action`` belongs on the original of a linked duplicate, or ``None``.

    While linked a report has no clock and no handler of its own: its worker may withdraw
    it or add a note; everything else is done on the original, whose outcome it shares.
    """
    original = g.get("duplicate_of")
    if not original or g.state in ENDED_STATES or action.type in ON_A_DUPLICATE:
        return None
    named = g.get("original_tracking_no") or original
    return f"this report is linked to {named} as a duplicate; act on that one"


def open_duplicates(s: Situation) -> list[Record]:
    return [d for d in s.duplicates.values() if d.state not in ENDED_STATES]


def resolve_duplicates(g: Record, s: Situation, resolution: str) -> list[Record]:
    """The original was resolved: tell each duplicate's reporter and close the duplicate."""
    changed = []
    for dup in open_duplicates(s):
        dup.put("state", "resolved")
        dup.put("resolved_at", s.now)
        dup.put("resolution", resolution)
        dup.emit(
            "grievance.resolved",
            s.now,
            reason="original_resolved",
            data={"resolution": resolution, "duplicate_of": g.id},
        )
        finish(dup, "closed", s.now)
        dup.emit("grievance.closed", s.now, reason="original_resolved", data={"duplicate_of": g.id})
        changed.append(dup)
    return changed


def promote_duplicates(g: Record, s: Situation) -> list[Record]:
    """The original ended without a resolution: each duplicate gets its own chain and clock."""
    changed = []
    for dup in open_duplicates(s):
        dup.put("duplicate_of", "")
        dup.put("original_tracking_no", "")
        dup.put("promoted_from", g.id)  # the read side tells a promoted report by it
        assign_tier(
            dup,
            first_tier(dup),
            s.now,
            "grievance.assigned",
            reason=f"original {g.state}; routed on its own",
        )
        changed.append(dup)
    return changed
