"""What each action does (SPEC §5): who may take it, when it is refused, what it changes.

``act`` is the one entry point (``lifecycle.act`` re-exports it); adding an action means
adding one rule to ``ACTIONS``.  Civic duplicates follow their original (SPEC §7): resolving
the original closes its linked reports, ending it otherwise promotes them to their own clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.router import directory, sla, working_time
from services.router.duplicates import link_refusal, promote_duplicates, resolve_duplicates
from services.router.steps import (
    Decision,
    Situation,
    assign_tier,
    calendar_of,
    due_after,
    finish,
    note_first_ack,
    overdue_clear,
    schedule_ack,
    schedule_resolve,
)
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


def act(g: Record, action: Action, s: Situation) -> Decision:
    """Apply ``action`` to ``g`` — or refuse it with a reason (``action.refused``)."""
    # Why, as a kind people can be told in their language (the reason itself is for logs).
    # A linked duplicate is told first: its displayed assignee is the original's, who is
    # no unit of the duplicate's own chain, and "not the assignee" would mislead them.
    refusal, kind = link_refusal(g, action), "not_now"
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
    left = working_time.between(s.now, int(g.num("resolve_due")), calendar_of(g))
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
    g.put("resolve_due", due_after(g, s.now, g.num("paused_remaining") / 1000))
    g.put("paused_at", "")
    if g.get("overdue") == "1":
        # The resolve deadline was missed and reported before the pause: resume the repeat
        # alarm rather than report the same deadline again.
        g.timer_add("od", due_after(g, s.now, g.num("od")))
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
    new_due = working_time.at_work(asked, calendar_of(g))
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
    fb_due = due_after(g, now, window)
    g.put("fb_due", fb_due)  # every event while the window is open carries it
    g.timer_add("fb", fb_due)
    g.timer_add("fbr", due_after(g, now, window * g.num("warn")))
    ids = [
        g.emit("grievance.resolved", now, actor=_actor(a), data={"resolution": a.resolution}),
        g.emit("grievance.feedback_requested", now),
    ]
    return _Applied(ids, resolve_duplicates(g, s, a.resolution))


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
    return _Applied([event_id], promote_duplicates(g, s))


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
        g.put("ack_due", due_after(g, start, g.num(f"a{g.tier}")))
        schedule_ack(g, now)
    if g.timer_pending("res") and not g.get("ext_count"):  # an extension set it by hand
        g.timer_drop("res")
        g.timer_drop("wr")
        g.put("resolve_due", due_after(g, start, g.num(f"r{g.tier}")))
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
