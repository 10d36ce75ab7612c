"""The lifecycle's transition rules as plain functions (SPEC §5): the model of the Lua.

The router applies transitions atomically in ``act.lua`` / ``fire_timers.lua``; this module
states the same rules without I/O.  Unit tests pin the rules down and a stateful property
test drives random sequences through the real scripts and compares them with this model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from shared.events import ActionType, EventType, State

ACTIVE = frozenset({State.ASSIGNED, State.ACKNOWLEDGED, State.AWAITING_WORKER})
ENDED = frozenset({State.CLOSED, State.WITHDRAWN, State.REJECTED})
TOP_TIER = 3

# Timers pending in each situation: ack/resolve deadlines with their warnings (wa/wr),
# the feedback window and its reminder (fb/fbr), the top-tier overdue repeat (od).
ASSIGNED_TIMERS = frozenset({"ack", "wa", "res", "wr"})
RESOLVE_TIMERS = frozenset({"res", "wr"})
FEEDBACK_TIMERS = frozenset({"fb", "fbr"})


@dataclass(frozen=True, slots=True)
class Model:
    """Return the parts of a grievance that the transition rules read and change."""

    state: State = State.ASSIGNED
    tier: int = 1
    assignee: str = ""
    overdue: bool = False
    extensions: int = 0
    reopens: int = 0
    timers: frozenset[str] = ASSIGNED_TIMERS
    max_extensions: int = 2
    max_reopens: int = 2


@dataclass(frozen=True, slots=True)
class Step:
    """Return the model after one action or timer, and the events it emitted."""

    model: Model
    events: tuple[EventType, ...] = ()
    refusal: str | None = None
    changed: bool = field(default=True)


def _assign(model: Model, tier: int, assignee: str, event: EventType) -> Step:
    moved = replace(
        model, state=State.ASSIGNED, tier=tier, assignee=assignee, overdue=False,
        timers=ASSIGNED_TIMERS,
    )  # fmt: skip
    return Step(moved, (event,))


def _refuse(model: Model, reason: str) -> Step:
    return Step(model, (EventType.ACTION_REFUSED,), reason, changed=False)


def _finish(model: Model, state: State, event: EventType) -> Step:
    return Step(replace(model, state=state, timers=frozenset(), overdue=False), (event,))


def act(
    model: Model,
    action: ActionType,
    *,
    authorised: bool,
    chain: tuple[str, str, str],
    rating: int = 5,
    new_assignee: str = "",
) -> Step:
    """Return the result of ``action`` by an actor who is (or is not) ``authorised``."""
    if not authorised:
        return _refuse(model, "not authorised")
    if model.state in ENDED:
        return _refuse(model, f"already {model.state.value}")
    rule = _RULES.get(action)
    if rule is None:
        return _refuse(model, f"unknown action {action}")
    return rule(model, chain, rating, new_assignee)


def _acknowledge(model: Model, *_: object) -> Step:
    if model.state is not State.ASSIGNED:
        return _refuse(model, "not assigned")
    timers = model.timers - {"ack", "wa"}
    if "res" in timers:
        # Only the missed ack made it overdue (if anything): acknowledging answers that.
        acked = replace(model, state=State.ACKNOWLEDGED, overdue=False, timers=timers - {"od"})
    else:
        # The resolve deadline was missed and reported: it stays overdue, alarmed once.
        acked = replace(model, state=State.ACKNOWLEDGED, timers=timers)
    return Step(acked, (EventType.ACKNOWLEDGED,))


def _request_info(model: Model, *_: object) -> Step:
    if model.state is not State.ACKNOWLEDGED:
        return _refuse(model, "acknowledge first")
    paused = replace(model, state=State.AWAITING_WORKER, timers=frozenset())
    return Step(paused, (EventType.INFO_REQUESTED,))


def _worker_reply(model: Model, *_: object) -> Step:
    if model.state is not State.AWAITING_WORKER:
        return _refuse(model, "nothing was asked")
    timers = frozenset({"od"}) if model.overdue else RESOLVE_TIMERS
    resumed = replace(model, state=State.ACKNOWLEDGED, timers=timers)
    return Step(resumed, (EventType.WORKER_REPLIED,))


def _add_note(model: Model, *_: object) -> Step:
    return Step(model, (EventType.NOTE_ADDED,), changed=False)


def _escalate(model: Model, chain: tuple[str, str, str], *_: object) -> Step:
    if model.state not in ACTIVE:
        return _refuse(model, "not open")
    if model.tier >= TOP_TIER:
        return _refuse(model, "top tier")
    return _assign(model, model.tier + 1, chain[model.tier], EventType.ESCALATED)


def _reassign(model: Model, _chain: object, _rating: int, new_assignee: str) -> Step:
    if model.state not in {State.ASSIGNED, State.ACKNOWLEDGED}:
        return _refuse(model, "not assigned")
    if not new_assignee or new_assignee == model.assignee:
        return _refuse(model, "same assignee")
    return _assign(model, model.tier, new_assignee, EventType.REASSIGNED)


def _refer(model: Model, *_: object) -> Step:
    if model.state not in ACTIVE:
        return _refuse(model, "not open")
    if model.tier != TOP_TIER:
        return _refuse(model, "only the committee refers")
    return Step(model, (EventType.REFERRED,), changed=False)


def _extend(model: Model, *_: object) -> Step:
    if model.state not in {State.ASSIGNED, State.ACKNOWLEDGED}:
        return _refuse(model, "not assigned")
    if model.extensions >= model.max_extensions:
        return _refuse(model, "extension limit")
    # Only the resolve deadline moves; a reported missed ack keeps the grievance overdue.
    ack_missed = model.state is State.ASSIGNED and "ack" not in model.timers
    timers = model.timers | RESOLVE_TIMERS
    extended = replace(
        model,
        extensions=model.extensions + 1,
        overdue=model.overdue and ack_missed,
        timers=timers if ack_missed else timers - {"od"},
    )
    return Step(extended, (EventType.EXTENDED,))


def _resolve(model: Model, *_: object) -> Step:
    if model.state not in ACTIVE:
        return _refuse(model, "not open")
    resolved = replace(model, state=State.RESOLVED, overdue=False, timers=FEEDBACK_TIMERS)
    return Step(resolved, (EventType.RESOLVED, EventType.FEEDBACK_REQUESTED))


def _feedback(model: Model, chain: tuple[str, str, str], rating: int, _new: str) -> Step:
    if model.state is not State.RESOLVED:
        return _refuse(model, "not resolved")
    if rating <= 2 and model.reopens < model.max_reopens:
        tier = min(model.tier + 1, TOP_TIER)
        reopened = replace(model, reopens=model.reopens + 1)
        assignee = chain[tier - 1] if tier != model.tier else model.assignee
        return _assign(reopened, tier, assignee, EventType.REOPENED)
    return _finish(model, State.CLOSED, EventType.CLOSED)


def _withdraw(model: Model, *_: object) -> Step:
    return _finish(model, State.WITHDRAWN, EventType.WITHDRAWN)


Chain = tuple[str, str, str]
Rule = Callable[[Model, Chain, int, str], Step]

_RULES: dict[ActionType, Rule] = {
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
}


def fire(model: Model, kind: str, chain: tuple[str, str, str]) -> Step:  # noqa: PLR0911 -- one return per timer kind mirrors fire_timers.lua
    """Return the result of timer ``kind`` firing (a timer not pending does nothing)."""
    if kind not in model.timers:
        return Step(model, (), changed=False)
    model = replace(model, timers=model.timers - {kind})
    state = model.state
    if (kind == "ack" and state is State.ASSIGNED) or (
        kind == "res" and state in {State.ASSIGNED, State.ACKNOWLEDGED}
    ):
        return breach(model, chain)
    if (kind == "wa" and state is State.ASSIGNED) or (
        kind == "wr" and state in {State.ASSIGNED, State.ACKNOWLEDGED}
    ):
        return Step(model, (EventType.SLA_WARNING,))
    if kind == "fb" and state is State.RESOLVED:
        return _finish(model, State.CLOSED, EventType.CLOSED)
    if kind == "fbr" and state is State.RESOLVED:
        return Step(model, (EventType.FEEDBACK_REQUESTED,))
    if kind == "od" and state in ACTIVE and model.overdue:
        return Step(replace(model, timers=model.timers | {"od"}), (EventType.OVERDUE,))
    return Step(model, ())


def breach(model: Model, chain: tuple[str, str, str]) -> Step:
    """Return the escalation one tier up, or at the top the overdue alarm."""
    if model.tier < TOP_TIER:
        return _assign(model, model.tier + 1, chain[model.tier], EventType.ESCALATED)
    timers = model.timers if model.overdue else model.timers | {"od"}
    return Step(replace(model, overdue=True, timers=timers), (EventType.OVERDUE,))
