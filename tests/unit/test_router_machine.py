"""The transition rules (pure): every action in every state, every timer in every state."""

from __future__ import annotations

import pytest

from services.router import machine
from shared.events import ActionType, EventType, State

CHAIN = ("m-wang", "b-zto-east", "c-express")
A = ActionType

# Which actions an authorised actor may take in each open state.
ALLOWED = {
    State.ASSIGNED: {A.ACKNOWLEDGE, A.ADD_NOTE, A.ESCALATE, A.REASSIGN, A.EXTEND, A.RESOLVE,
                     A.WITHDRAW},
    State.ACKNOWLEDGED: {A.REQUEST_INFO, A.ADD_NOTE, A.ESCALATE, A.REASSIGN, A.EXTEND,
                         A.RESOLVE, A.WITHDRAW},
    State.AWAITING_WORKER: {A.WORKER_REPLY, A.ADD_NOTE, A.ESCALATE, A.RESOLVE, A.WITHDRAW},
    State.RESOLVED: {A.ADD_NOTE, A.FEEDBACK, A.WITHDRAW},
}  # fmt: skip


@pytest.mark.parametrize("state", list(ALLOWED))
@pytest.mark.parametrize("action", list(ActionType))
def test_action_table_at_tier_one(state: State, action: ActionType) -> None:
    """At tier 1 an action is applied exactly when the table allows it (refer never)."""
    model = machine.Model(state=state, assignee="m-wang")
    step = machine.act(model, action, authorised=True, chain=CHAIN, new_assignee="m-li")
    assert (step.refusal is None) == (action in ALLOWED[state])
    if step.refusal is not None:
        assert step.model == model
        assert step.events == (EventType.ACTION_REFUSED,)


@pytest.mark.parametrize("state", [*ALLOWED, *machine.ENDED])
@pytest.mark.parametrize("action", list(ActionType))
def test_unauthorised_actor_is_always_refused(state: State, action: ActionType) -> None:
    """Whatever the state, an actor outside the chain changes nothing."""
    model = machine.Model(state=state)
    step = machine.act(model, action, authorised=False, chain=CHAIN)
    assert step.refusal is not None
    assert step.model == model


def test_escalation_walks_the_chain_then_refuses_at_top() -> None:
    """Escalate goes member → branch → committee, then is refused."""
    model = machine.Model(assignee="m-wang")
    for tier, unit in ((2, "b-zto-east"), (3, "c-express")):
        model = machine.act(model, A.ESCALATE, authorised=True, chain=CHAIN).model
        assert (model.tier, model.assignee, model.state) == (tier, unit, State.ASSIGNED)
    assert machine.act(model, A.ESCALATE, authorised=True, chain=CHAIN).refusal == "top tier"


def test_refer_only_at_committee() -> None:
    """Only the committee (tier 3) refers to the joint meeting."""
    top = machine.Model(tier=3, assignee="c-express")
    assert machine.act(top, A.REFER, authorised=True, chain=CHAIN).events == (EventType.REFERRED,)


@pytest.mark.parametrize(("rating", "reopens", "state", "tier"), [
    (1, 0, State.ASSIGNED, 2), (2, 1, State.ASSIGNED, 2), (2, 2, State.CLOSED, 1),
    (3, 0, State.CLOSED, 1), (5, 0, State.CLOSED, 1),
])  # fmt: skip
def test_feedback_reopens_one_tier_up_at_most_n_times(
    rating: int, reopens: int, state: State, tier: int
) -> None:
    """Rating ≤ 2 reopens one tier up while reopens remain; otherwise the grievance closes."""
    resolved = machine.Model(
        state=State.RESOLVED, reopens=reopens, assignee="m-wang", timers=machine.FEEDBACK_TIMERS
    )
    step = machine.act(resolved, A.FEEDBACK, authorised=True, chain=CHAIN, rating=rating)
    assert (step.model.state, step.model.tier) == (state, tier)


def test_reopen_at_top_stays_at_top() -> None:
    """A reopened committee grievance stays with the committee."""
    resolved = machine.Model(state=State.RESOLVED, tier=3, assignee="c-express")
    step = machine.act(resolved, A.FEEDBACK, authorised=True, chain=CHAIN, rating=1)
    assert (step.model.tier, step.model.assignee) == (3, "c-express")


