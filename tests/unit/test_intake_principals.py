"""Who may do what: the principal policy over the demo directory (pure, no I/O)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.principals import (
    APP_ACTIONS,
    Holder,
    Policy,
    Principal,
    Tenancy,
    UnitTree,
    key_errors,
)
from shared.config import ApiKey, Config, load_config
from shared.events import ActionType, Actor, Role
from tests.conftest import ROOT

CONFIG = load_config(ROOT / "config" / "demo.yaml")
POLICY = Policy.of(CONFIG)
APP = Principal("demo-app", frozenset({"submit", "act", "read"}))
OTHER_APP = Principal("other-app", frozenset({"submit", "act", "read"}))
MEMBER = Principal("k-m", frozenset({"act", "read"}), Holder.UNIT, "m-wang")
BRANCH = Principal("k-b", frozenset({"act", "read"}), Holder.UNIT, "b-zto-east")
COMMITTEE = Principal("k-c", frozenset({"act", "read"}), Holder.UNIT, "c-express")
OVERSIGHT = Principal("k-o", frozenset({"act", "read"}), Holder.OVERSIGHT)
# A grievance of demo-app's worker w-1, held by member m-wang of b-zto-east (c-express).
FILED = Tenancy("demo-app", "w-1", frozenset({"m-wang", "b-zto-east", "c-express"}))
# The same app's grievance in another committee's chain.
ELSEWHERE = Tenancy("demo-app", "w-2", frozenset({"m-truck-chen", "b-drivers-home"}))
# What each key may speak for, written out from SPEC §3 (the test's own oracle).
SUBTREE = {
    "m-wang": {"m-wang"},
    "b-zto-east": {"b-zto-east", "m-wang", "m-li"},
    "c-express": {"c-express", "b-zto-east", "m-wang", "m-li", "b-express-west", "m-zhao"},
}
ROLE_OF = {
    "m-wang": Role.MEMBER,
    "m-li": Role.MEMBER,
    "m-zhao": Role.MEMBER,
    "m-truck-chen": Role.MEMBER,
    "b-zto-east": Role.BRANCH,
    "b-express-west": Role.BRANCH,
    "b-drivers-home": Role.BRANCH,
    "c-express": Role.COMMITTEE,
    "c-transport": Role.COMMITTEE,
    "d-hrss": Role.DEPARTMENT,
    "u-oversight": Role.OVERSIGHT,
}


def actor(actor_id: str, role: Role) -> Actor:
    """Return an actor as an action body carries it."""
    return Actor(id=actor_id, role=role)


def test_the_tree_puts_members_under_branches_under_committees() -> None:
    """A member is within its branch and committee, never within a sibling or another tree."""
    tree = UnitTree.of(CONFIG.directory)
    assert tree.within("m-wang", "m-wang")
    assert tree.within("m-wang", "b-zto-east")
    assert tree.within("m-wang", "c-express")
    assert not tree.within("m-wang", "m-li")
    assert not tree.within("b-zto-east", "m-wang")
    assert not tree.within("m-wang", "c-transport")
    assert tree.kinds["u-liangxin"] == "fallback"


@pytest.mark.parametrize(
    ("principal", "readable", "unreadable"),
    [
        (APP, [FILED, ELSEWHERE], [Tenancy("other-app", "w-1", FILED.units)]),
        (MEMBER, [FILED], [ELSEWHERE, Tenancy("demo-app", "w-1", frozenset({"m-li"}))]),
        (BRANCH, [FILED, Tenancy("x", "w", frozenset({"m-li"}))], [ELSEWHERE]),
        (COMMITTEE, [FILED, Tenancy("x", "w", frozenset({"m-zhao"}))], [ELSEWHERE]),
        (OVERSIGHT, [FILED, ELSEWHERE, Tenancy("x", "w", frozenset())], []),
    ],
)
def test_reads_are_tenant_scoped(
    principal: Principal, readable: list[Tenancy], unreadable: list[Tenancy]
) -> None:
    """An app reads what it filed, a unit its subtree, oversight everything."""
    assert all(POLICY.may_read(principal, g) for g in readable)
    assert not any(POLICY.may_read(principal, g) for g in unreadable)


def test_an_unassigned_grievance_is_read_by_its_app_and_oversight_only() -> None:
    """Before routing a grievance has no units: no unit key sees it."""
    fresh = Tenancy("demo-app", "w-1", frozenset())
    assert POLICY.may_read(APP, fresh)
    assert POLICY.may_read(OVERSIGHT, fresh)
    assert not any(POLICY.may_read(p, fresh) for p in (MEMBER, BRANCH, COMMITTEE))


@pytest.mark.parametrize(
    ("principal", "action", "who", "reason"),
    [
        (APP, ActionType.RESOLVE, actor("c-express", Role.COMMITTEE), "only as the worker"),
        (APP, ActionType.ACKNOWLEDGE, actor("w-1", Role.WORKER), "only as the worker"),
        (APP, ActionType.WITHDRAW, actor("m-wang", Role.WORKER), "not a worker"),
        (MEMBER, ActionType.ACKNOWLEDGE, actor("c-express", Role.COMMITTEE), "or a unit below"),
        (MEMBER, ActionType.ACKNOWLEDGE, actor("m-li", Role.MEMBER), "or a unit below"),
        (BRANCH, ActionType.WITHDRAW, actor("w-1", Role.WORKER), "or a unit below"),
        (BRANCH, ActionType.ACKNOWLEDGE, actor("c-express", Role.COMMITTEE), "or a unit below"),
        (COMMITTEE, ActionType.ACKNOWLEDGE, actor("c-transport", Role.COMMITTEE), "unit below"),
        (OVERSIGHT, ActionType.RESOLVE, actor("c-express", Role.COMMITTEE), "only as oversight"),
        (COMMITTEE, ActionType.ACKNOWLEDGE, actor("b-zto-east", Role.COMMITTEE), "a branch"),
        (MEMBER, ActionType.ACKNOWLEDGE, actor("m-wang", Role.WORKER), "not a worker"),
        (COMMITTEE, ActionType.ACKNOWLEDGE, actor("m-ghost", Role.MEMBER), "not a unit"),
        (OVERSIGHT, ActionType.ADD_NOTE, actor("u-oversight", Role.SYSTEM), "system"),
    ],
)
def test_an_actor_the_key_may_not_speak_for_is_refused_with_a_reason(
    principal: Principal, action: ActionType, who: Actor, reason: str
) -> None:
    """Unit actions from app keys, units above the key, role mismatches: refused, explained."""
    refusal = POLICY.actor_refusal(principal, action, who)
    assert refusal is not None
    assert reason in refusal


@pytest.mark.parametrize(
    ("principal", "action", "who"),
    [
        (APP, ActionType.FEEDBACK, actor("w-1", Role.WORKER)),
        (APP, ActionType.ADD_NOTE, actor("w-1", Role.WORKER)),
        (MEMBER, ActionType.ACKNOWLEDGE, actor("m-wang", Role.MEMBER)),
        (BRANCH, ActionType.ACKNOWLEDGE, actor("m-wang", Role.MEMBER)),
        (COMMITTEE, ActionType.RESOLVE, actor("b-zto-east", Role.BRANCH)),
        (OVERSIGHT, ActionType.ADD_NOTE, actor("u-oversight", Role.OVERSIGHT)),
    ],
)
def test_an_actor_the_key_speaks_for_passes(
    principal: Principal, action: ActionType, who: Actor
) -> None:
    """A unit key speaks as its unit or one below; an app as its worker; oversight as itself."""
    assert POLICY.actor_refusal(principal, action, who) is None
    assert POLICY.grievance_refusal(principal, who, FILED) is None


def test_an_app_speaks_only_for_the_worker_of_that_grievance() -> None:
    """Another worker id on the app's own grievance is refused."""
    refusal = POLICY.grievance_refusal(APP, actor("w-2", Role.WORKER), FILED)
    assert refusal is not None
    assert "not the worker" in refusal


