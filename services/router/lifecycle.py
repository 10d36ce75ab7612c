"""The grievance lifecycle (SPEC §5), the one definition: who may act, what each action and
timer does, which deadlines and timers follow, which events are told.

Pure: every function takes a ``Record`` (a working copy of the stored grievance) and the
Redis clock's ``now``, changes the copy and records its events; ``engine.py`` reads the
records, calls these functions and commits the result atomically (``commit_many.lua``, guarded
by the records' versions).  Adding an action means adding one function to ``ACTIONS``.
Every duration (deadlines, warnings, pauses, the feedback window, the overdue repeat) is
counted on the grievance's calendar by ``working_time``: working time when the SLA policy
has a calendar, wall-clock time for 24×7.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.router import directory, sla, working_time
from services.router.working_time import Calendar
from shared.config import Config
from shared.events import (
    ACTIVE_STATES,
    ENDED_STATES,
    MAX_NOTES,
    WORKER_ACTIONS,
    Action,
    ActionType,
    Category,
    Urgency,
)
from shared.record import TOP_TIER, Link, Record, iso

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


def _calendar(g: Record) -> Calendar | None:
    raw = g.calendar()
    return Calendar.from_snapshot(raw) if raw else None


def _due(g: Record, start: int, seconds: float) -> int:
    """Return the instant ``seconds`` of the grievance's working time after ``start``."""
    return working_time.add(start, seconds, _calendar(g))


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
    warn_at = working_time.before(int(due), span_s * (1 - g.num("warn")), _calendar(g))
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
    g.put("ack_due", _due(g, now, g.num(f"a{tier}")))
    g.put("resolve_due", _due(g, now, g.num(f"r{tier}")))
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
        g.timer_add("od", _due(g, now, g.num("od")))
    return g.emit("grievance.overdue", now, reason=reason)


def note_first_ack(g: Record, now: int) -> None:
    """Record the first response for the KPIs (response rate = acknowledged within SLA)."""
    if not g.get("first_acked_at"):
        due = g.ms("ack_due")
        g.put("first_acked_at", now)
        g.put("ack_in_sla", "1" if due is not None and now <= due else "0")
        g.put("ack_tier", g.tier)
        g.put("ack_unit", g.get("assignee"))


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
    g.timer_add("od", _due(g, now, g.num("od")))
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


# --- actions ---


def act(g: Record, action: Action, s: Situation) -> Decision:
    """Apply ``action`` to ``g`` — or refuse it with a reason (``action.refused``)."""
    # Why, as a kind people can be told in their language (the reason itself is for logs).
    # A linked duplicate is told first: its displayed assignee is the original's, who is
    # no unit of the duplicate's own chain, and "not the assignee" would mislead them.
    refusal, kind = _link_refusal(g, action), "not_now"
    if refusal is None:
        refusal, kind = _actor_refusal(g, action), "not_permitted"
    if refusal is None:
        refusal, kind = _state_refusal(g, action), "not_now"
    if refusal is None:
        rule = ACTIONS[action.type]
        before = g.fields.copy()
        outcome = rule(g, action, s)
        if isinstance(outcome, _Refusal):
            g.fields, g.changed, g.events = before, {}, []
            g.timers_added, g.timers_removed, g.extra = [], [], []
            refusal, kind = outcome.reason, "not_accepted"
        else:
            return Decision([g, *outcome.others], outcome.event_ids)
    g.emit(
        "action.refused",
        s.now,
        reason=refusal,
        actor=_actor(action),
        data={
            "refused_action": action.type.value,
            "action_id": action.action_id,
            "refusal_kind": kind,
        },
    )
    return Decision([g], [], refusal)


@dataclass
class _Applied:
    event_ids: list[str]
    others: list[Record] = field(default_factory=list)


@dataclass
class _Refusal:
    reason: str


Rule = Callable[[Record, Action, Situation], "_Applied | _Refusal"]


def _actor(action: Action) -> dict[str, str]:
    return {"id": action.actor.id, "role": action.actor.role.value}


def _in_chain(g: Record, unit: str) -> bool:
    return any(g.get(f"c{t}u") == unit for t in range(max(g.tier, 1), TOP_TIER + 1))


