"""Civic duplicates in the lifecycle (pure): the link, the refusal, the fan-out, promotion."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.router import lifecycle, sla
from shared.config import load_config
from shared.events import Action, ActionType, Actor, Category, Role, Urgency
from shared.record import Link, Record

A = ActionType
CONFIG = load_config(Path(__file__).resolve().parents[2] / "config" / "demo.yaml")
SNAPSHOT = sla.snapshot(CONFIG.sla, Urgency.NORMAL, Category.PUBLIC_FACILITY)
T0 = int(datetime(2026, 11, 20, 2, 0, tzinfo=UTC).timestamp() * 1000)
EAST = (Link("m-wang", "王师傅", "member"), Link("b-zto-east", "城东", "branch"))
WEST = (Link("m-zhao", "赵师傅", "member"), Link("b-express-west", "城西", "branch"))
COMMITTEE = Link("c-express", "区快递行业党委", "committee")


def _record(gid: str, worker: str) -> Record:
    fields = {"state": "submitted", "worker_id": worker, "tracking_no": f"ZT-{gid}"}
    return Record(gid, {**fields, "category": "public_facility", "urgency": "normal"})


def _stored(g: Record) -> Record:
    return Record(g.id, dict(g.fields), g.version + 1)


def _linked() -> tuple[Record, Record]:
    """Return an original routed to 城东 and a duplicate (its own chain 城西) linked to it."""
    original, duplicate = _record("g-1", "w-1"), _record("g-2", "w-2")
    lifecycle.assign(original, (*EAST, COMMITTEE), SNAPSHOT, note="", now=T0)
    status, _ = lifecycle.assign(
        duplicate, (*WEST, COMMITTEE), SNAPSHOT, note="", now=T0, original=original
    )
    assert status == "linked"
    return _stored(original), _stored(duplicate)


def _action(kind: ActionType, actor: Actor, **fields: Any) -> Action:
    return Action(action_id=f"a-{kind}", grievance_id="g-2", type=kind, actor=actor, **fields)


@pytest.mark.parametrize(
    ("kind", "actor"),
    [
        (A.ACKNOWLEDGE, Actor(id="m-wang", role=Role.MEMBER)),  # the assignee it shows
        (A.RESOLVE, Actor(id="m-zhao", role=Role.MEMBER)),  # its own chain's member
        (A.ESCALATE, Actor(id="c-express", role=Role.COMMITTEE)),
        (A.FEEDBACK, Actor(id="w-2", role=Role.WORKER)),
    ],
)
def test_an_action_on_a_linked_duplicate_names_the_original_to_act_on(
    kind: ActionType, actor: Actor
) -> None:
    """Whoever asks, the refusal says it is linked and where to act — not who may act."""
    _original, duplicate = _linked()
    action = _action(kind, actor, resolution="已修", rating=3, reason="升级")
    decision = lifecycle.act(duplicate, action, lifecycle.Situation(T0, CONFIG))
    assert decision.refusal == "this report is linked to ZT-g-1 as a duplicate; act on that one"
    assert duplicate.events[-1]["data"]["refusal_kind"] == "not_now"


def test_a_linked_duplicates_worker_may_add_a_note_and_withdraw_it() -> None:
    """The reporter keeps their own two actions; withdrawing unlinks it from the original."""
    _original, duplicate = _linked()
    worker = Actor(id="w-2", role=Role.WORKER)
    situation = lifecycle.Situation(T0, CONFIG)
    assert (
        lifecycle.act(duplicate, _action(A.ADD_NOTE, worker, note="还在漏"), situation).refusal
        is None
    )
    duplicate = _stored(duplicate)
    assert lifecycle.act(duplicate, _action(A.WITHDRAW, worker), situation).refusal is None
    assert duplicate.state == "withdrawn"
    assert ["SREM", ("dups", "g-1"), "g-2"] in duplicate.extra


def test_a_withdrawn_original_promotes_its_duplicate_onto_its_own_chain() -> None:
    """Promotion clears the link, records where from, and routes on the duplicate's chain."""
    original, duplicate = _linked()
    withdraw = Action(
        action_id="w", grievance_id="g-1", type=A.WITHDRAW, actor=Actor(id="w-1", role=Role.WORKER)
    )
    situation = lifecycle.Situation(T0 + 1000, CONFIG, duplicates={"g-2": duplicate})
    decision = lifecycle.act(original, withdraw, situation)
    assert decision.records[1] is duplicate
    assert (duplicate.get("duplicate_of"), duplicate.get("original_tracking_no")) == ("", "")
    assert duplicate.get("promoted_from") == "g-1"
    assert (duplicate.state, duplicate.get("assignee")) == ("assigned", "m-zhao")
    assert {"ack", "res"} <= set(duplicate.kinds)


def test_a_resolved_original_closes_its_duplicate_which_stays_linked() -> None:
    """The fan-out closes the duplicate with the resolution; an action then says it is closed."""
    original, duplicate = _linked()
    resolve = Action(
        action_id="r",
        grievance_id="g-1",
        type=A.RESOLVE,
        actor=Actor(id="m-wang", role=Role.MEMBER),
        resolution="已修复",
    )
    situation = lifecycle.Situation(T0 + 1000, CONFIG, duplicates={"g-2": duplicate})
    assert lifecycle.act(original, resolve, situation).refusal is None
    assert (duplicate.state, duplicate.get("resolution")) == ("closed", "已修复")
    assert duplicate.get("duplicate_of") == "g-1"
    late = lifecycle.act(
        _stored(duplicate),
        _action(A.ADD_NOTE, Actor(id="w-2", role=Role.WORKER), note="谢谢"),
        lifecycle.Situation(T0 + 2000, CONFIG),
    )
    assert late.refusal == "the grievance is already closed"