def test_key_errors_name_unknown_units_and_shared_sources() -> None:
    """A unit key for an unknown unit, or one source with two holders, is a config error."""
    digest = "0" * 64
    keys = [
        ApiKey(source="x", key_sha256=digest, scopes=["read"], holder="unit", unit="nowhere"),
        ApiKey(source="demo-app", key_sha256=digest, scopes=["read"], holder="oversight"),
    ]
    config = CONFIG.model_copy(update={"api_keys": [*CONFIG.api_keys, *keys]})
    errors = key_errors(config)
    assert any("'nowhere'" in e for e in errors)
    assert any("'demo-app'" in e and "different holders" in e for e in errors)
    with pytest.raises(ValueError, match="nowhere"):
        Policy.of(config)
    assert key_errors(CONFIG) == []


def test_api_key_holders_are_checked_when_the_config_is_read() -> None:
    """A unit key must name its unit, and only app keys may submit."""
    digest = "0" * 64
    with pytest.raises(ValueError, match="names its `unit`"):
        ApiKey(source="x", key_sha256=digest, scopes=["read"], holder="unit")
    with pytest.raises(ValueError, match="only an app key may submit"):
        ApiKey(source="x", key_sha256=digest, scopes=["submit"], holder="oversight")


def _may_speak(principal: Principal, who: Actor, action: ActionType, grievance: Tenancy) -> bool:
    """Return the SPEC's answer, written independently of the policy module."""
    if principal.holder is Holder.APP:
        return (
            grievance.source == principal.source
            and who.role is Role.WORKER
            and who.id == grievance.worker_id
            and who.id not in ROLE_OF
            and action in APP_ACTIONS
        )
    if principal.holder is Holder.OVERSIGHT:
        return who.id == "u-oversight" and who.role is Role.OVERSIGHT
    subtree = SUBTREE[principal.unit or ""]
    return who.id in subtree and ROLE_OF.get(who.id) is who.role and bool(grievance.units & subtree)