def _chain_kind(g: Record, unit: str) -> str:
    """Return the kind (member, branch, committee, fallback) ``unit`` has in the chain."""
    for tier in range(1, TOP_TIER + 1):
        if g.get(f"c{tier}u") == unit:
            return g.get(f"c{tier}k")
    return ""


def _is_department(g: Record, unit: str) -> bool:
    return unit in _departments(g)


def _departments(g: Record) -> list[str]:
    raw = g.get("departments")
    return list(json.loads(raw)) if raw else []


def _state_refusal(g: Record, action: Action) -> str | None:
    """Return why no action of this kind may be taken on ``g`` now, or ``None``."""
    if g.state in ENDED_STATES:
        return f"the grievance is already {g.state}"
    if g.state == "submitted" and action.type is not ActionType.WITHDRAW:
        return "the grievance is not assigned yet"
    return None


def _link_refusal(g: Record, action: Action) -> str | None:
    """Return why ``action`` belongs on the original of a linked duplicate, or ``None``.

    While linked a report has no clock and no handler of its own: its worker may withdraw
    it or add a note; everything else is done on the original, whose outcome it shares.
    """
    original = g.get("duplicate_of")
    if not original or g.state in ENDED_STATES or action.type in _ON_A_DUPLICATE:
        return None
    named = g.get("original_tracking_no") or original
    return f"this report is linked to {named} as a duplicate; act on that one"


_ON_A_DUPLICATE = frozenset({ActionType.WITHDRAW, ActionType.ADD_NOTE})


def _actor_refusal(g: Record, action: Action) -> str | None:
    """Return why the actor may not take ``action`` on ``g`` at all, or ``None``.

    The worker who filed it takes the worker's actions and may add notes, as may a
    referred department; every other action is for a unit of the chain from the current
    tier up, acting in the role it has there (a fallback unit stands for any tier).
    """
    actor = action.actor
    is_worker = actor.role.value == "worker" and actor.id == g.get("worker_id")
    if action.type in WORKER_ACTIONS:
        return (
            None
            if is_worker
            else (f"only the worker who filed the grievance may {action.type.value}")
        )
    if action.type is ActionType.ADD_NOTE and (is_worker or _is_department(g, actor.id)):
        return None
    if not _in_chain(g, actor.id):
        return (
            f"actor {actor.id} is neither the current assignee "
            f"({g.get('assignee') or 'none'}) nor a unit above it in the chain"
        )
    kind = _chain_kind(g, actor.id)
    if kind not in {"fallback", actor.role.value}:
        return f"actor {actor.id} is a {kind} in this grievance's chain, not a {actor.role.value}"
    return None


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _text(value: str | None) -> str | None:
    return value if value else None


def _acknowledge(g: Record, a: Action, s: Situation) -> _Applied | _Refusal:
    if g.state != "assigned":
        return _Refusal(f"only an assigned grievance can be acknowledged (state is {g.state})")
    note_first_ack(g, s.now)
    # The resolve deadline and its timers stand.  If its timer already fired (only at the
    # top tier: below it the breach escalated), oversight was told and the grievance stays
    # overdue with its repeat alarm; otherwise only the missed ack made it overdue, and
    # acknowledging answers that.
    g.timer_drop("ack")
    g.timer_drop("wa")
    if g.timer_pending("res"):
        overdue_clear(g)
    g.put("state", "acknowledged")
    g.put("acked_at", s.now)
    g.put("ack_due", "")
    return _Applied([g.emit("grievance.acknowledged", s.now, actor=_actor(a))])


def _request_info(g: Record, a: Action, s: Situation) -> _Applied | _Refusal:
    if g.state != "acknowledged":
        return _Refusal(
            "acknowledge the grievance before asking the worker for information "
            f"(state is {g.state})"
        )
    g.timers_clear()
    g.put("state", "awaiting_worker")
    # The working time left (ms): a pause from Friday 18:30 to Monday 08:30 costs none.
    left = working_time.between(s.now, int(g.num("resolve_due")), _calendar(g))
    g.put("paused_remaining", left)
    g.put("paused_at", s.now)
    g.put("resolve_due", "")
    return _Applied(
        [
            g.emit(
                "grievance.info_requested",
                s.now,
                actor=_actor(a),
                reason=_text(a.reason),
                data={"note": _text(a.note)},
            )
        ]
    )


