"""The lifecycle rules (pure): every action in every state, every timer, the overdue paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.router import lifecycle, sla
from shared.config import load_config
from shared.events import Action, ActionType, Actor, Category, Role, Urgency
from shared.record import Link, Record

A = ActionType
CONFIG = load_config(Path(__file__).resolve().parents[2] / "config" / "demo.yaml")
CHAIN = (
    Link("m-wang", "党员快递员王师傅", "member"),
    Link("b-zto-east", "城东快递网点联合党支部", "branch"),
    Link("c-express", "区快递行业党委", "committee"),
)
SNAPSHOT = sla.snapshot(CONFIG.sla, Urgency.NORMAL, Category.ROAD_ACCESS)
T0 = int(datetime(2026, 11, 20, 2, 0, tzinfo=UTC).timestamp() * 1000)
WORKER = Actor(id="w-1001", role=Role.WORKER)
MEMBER = Actor(id="m-wang", role=Role.MEMBER)
BRANCH = Actor(id="b-zto-east", role=Role.BRANCH)
COMMITTEE = Actor(id="c-express", role=Role.COMMITTEE)
STRANGER = Actor(id="m-zhao", role=Role.MEMBER)

# Which actions the assignee (or, for worker actions, the worker) may take in each state.
ALLOWED = {
    "assigned": {A.ACKNOWLEDGE, A.ADD_NOTE, A.ESCALATE, A.REASSIGN, A.EXTEND, A.RESOLVE,
                 A.WITHDRAW, A.RECLASSIFY},
    "acknowledged": {A.REQUEST_INFO, A.ADD_NOTE, A.ESCALATE, A.REASSIGN, A.EXTEND, A.RESOLVE,
                     A.WITHDRAW, A.RECLASSIFY},
    "awaiting_worker": {A.WORKER_REPLY, A.ADD_NOTE, A.ESCALATE, A.RESOLVE, A.WITHDRAW,
                        A.RECLASSIFY},
    "resolved": {A.ADD_NOTE, A.FEEDBACK, A.WITHDRAW},
}  # fmt: skip


def _stored(g: Record) -> Record:
    """Return ``g`` as the next step reads it back: committed, no pending changes."""
    return Record(g.id, dict(g.fields), g.version + 1)


def _action(kind: ActionType, actor: Actor, **fields: Any) -> Action:
    defaults: dict[str, Any] = {
        "note": "补充材料",
        "reason": "需要协调物业",
        "resolution": "已协调物业开放通道",
        "rating": 5,
        "assignee": "m-li",
        "category": Category.WAGES,
        "new_deadline": datetime.fromtimestamp(T0 / 1000, UTC) + timedelta(days=5),
    }
    return Action(
        action_id=f"a-{kind}", grievance_id="g-1", type=kind, actor=actor, **{**defaults, **fields}
    )


def _act(g: Record, kind: ActionType, actor: Actor, now: int = T0, **fields: Any) -> Record:
    decision = lifecycle.act(g, _action(kind, actor, **fields), lifecycle.Situation(now, CONFIG))
    assert decision.refusal is None, decision.refusal
    return _stored(g)


def _assigned() -> Record:
    g = Record(
        "g-1",
        {
            "state": "submitted",
            "worker_id": "w-1001",
            "tracking_no": "ZT-1",
            "category": "road_access",
            "urgency": "normal",
            "seq": "0",
            "gen": "0",
        },
    )
    lifecycle.assign(g, CHAIN, SNAPSHOT, note="matched branch b-zto-east", now=T0)
    return _stored(g)


def _in(state: str) -> Record:
    g = _assigned()
    if state in {"acknowledged", "awaiting_worker", "resolved"}:
        g = _act(g, A.ACKNOWLEDGE, MEMBER)
    if state == "awaiting_worker":
        g = _act(g, A.REQUEST_INFO, MEMBER)
    if state == "resolved":
        g = _act(g, A.RESOLVE, MEMBER)
    assert g.state == state
    return g


def _types(g: Record) -> list[str]:
    return [e["type"] for e in g.events]


@pytest.mark.parametrize("state", list(ALLOWED))
@pytest.mark.parametrize("kind", list(ActionType))
def test_action_table_at_tier_one(state: str, kind: ActionType) -> None:
    """At tier 1 an action is applied exactly when the table allows it (refer never)."""
    g = _in(state)
    before = dict(g.fields)
    actor = WORKER if kind in lifecycle.WORKER_ACTIONS else MEMBER
    decision = lifecycle.act(g, _action(kind, actor), lifecycle.Situation(T0, CONFIG))
    assert (decision.refusal is None) == (kind in ALLOWED[state]), decision.refusal
    if decision.refusal is not None:
        assert {k: v for k, v in g.fields.items() if k != "seq"} == {
            k: v for k, v in before.items() if k != "seq"
        }
        assert _types(g) == ["action.refused"]


@pytest.mark.parametrize("state", [*ALLOWED, "closed", "withdrawn"])
@pytest.mark.parametrize("kind", list(ActionType))
def test_an_actor_outside_the_chain_is_always_refused(state: str, kind: ActionType) -> None:
    """Whatever the state, a member of another branch changes nothing but the refusal."""
    g = _in("resolved") if state in {"closed", "withdrawn"} else _in(state)
    if state == "closed":
        g = _act(g, A.FEEDBACK, WORKER, rating=5)
    if state == "withdrawn":
        g = _act(g, A.WITHDRAW, WORKER)
    stranger = (
        Actor(id="w-9999", role=Role.WORKER) if kind in lifecycle.WORKER_ACTIONS else STRANGER
    )
    decision = lifecycle.act(g, _action(kind, stranger), lifecycle.Situation(T0, CONFIG))
    assert decision.refusal is not None
    assert _types(g) == ["action.refused"]
    assert g.state == state


def test_escalation_walks_the_chain_then_is_refused_at_the_top() -> None:
    """Escalate goes member → branch → committee, then is refused."""
    g = _assigned()
    for tier, unit in ((2, "b-zto-east"), (3, "c-express")):
        g = _act(g, A.ESCALATE, COMMITTEE)
        assert (g.tier, g.get("assignee"), g.state) == (tier, unit, "assigned")
    decision = lifecycle.act(g, _action(A.ESCALATE, COMMITTEE), lifecycle.Situation(T0, CONFIG))
    assert decision.refusal == "the grievance is already at the top tier"


def test_only_the_committee_refers_to_the_joint_meeting() -> None:
    """Refer is refused below the committee and names the configured departments at it."""
    g = _assigned()
    below = lifecycle.act(g, _action(A.REFER, MEMBER), lifecycle.Situation(T0, CONFIG))
    assert below.refusal == "only the committee refers a grievance to the joint meeting"
    g = _act(_act(_assigned(), A.ESCALATE, COMMITTEE), A.ESCALATE, COMMITTEE)
    g = _act(g, A.REFER, COMMITTEE)
    assert "d-traffic-police" in g.get("departments")


@pytest.mark.parametrize(
    ("rating", "reopens", "state", "tier"),
    [
        (1, 0, "assigned", 2),
        (2, 1, "assigned", 2),
        (2, 2, "closed", 1),
        (3, 0, "closed", 1),
        (5, 0, "closed", 1),
    ],
)
def test_feedback_reopens_one_tier_up_at_most_n_times(
    rating: int, reopens: int, state: str, tier: int
) -> None:
    """Rating ≤ 2 reopens one tier up while reopens remain; otherwise the grievance closes."""
    g = _in("resolved")
    g.put("reopen_count", reopens)
    g = _act(_stored(g), A.FEEDBACK, WORKER, rating=rating)
    assert (g.state, g.tier) == (state, tier)


def test_a_reopened_committee_grievance_stays_with_the_committee() -> None:
    """A reopen at the top tier stays at the top tier."""
    g = _act(_act(_assigned(), A.ESCALATE, COMMITTEE), A.ESCALATE, COMMITTEE)
    g = _act(_act(g, A.RESOLVE, COMMITTEE), A.FEEDBACK, WORKER, rating=1)
    assert (g.tier, g.get("assignee"), g.state) == (3, "c-express", "assigned")


def test_extensions_are_limited() -> None:
    """The third extension is refused with the default limit of two."""
    g = _in("acknowledged")
    due = datetime.fromtimestamp(T0 / 1000, UTC)
    for days in (5, 10):
        g = _act(g, A.EXTEND, MEMBER, new_deadline=due + timedelta(days=days))
    third = lifecycle.act(
        g,
        _action(A.EXTEND, MEMBER, new_deadline=due + timedelta(days=15)),
        lifecycle.Situation(T0, CONFIG),
    )
    assert third.refusal == "the deadline was already extended 2 times (the limit)"


def test_reassign_only_at_tier_one_and_within_the_branch() -> None:
    """Reassign moves tier 1 within the branch; outside it, or above tier 1, it is refused."""
    g = _act(_assigned(), A.REASSIGN, MEMBER, assignee="m-li")
    assert (g.get("assignee"), g.get("c1u"), g.tier) == ("m-li", "m-li", 1)
    outside = lifecycle.act(
        g, _action(A.REASSIGN, BRANCH, assignee="m-zhao"), lifecycle.Situation(T0, CONFIG)
    )
    assert outside.refusal is not None
    assert "not a member of branch" in outside.refusal
    up = _act(_assigned(), A.ESCALATE, BRANCH)
    above = lifecycle.act(up, _action(A.REASSIGN, BRANCH), lifecycle.Situation(T0, CONFIG))
    assert above.refusal == "only a member (tier 1) can be reassigned, within the branch"


@pytest.mark.parametrize(
    ("kind", "state", "event"),
    [
        ("ack", "assigned", "grievance.escalated"),
        ("res", "acknowledged", "grievance.escalated"),
        ("wa", "assigned", "grievance.sla_warning"),
        ("wr", "acknowledged", "grievance.sla_warning"),
        ("fb", "resolved", "grievance.closed"),
        ("fbr", "resolved", "grievance.feedback_requested"),
    ],
)
def test_each_timer_has_its_effect(kind: str, state: str, event: str) -> None:
    """A pending timer fires its effect in the state it was set for."""
    g = _in(state)
    assert g.timer_pending(kind)
    assert lifecycle.fire(g, kind, T0) is not None
    assert _types(g) == [event]
    assert not (kind in {"wa", "wr", "fbr"} and g.timer_pending(kind))


def test_a_timer_in_a_state_it_was_not_set_for_does_nothing() -> None:
    """An ack timer firing after the acknowledgement has no effect."""
    g = _in("acknowledged")
    assert lifecycle.fire(g, "ack", T0) is None
    assert g.events == []


def _overdue_at_top(*missed: str) -> Record:
    """Return a committee grievance whose ``missed`` deadline timers fired (overdue)."""
    g = _act(_act(_assigned(), A.ESCALATE, COMMITTEE), A.ESCALATE, COMMITTEE)
    for kind in missed:
        lifecycle.fire(g, kind, T0)
        g = _stored(g)
    return g


def test_a_breach_at_the_top_marks_overdue_once_and_repeats_the_alarm() -> None:
    """At the committee a breach marks overdue and schedules the repeat alarm."""
    g = _overdue_at_top("ack")
    assert g.get("overdue") == "1"
    assert g.timer_pending("od")
    assert lifecycle.fire(g, "od", T0) is not None
    assert _types(g) == ["grievance.overdue"]
    assert g.timer_pending("od")


def test_acknowledging_after_a_reported_resolve_deadline_keeps_it_overdue() -> None:
    """Acknowledge does not re-arm a resolve deadline oversight was already told about."""
    g = _act(_overdue_at_top("ack", "res"), A.ACKNOWLEDGE, COMMITTEE)
    assert g.get("overdue") == "1"
    assert not g.timer_pending("res")
    assert g.timer_pending("od")


def test_acknowledging_a_missed_ack_clears_overdue_and_keeps_the_resolve_deadline() -> None:
    """A late committee ack answers the ack alarm; the resolve deadline stays pending."""
    g = _act(_overdue_at_top("ack"), A.ACKNOWLEDGE, COMMITTEE)
    assert g.get("overdue") == "0"
    assert set(g.kinds) == {"res", "wr"}


def test_worker_reply_on_an_overdue_grievance_resumes_only_the_repeat_alarm() -> None:
    """After a pause, a deadline already reported is not reported again."""
    g = _act(_overdue_at_top("ack", "res"), A.ACKNOWLEDGE, COMMITTEE)
    g = _act(_act(g, A.REQUEST_INFO, COMMITTEE), A.WORKER_REPLY, WORKER)
    assert g.get("overdue") == "1"
    assert g.kinds == ["od"]


@pytest.mark.parametrize(("missed", "overdue"), [(("res",), False), (("ack",), True)])
def test_an_extension_clears_only_the_overdue_it_replaces(
    missed: tuple[str, ...], overdue: bool
) -> None:
    """A new resolve deadline ends a resolve alarm but not an unanswered ack's."""
    g = _act(
        _overdue_at_top(*missed),
        A.EXTEND,
        COMMITTEE,
        new_deadline=datetime.fromtimestamp(T0 / 1000, UTC) + timedelta(days=20),
    )
    assert (g.get("overdue") == "1") is overdue
    assert g.timer_pending("od") is overdue
    assert {"res", "wr"} <= set(g.kinds)