UNIT_IDS = sorted(ROLE_OF)
principals = st.sampled_from([APP, OTHER_APP, MEMBER, BRANCH, COMMITTEE, OVERSIGHT])
actors = st.builds(
    Actor, id=st.sampled_from([*UNIT_IDS, "w-1", "w-2", "w-x"]), role=st.sampled_from(Role)
)
tenancies = st.builds(
    Tenancy,
    source=st.sampled_from(["demo-app", "other-app"]),
    worker_id=st.sampled_from(["w-1", "w-2"]),
    units=st.frozensets(st.sampled_from(UNIT_IDS), max_size=3),
)


@given(principal=principals, who=actors, action=st.sampled_from(ActionType), grievance=tenancies)
def test_no_key_gets_past_the_policy_for_an_actor_it_may_not_speak_for(
    principal: Principal, who: Actor, action: ActionType, grievance: Tenancy
) -> None:
    """Whatever key, actor, action and grievance: the policy lets through exactly the SPEC's."""
    passes = (
        POLICY.actor_refusal(principal, action, who) is None
        and POLICY.may_read(principal, grievance)
        and POLICY.grievance_refusal(principal, who, grievance) is None
    )
    assert passes == _may_speak(principal, who, action, grievance)


def test_the_demo_config_has_one_key_per_kind_of_holder() -> None:
    """The demo ships an app key and unit and oversight keys, and they pass the key checks."""
    config: Config = CONFIG
    holders = {(k.holder, k.unit) for k in config.api_keys}
    assert ("app", None) in holders
    assert ("oversight", None) in holders
    assert {"m-wang", "b-zto-east", "c-express"} <= {u for _, u in holders if u}