def _worker_reply(g: Record, a: Action, s: Situation) -> _Applied | _Refusal:
    if g.state != "awaiting_worker":
        return _Refusal(f"no information was requested from the worker (state is {g.state})")
    g.timers_clear()
    g.put("state", "acknowledged")
    g.put("resolve_due", _due(g, s.now, g.num("paused_remaining") / 1000))
    g.put("paused_at", "")
    if g.get("overdue") == "1":
        # The resolve deadline was missed and reported before the pause: resume the repeat
        # alarm rather than report the same deadline again.
        g.timer_add("od", _due(g, s.now, g.num("od")))
    else:
        schedule_resolve(g, s.now)
    return _Applied(
        [g.emit("grievance.worker_replied", s.now, actor=_actor(a), data={"note": _text(a.note)})]
    )


def _add_note(g: Record, a: Action, s: Situation) -> _Applied | _Refusal:
    if not a.note:
        return _Refusal("a note needs text")
    notes = int(g.num("notes")) if g.get("notes") else (s.notes or 0)
    if notes >= MAX_NOTES:
        return _Refusal(f"this grievance already has {notes} notes (the limit is {MAX_NOTES})")
    g.put("notes", notes + 1)
    return _Applied([g.emit("grievance.note_added", s.now, actor=_actor(a), data={"note": a.note})])


def _escalate(g: Record, a: Action, s: Situation) -> _Applied | _Refusal:
    if g.state not in ACTIVE_STATES:
        return _Refusal(f"only an open, assigned grievance can be escalated (state is {g.state})")
    if g.tier >= TOP_TIER:
        return _Refusal("the grievance is already at the top tier")
    return _Applied(
        [
            assign_tier(
                g,
                g.tier + 1,
                s.now,
                "grievance.escalated",
                actor=_actor(a),
                reason=_text(a.reason) or "manual",
            )
        ]
    )


def _reassign(g: Record, a: Action, s: Situation) -> _Applied | _Refusal:
    if g.state not in {"assigned", "acknowledged"}:
        return _Refusal(
            f"only an assigned or acknowledged grievance can be reassigned (state is {g.state})"
        )
    # Read with the tier it applies to: a timer escalating meanwhile makes the commit retry.
    if g.tier != 1:
        return _Refusal("only a member (tier 1) can be reassigned, within the branch")
    branch_id = g.get("c2u")
    members = directory.branch_members(s.config, branch_id)
    if not a.assignee or a.assignee == g.get("assignee"):
        return _Refusal("reassign needs a different assignee")
    if a.assignee not in members:
        return _Refusal(
            f"'{a.assignee}' is not a member of branch '{branch_id}' (members: {sorted(members)})"
        )
    g.set_link(1, Link(a.assignee, members[a.assignee], g.link(1).kind))
    return _Applied(
        [assign_tier(g, 1, s.now, "grievance.reassigned", actor=_actor(a), reason=_text(a.reason))]
    )


def _refer(g: Record, a: Action, s: Situation) -> _Applied | _Refusal:
    if g.state not in ACTIVE_STATES:
        return _Refusal(f"only an open grievance can be referred (state is {g.state})")
    if g.tier != TOP_TIER:
        return _Refusal("only the committee refers a grievance to the joint meeting")
    known = {d.id for d in s.config.directory.departments}
    wanted = a.departments or directory.departments_for(
        s.config, g.get("c3u"), Category(g.get("category"))
    )
    unknown = sorted(set(wanted) - known)
    if unknown:
        return _Refusal(f"unknown departments {unknown} (known: {sorted(known)})")
    if not wanted:
        return _Refusal("refer needs at least one department")
    g.put("departments", json.dumps(wanted, ensure_ascii=False))
    return _Applied(
        [
            g.emit(
                "grievance.referred",
                s.now,
                actor=_actor(a),
                reason=_text(a.reason),
                data={"departments": wanted},
            )
        ]
    )


