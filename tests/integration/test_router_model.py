"""Stateful property test: random actions and timers through the real engine on Redis leave
the stored grievance exactly where the pure lifecycle, applied in memory, says it is."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from redis.asyncio import Redis

from services.router import lifecycle
from services.router.engine import Engine
from shared.events import ENDED_STATES, Action, ActionType, Actor
from shared.record import TIME_FIELDS, Record
from tests.integration.router_support import KEYS, fast_config, make_grievance, submit

pytestmark = pytest.mark.integration

CONFIG = fast_config(ack=3600, resolve=7200)
WHO = ("assignee", "above", "stranger", "worker", "other_worker", "department")
KINDS = lifecycle.TIMER_KINDS
# Fields whose values depend on the clock (the model runs on its own "now").
CLOCK_FIELDS = {*TIME_FIELDS, "paused_remaining", "ack_in_sla", "resolve_in_sla", "v"}


class LifecycleMachine(RuleBasedStateMachine):
    """Drive one grievance with random steps; after each, Redis must equal the model."""

    sync: ClassVar[redis.Redis]
    url: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.client = Redis.from_url(self.url)
        self.engine = Engine(self.client, KEYS, CONFIG)
        grievance = make_grievance()
        self.gid = grievance.id
        self.run(submit(self.client, grievance))
        (outcome,) = self.run(self.engine.assign([grievance]))
        assert outcome.status == "assigned"
        self.model = Record(self.gid, self._stored())
        self.seen = self.model.seq
        self.counter = 0

    def teardown(self) -> None:
        self.run(self.client.aclose())
        self.loop.close()

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def _stored(self) -> dict[str, str]:
        raw = self.sync.hgetall(KEYS.grievance(self.gid))
        return {k.decode(): v.decode() for k, v in raw.items()}

    def _actor(self, who: str) -> Actor:
        above = self.model.get(f"c{min(self.model.tier + 1, 3)}u")
        return Actor.model_validate(
            {
                "assignee": {"id": self.model.get("assignee"), "role": "member"},
                "above": {"id": above, "role": "branch"},
                "stranger": {"id": "m-zhao", "role": "member"},
                "worker": {"id": "w-1001", "role": "worker"},
                "other_worker": {"id": "w-9999", "role": "worker"},
                "department": {"id": "d-street-office", "role": "department"},
            }[who]
        )

    @rule(
        action=st.sampled_from(list(ActionType)),
        who=st.sampled_from(WHO),
        rating=st.integers(1, 5),
        days=st.integers(1, 20),
    )
    def do_action(self, action: ActionType, who: str, rating: int, days: int) -> None:
        self.counter += 1
        other = "m-li" if self.model.get("assignee") == "m-wang" else "m-wang"
        deadline = datetime.now(UTC) + timedelta(days=days + self.counter)
        body: dict[str, Any] = {
            "action_id": f"{self.gid}-{self.counter}",
            "grievance_id": self.gid,
            "type": action.value,
            "actor": self._actor(who),
            "note": "补充材料",
            "reason": "需要协调物业",
            "resolution": "已解决",
            "rating": rating,
            "comment": "谢谢",
            "assignee": other,
            "new_deadline": deadline,
        }
        step = Action.model_validate(body)
        outcome = self.run(self.engine.act(step))
        decision = lifecycle.act(self.model, step, lifecycle.Situation(_now(), CONFIG))
        assert (outcome.status == "refused") == (decision.refusal is not None), outcome
        self._check(decision.records[0])

    @rule(kind=st.sampled_from(KINDS))
    def fire_timer(self, kind: str) -> None:
        record = self._stored()
        pending = kind in record.get("timers", "").split()
        if pending:  # make exactly this timer due now
            member = f"{self.gid}|{kind}|{record['gen']}"
            assert self.sync.zadd(KEYS.timers, {member: 0}, xx=True, ch=True) == 1
        fired = self.run(self.engine.fire_due(100))
        assert fired.fired + fired.stale == int(pending)
        if pending:
            lifecycle.fire(self.model, kind, _now())
        self._check(self.model)

    def _check(self, model: Record) -> None:
        stored = self._stored()
        fresh = self.sync.lrange(KEYS.timeline(self.gid), self.seen, -1)
        assert [json.loads(x)["type"] for x in fresh] == [e["type"] for e in model.events]
        same = {k: v for k, v in stored.items() if k not in CLOCK_FIELDS}
        assert same == {k: v for k, v in model.fields.items() if k not in CLOCK_FIELDS}
        self.model = Record(self.gid, stored, int(stored["v"]))
        self.seen = self.model.seq

    @invariant()
    def timers_and_indexes_match_the_record(self) -> None:
        """Scheduled timers are exactly the record's pending kinds; open iff not ended."""
        stored = self._stored()
        pending = {
            m.decode()
            for m in self.sync.zrange(KEYS.timers, 0, -1)
            if m.decode().startswith(self.gid + "|")
        }
        kinds = stored["timers"].split()
        assert pending == {f"{self.gid}|{k}|{stored['gen']}" for k in kinds}
        assert len(kinds) == len(set(kinds))
        is_open = self.sync.zscore(KEYS.open_index, self.gid) is not None
        assert is_open == (stored["state"] not in ENDED_STATES)


def _now() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


@pytest.fixture(name="sync_client")
def fixture_sync_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_the_engine_on_redis_agrees_with_the_pure_lifecycle(
    sync_client: redis.Redis, redis_url: str
) -> None:
    """Random action/timer sequences leave Redis exactly as the pure lifecycle predicts."""
    LifecycleMachine.sync = sync_client
    LifecycleMachine.url = redis_url
    run_state_machine_as_test(
        LifecycleMachine,
        settings=settings(
            max_examples=120,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