def test_extensions_are_limited() -> None:
    """The third extension is refused with the default limit of two."""
    model = machine.Model(state=State.ACKNOWLEDGED, timers=machine.RESOLVE_TIMERS)
    for _ in range(2):
        model = machine.act(model, A.EXTEND, authorised=True, chain=CHAIN).model
    assert machine.act(model, A.EXTEND, authorised=True, chain=CHAIN).refusal == "extension limit"


@pytest.mark.parametrize(("kind", "state", "event"), [
    ("ack", State.ASSIGNED, EventType.ESCALATED),
    ("res", State.ACKNOWLEDGED, EventType.ESCALATED),
    ("wa", State.ASSIGNED, EventType.SLA_WARNING),
    ("wr", State.ACKNOWLEDGED, EventType.SLA_WARNING),
    ("fb", State.RESOLVED, EventType.CLOSED),
    ("fbr", State.RESOLVED, EventType.FEEDBACK_REQUESTED),
])  # fmt: skip
def test_each_timer_has_its_effect(kind: str, state: State, event: EventType) -> None:
    """A pending timer fires its effect in the state it was set for."""
    model = machine.Model(state=state, timers=frozenset({kind}))
    assert machine.fire(model, kind, CHAIN).events == (event,)


def test_breach_at_top_marks_overdue_and_repeats() -> None:
    """At the committee a breach marks overdue once and schedules the repeat alarm."""
    model = machine.Model(tier=3, assignee="c-express")
    step = machine.fire(model, "ack", CHAIN)
    assert step.model.overdue
    assert "od" in step.model.timers
    again = machine.fire(step.model, "od", CHAIN)
    assert again.events == (EventType.OVERDUE,)
    assert "od" in again.model.timers


def test_timer_not_pending_does_nothing() -> None:
    """A timer that is not pending (stale) has no effect."""
    model = machine.Model(state=State.ACKNOWLEDGED, timers=machine.RESOLVE_TIMERS)
    assert machine.fire(model, "ack", CHAIN) == machine.Step(model, (), changed=False)


def _overdue_at_top(*missed: str) -> machine.Model:
    """Return a committee grievance whose ``missed`` deadline timers fired (overdue)."""
    model = machine.Model(tier=3, assignee="c-express")
    for kind in missed:
        model = machine.fire(model, kind, CHAIN).model
    return model


def test_acknowledging_after_a_reported_resolve_deadline_keeps_it_overdue() -> None:
    """Acknowledge does not re-arm a resolve deadline oversight was already told about."""
    step = machine.act(_overdue_at_top("ack", "res"), A.ACKNOWLEDGE, authorised=True, chain=CHAIN)
    assert step.model.overdue
    assert "res" not in step.model.timers
    assert "od" in step.model.timers


def test_acknowledging_a_missed_ack_clears_overdue_and_keeps_the_resolve_deadline() -> None:
    """A late committee ack answers the ack alarm; the resolve deadline stays pending."""
    step = machine.act(_overdue_at_top("ack"), A.ACKNOWLEDGE, authorised=True, chain=CHAIN)
    assert not step.model.overdue
    assert step.model.timers == machine.RESOLVE_TIMERS


def test_worker_reply_on_an_overdue_grievance_resumes_only_the_repeat_alarm() -> None:
    """After a pause, a deadline already reported is not reported again."""
    model = machine.act(_overdue_at_top("ack", "res"), A.ACKNOWLEDGE, authorised=True, chain=CHAIN)
    paused = machine.act(model.model, A.REQUEST_INFO, authorised=True, chain=CHAIN).model
    step = machine.act(paused, A.WORKER_REPLY, authorised=True, chain=CHAIN)
    assert step.model.overdue
    assert step.model.timers == frozenset({"od"})


@pytest.mark.parametrize(("missed", "overdue"), [(("res",), False), (("ack",), True)])
def test_extension_clears_only_the_overdue_it_replaces(
    missed: tuple[str, ...], overdue: bool
) -> None:
    """A new resolve deadline ends a resolve alarm but not an unanswered ack's."""
    step = machine.act(_overdue_at_top(*missed), A.EXTEND, authorised=True, chain=CHAIN)
    assert step.model.overdue is overdue
    assert ("od" in step.model.timers) is overdue
    assert step.model.timers >= machine.RESOLVE_TIMERS