def _extend(g: Record, a: Action, s: Situation) -> _Applied | _Refusal:
    if g.state not in {"assigned", "acknowledged"}:
        return _Refusal(
            f"only an assigned or acknowledged grievance can be extended (state is {g.state})"
        )
    if not a.reason:
        return _Refusal("an extension needs a reason the worker can read")
    used = int(g.num("ext_count"))
    if used >= int(g.num("mext")):
        return _Refusal(f"the deadline was already extended {used} times (the limit)")
    asked, refusal = _new_deadline(g, a, s)
    if refusal is not None:
        return _Refusal(refusal)
    # A deadline outside working hours is the next opening: no working time lies between,
    # and the breach then falls when someone is at work to answer it.
    new_due = working_time.at_work(asked, _calendar(g))
    # Only the resolve deadline moves.  A missed ack that was already reported (top tier,
    # its timer fired) keeps the grievance overdue; anything else overdue was the old
    # resolve deadline, which the extension replaces.
    ack_missed = g.state == "assigned" and not g.timer_pending("ack")
    g.timer_drop("res")
    g.timer_drop("wr")
    if not ack_missed:
        overdue_clear(g)
    g.put("ext_count", used + 1)
    g.put("resolve_due", new_due)
    schedule_resolve(g, s.now)
    return _Applied(
        [
            g.emit(
                "grievance.extended",
                s.now,
                actor=_actor(a),
                reason=a.reason,
                data={
                    "new_deadline": iso(new_due),
                    "requested_deadline": iso(asked) if asked != new_due else None,
                    "extensions": used + 1,
                },
            )
        ]
    )


def _new_deadline(g: Record, a: Action, s: Situation) -> tuple[int, str | None]:
    """Return the extension's new deadline (ms), or why it cannot be that."""
    if a.new_deadline is None:
        return 0, "extend needs new_deadline (ISO 8601)"
    deadline = a.new_deadline
    if deadline.tzinfo is None:  # a deadline without a zone is read as UTC
        deadline = deadline.replace(tzinfo=UTC)
    new_due = int(deadline.timestamp() * 1000)
    current = int(g.num("resolve_due"))
    if new_due <= current:
        return new_due, f"the new deadline must be later than the current one ({iso(current)})"
    return new_due, s.config.sla.extension_refusal(_utc(current), deadline)


def _resolve(g: Record, a: Action, s: Situation) -> _Applied | _Refusal:
    if g.state not in ACTIVE_STATES:
        return _Refusal(f"only an open grievance can be resolved (state is {g.state})")
    if not a.resolution:
        return _Refusal("resolve needs a resolution text for the worker")
    now = s.now
    note_first_ack(g, now)
    g.timers_clear()
    due = g.ms("resolve_due")
    g.put("state", "resolved")
    g.put("resolved_at", now)
    g.put("resolved_tier", g.tier)
    g.put("resolved_unit", g.get("assignee"))
    g.put("resolve_in_sla", "1" if due is not None and now <= due else "0")
    g.put("resolution", a.resolution)
    g.put("ack_due", "")
    g.put("resolve_due", "")
    g.put("overdue", "0")
    window = g.num("fb")
    fb_due = _due(g, now, window)
    g.put("fb_due", fb_due)  # every event while the window is open carries it
    g.timer_add("fb", fb_due)
    g.timer_add("fbr", _due(g, now, window * g.num("warn")))
    ids = [
        g.emit("grievance.resolved", now, actor=_actor(a), data={"resolution": a.resolution}),
        g.emit("grievance.feedback_requested", now),
    ]
    return _Applied(ids, _resolve_duplicates(g, s, a.resolution))


def _feedback(g: Record, a: Action, s: Situation) -> _Applied | _Refusal:
    if g.state != "resolved":
        return _Refusal(f"feedback is taken once the grievance is resolved (state is {g.state})")
    rating = a.rating
    if rating is None:
        return _Refusal("rating must be 1 to 5")
    g.put("rating", rating)
    g.put("comment", a.comment or "")
    reopens = int(g.num("reopen_count"))
    data = {"rating": rating, "comment": _text(a.comment)}
    if rating <= 2 and reopens < int(g.num("mreo")):
        g.put("reopen_count", reopens + 1)
        return _Applied(
            [
                assign_tier(
                    g,
                    min(g.tier + 1, TOP_TIER),
                    s.now,
                    "grievance.reopened",
                    actor=_actor(a),
                    reason=f"rating {rating}",
                    data=data,
                )
            ]
        )
    finish(g, "closed", s.now)
    return _Applied([g.emit("grievance.closed", s.now, actor=_actor(a), reason="rated", data=data)])


