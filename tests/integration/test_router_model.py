"""Stateful property test: random actions and timers through the real Lua scripts agree
with the pure model in ``services.router.machine``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from services.router import machine
from services.router.engine import Engine
from shared.events import ActionType, State
from shared.redis.scripts import script_source
from tests.integration.router_support import KEYS, fast_config, make_grievance

pytestmark = pytest.mark.integration

CONFIG = fast_config(ack=3600, resolve=7200)
WHO = ("assignee", "above", "stranger", "worker", "other_worker", "department")
KINDS = ("ack", "wa", "res", "wr", "fb", "fbr", "od")


class LifecycleMachine(RuleBasedStateMachine):
    """Drive one grievance with random steps; after each, Redis must equal the model."""

    client: ClassVar[redis.Redis]

    def __init__(self) -> None:
        super().__init__()
        self.act_script = self.client.register_script(script_source("act"))
        self.fire_script = self.client.register_script(script_source("fire_timers"))
        grievance = make_grievance()
        self.gid = grievance.id
        keys, args = Engine(self.client, KEYS, CONFIG)._assign_args(grievance)  # type: ignore[arg-type]
        status = self.client.register_script(script_source("assign"))(keys=keys, args=args)
        assert status[0] == b"assigned"
        record = self._record()
        self.chain = [record["c1u"], record["c2u"], record["c3u"]]
        self.model = machine.Model(assignee=self.chain[0])
        self.seen = 1
        self.deadline_ms = 10**13
        self.counter = 0

    def _record(self) -> dict[str, str]:
        raw = self.client.hgetall(KEYS.grievance(self.gid))
        return {k.decode(): v.decode() for k, v in raw.items()}

    def _actor(self, who: str) -> dict[str, str]:
        tier = self.model.tier
        return {
            "assignee": {"id": self.model.assignee, "role": "member"},
            "above": {"id": self.chain[min(tier, 2)], "role": "branch"},
            "stranger": {"id": "m-zhao", "role": "member"},
            "worker": {"id": "w-1001", "role": "worker"},
            "other_worker": {"id": "w-9999", "role": "worker"},
            "department": {"id": "d-street-office", "role": "department"},
        }[who]

    def _authorised(self, action: ActionType, who: str, departments: bool) -> bool:
        if action in {ActionType.FEEDBACK, ActionType.WITHDRAW, ActionType.WORKER_REPLY}:
            return who == "worker"
        if action is ActionType.ADD_NOTE and who == "worker":
            return True
        if action is ActionType.ADD_NOTE and who == "department" and departments:
            return True
        return who in {"assignee", "above"}

    @rule(
        action=st.sampled_from(list(ActionType)), who=st.sampled_from(WHO), rating=st.integers(1, 5)
    )
    def do_action(self, action: ActionType, who: str, rating: int) -> None:
        self.counter += 1
        record = self._record()
        other = "m-li" if self.model.assignee == "m-wang" else "m-wang"
        body: dict[str, Any] = {
            "action_id": f"{self.gid}-{self.counter}",
            "type": action.value,
            "actor": self._actor(who),
            "note": "补充材料",
            "reason": "需要协调物业",
            "resolution": "已解决",
            "rating": rating,
            "comment": "谢谢",
            "assignee": other,
            "assignee_name": other,
            "departments": ["d-street-office"],
            "new_deadline_ms": self.deadline_ms + self.counter * 86_400_000,
        }
        precheck = (
            "only a member can be reassigned"
            if (action is ActionType.REASSIGN and self.model.tier != 1)
            else ""
        )
        authorised = self._authorised(action, who, bool(record.get("departments"))) and not precheck
        self.act_script(
            keys=[
                KEYS.grievance(self.gid),
                KEYS.timeline(self.gid),
                KEYS.timers,
                KEYS.events,
                KEYS.applied_actions(self.gid),
                KEYS.open_index,
                KEYS.closed_index,
            ],
            args=[KEYS.prefix, self.gid, json.dumps(body, ensure_ascii=False), precheck],
        )
        step = machine.act(
            self.model,
            action,
            authorised=authorised,
            chain=tuple(self.chain),
            rating=rating,
            new_assignee=other,
        )
        if step.refusal is None and action is ActionType.REASSIGN:
            self.chain[0] = other
        self._check(step)

    @rule(kind=st.sampled_from(KINDS))
    def fire_timer(self, kind: str) -> None:
        record = self._record()
        if kind in record.get("timers", "").split():
            member = f"{self.gid}|{kind}|{record['gen']}"
            assert self.client.zadd(KEYS.timers, {member: 0}, xx=True, ch=True) == 1
        self.fire_script(keys=[KEYS.timers, KEYS.events], args=[KEYS.prefix, 100])
        self._check(machine.fire(self.model, kind, tuple(self.chain)))  # type: ignore[arg-type]

    def _check(self, step: machine.Step) -> None:
        record = self._record()
        fresh = self.client.lrange(KEYS.timeline(self.gid), self.seen, -1)
        timeline = [json.loads(x) for x in fresh]
        assert [e["type"] for e in timeline] == [e.value for e in step.events]
        expected_seq = list(range(self.seen + 1, self.seen + 1 + len(timeline)))
        assert [e["seq"] for e in timeline] == expected_seq
        self.seen += len(timeline)
        self.model = step.model
        assert record["state"] == self.model.state.value
        assert int(record["tier"]) == self.model.tier
        assert record["assignee"] == self.model.assignee
        assert (record.get("overdue") == "1") == self.model.overdue
        assert set(record["timers"].split()) == set(self.model.timers)
        pending = {
            m.decode()
            for m in self.client.zrange(KEYS.timers, 0, -1)
            if m.decode().startswith(self.gid + "|")
        }
        assert pending == {f"{self.gid}|{k}|{record['gen']}" for k in record["timers"].split()}
        assert (self.model.state in machine.ENDED) == (
            self.client.zscore(KEYS.open_index, self.gid) is None
        )


@pytest.fixture(name="sync_client")
def fixture_sync_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_scripts_agree_with_the_pure_model(sync_client: redis.Redis) -> None:
    """Random action/timer sequences leave Redis exactly as the pure model predicts."""
    LifecycleMachine.client = sync_client
    run_state_machine_as_test(
        LifecycleMachine,
        settings=settings(
            max_examples=150,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_model_never_leaves_an_ended_grievance() -> None:
    """Sanity of the model itself: every action on an ended grievance is refused."""
    ended = machine.Model(state=State.CLOSED, timers=frozenset())
    for action in ActionType:
        step = machine.act(ended, action, authorised=True, chain=("m", "b", "c"))
        assert step.refusal is not None
        assert step.model == ended


@pytest.mark.parametrize(("start", "seconds"), [
    ("2026-11-20T17:00:00+08:00", 4 * 3600), ("2026-11-24T03:00:00+08:00", 3600),
    ("2026-11-21T12:00:00+08:00", 3 * 86400), ("2026-11-23T09:30:00+08:00", 30),
])  # fmt: skip
def test_lua_working_time_matches_python(
    sync_client: redis.Redis, start: str, seconds: int
) -> None:
    """The Lua calendar arithmetic equals services.router.sla.add_working_ms."""
    from datetime import datetime

    from services.router import sla
    from shared.config import WorkingHours

    calendar = sla.calendar_snapshot(WorkingHours())
    start_ms = int(datetime.fromisoformat(start).timestamp() * 1000)
    source = script_source("fire_timers").split("local now = now_ms()")[0]
    lua = source + "\nreturn add_work(tonumber(ARGV[1]), tonumber(ARGV[2]), cjson.decode(ARGV[3]))"
    got = sync_client.eval(lua, 0, start_ms, seconds, json.dumps(calendar))
    assert got == sla.add_working_ms(start_ms, seconds, calendar)