def test_reclassifying_to_critical_recounts_the_running_deadlines_from_assignment() -> None:
    """Normal → critical: the SLA is taken afresh and the ack/resolve deadlines move earlier."""
    g = _assigned()
    before = (int(g.num("ack_due")), int(g.num("resolve_due")))
    action = _action(
        A.RECLASSIFY, MEMBER, category=None, urgency=Urgency.CRITICAL, reason="有燃气泄漏，人员被困"
    )
    assert lifecycle.act(g, action, lifecycle.Situation(T0 + 60_000, CONFIG)).refusal is None
    critical = sla.snapshot(CONFIG.sla, Urgency.CRITICAL, Category.ROAD_ACCESS)
    assert (g.get("urgency"), g.get("category")) == ("critical", "road_access")
    assert int(g.num("ack_due")) == T0 + int(critical["a1"] * 1000) < before[0]
    assert int(g.num("resolve_due")) == T0 + int(critical["r1"] * 1000) < before[1]
    assert set(g.kinds) >= {"ack", "res"}
    (event,) = g.events
    assert event["data"]["previous_urgency"] == "normal"
    assert event["data"]["deadline_moved"] is True
    assert event["reason"] == "有燃气泄漏，人员被困"


def test_reclassifying_needs_a_change_a_reason_and_a_unit_of_the_chain() -> None:
    """Same values, no reason, the worker, or a closed grievance: refused, nothing changes."""
    g = _assigned()
    for actor, fields in (
        (MEMBER, {"category": Category.ROAD_ACCESS}),
        (MEMBER, {"category": Category.WAGES, "reason": None}),
        (WORKER, {"category": Category.WAGES}),
    ):
        decision = lifecycle.act(
            g, _action(A.RECLASSIFY, actor, **fields), lifecycle.Situation(T0, CONFIG)
        )
        assert decision.refusal is not None
        assert g.get("category") == "road_access"
    closed = _act(_in("resolved"), A.FEEDBACK, WORKER, rating=5)
    late = lifecycle.act(
        closed,
        _action(A.RECLASSIFY, MEMBER, category=Category.WAGES),
        lifecycle.Situation(T0, CONFIG),
    )
    assert late.refusal == "the grievance is already closed"


def test_a_unit_of_the_chain_must_act_in_its_own_role() -> None:
    """The branch's id with the role 'member' is refused: roles agree with the chain."""
    g = _assigned()
    posing = Actor(id="b-zto-east", role=Role.MEMBER)
    decision = lifecycle.act(g, _action(A.ESCALATE, posing), lifecycle.Situation(T0, CONFIG))
    assert (
        decision.refusal == "actor b-zto-east is a branch in this grievance's chain, not a member"
    )
    assert _act(_assigned(), A.ESCALATE, BRANCH).tier == 2