def _withdraw(g: Record, a: Action, s: Situation) -> _Applied | _Refusal:
    if g.get("duplicate_of"):
        g.extra.append(["SREM", ("dups", g.get("duplicate_of")), g.id])
    finish(g, "withdrawn", s.now)
    event_id = g.emit("grievance.withdrawn", s.now, actor=_actor(a), reason=_text(a.reason))
    return _Applied([event_id], _promote_duplicates(g, s))


def _reclassify(g: Record, a: Action, s: Situation) -> _Applied | _Refusal:
    """Correct category and/or urgency: the SLA is taken afresh for the new classification
    and the running deadlines of the current tier are counted again from its assignment."""
    if g.state not in ACTIVE_STATES:
        return _Refusal(f"only an open grievance can be reclassified (state is {g.state})")
    category = a.category or Category(g.get("category"))
    urgency = a.urgency or Urgency(g.get("urgency"))
    previous = (g.get("category"), g.get("urgency"))
    if (category.value, urgency.value) == previous:
        return _Refusal("reclassify needs a category or urgency different from the current one")
    if not a.reason:
        return _Refusal("a reclassification needs a reason")
    g.put("category", category.value)
    g.put("urgency", urgency.value)
    g.put("needs_review", "0")
    for name, value in sla.snapshot(s.config.sla, urgency, category).items():
        g.put(name, value)
    before = (g.get("ack_due"), g.get("resolve_due"))
    _recount_deadlines(g, s.now)
    moved = (g.get("ack_due"), g.get("resolve_due")) != before
    data = {
        "category": category.value,
        "urgency": urgency.value,
        "previous_category": previous[0],
        "previous_urgency": previous[1],
        "deadline_moved": moved,
    }
    return _Applied(
        [g.emit("grievance.reclassified", s.now, actor=_actor(a), reason=a.reason, data=data)]
    )


def _recount_deadlines(g: Record, now: int) -> None:
    """Count the pending deadlines of the current tier again from its assignment."""
    start = int(g.num("assigned_at", now))
    if g.timer_pending("ack"):
        g.timer_drop("ack")
        g.timer_drop("wa")
        g.put("ack_due", _due(g, start, g.num(f"a{g.tier}")))
        schedule_ack(g, now)
    if g.timer_pending("res") and not g.get("ext_count"):  # an extension set it by hand
        g.timer_drop("res")
        g.timer_drop("wr")
        g.put("resolve_due", _due(g, start, g.num(f"r{g.tier}")))
        schedule_resolve(g, now)


ACTIONS: dict[ActionType, Rule] = {
    ActionType.ACKNOWLEDGE: _acknowledge,
    ActionType.REQUEST_INFO: _request_info,
    ActionType.WORKER_REPLY: _worker_reply,
    ActionType.ADD_NOTE: _add_note,
    ActionType.ESCALATE: _escalate,
    ActionType.REASSIGN: _reassign,
    ActionType.REFER: _refer,
    ActionType.EXTEND: _extend,
    ActionType.RESOLVE: _resolve,
    ActionType.FEEDBACK: _feedback,
    ActionType.WITHDRAW: _withdraw,
    ActionType.RECLASSIFY: _reclassify,
}


# --- civic duplicates (SPEC §7): a linked report has no clock of its own ---


def _open_duplicates(s: Situation) -> list[Record]:
    return [d for d in s.duplicates.values() if d.state not in ENDED_STATES]


def _resolve_duplicates(g: Record, s: Situation, resolution: str) -> list[Record]:
    """The original was resolved: tell each duplicate's reporter and close the duplicate."""
    changed = []
    for dup in _open_duplicates(s):
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


def _promote_duplicates(g: Record, s: Situation) -> list[Record]:
    """The original ended without a resolution: each duplicate gets its own chain and clock."""
    changed = []
    for dup in _open_duplicates(s):
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
