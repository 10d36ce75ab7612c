"""Stateful property test: random lifecycles of several grievances through intake's accept
and the real router engine on Redis leave the KPI counters exactly equal to a recount of
the stored records from scratch — all-time and per submission day."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
import redis
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from redis.asyncio import Redis

from services.router import lifecycle
from services.router.engine import Engine
from shared.events import WORKER_ACTIONS, Action, ActionType, Actor, Grievance
from shared.kpi import KPI_FIELDS, tally
from shared.stats import Window, compute, read_counters, report
from tests.integration.router_support import KEYS, fast_config, make_grievance, submit

pytestmark = pytest.mark.integration

CONFIG = fast_config(ack=3600, resolve=7200)
# Where a worker is routed: a branch's members, the fallback under a committee (no branch
# matched), or the fallback alone (no committee).
WORKERS = {
    "branch": {"industry": "express_delivery", "platform": "中通", "region": "城东区"},
    "no_branch": {"industry": "express_delivery", "platform": "京东", "region": "城北区"},
    "no_committee": {"industry": "other"},
}
# The actions that move KPIs come up more often than the rest.
ACTIONS = [
    *list(ActionType),
    *[ActionType.ACKNOWLEDGE] * 3,
    *[ActionType.RESOLVE] * 3,
    *[ActionType.FEEDBACK] * 3,
    ActionType.ESCALATE,
    ActionType.REASSIGN,
    ActionType.WITHDRAW,
]
TIMERS = ["ack", "ack", "res", "fb", "od", "wa"]
MAX_GRIEVANCES = 6  # few enough that each one lives through many steps


class CountersMachine(RuleBasedStateMachine):
    """Several grievances, random steps; after each, counters = recount of the records."""

    sync: ClassVar[redis.Redis]
    url: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.sync.flushdb()
        self.loop = asyncio.new_event_loop()
        self.client = Redis.from_url(self.url)
        self.engine = Engine(self.client, KEYS, CONFIG)
        self.ids: list[str] = []
        self.unrouted: list[Grievance] = []
        self.steps = 0

    def teardown(self) -> None:
        self.run(self.client.aclose())
        self.loop.close()

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def _record(self, gid: str) -> dict[str, str]:
        raw = self.sync.hgetall(KEYS.grievance(gid))
        return {k.decode(): v.decode() for k, v in raw.items()}

    def _pick(self, index: int) -> str | None:
        return self.ids[index % len(self.ids)] if self.ids else None

    @rule(
        where=st.sampled_from(sorted(WORKERS)),
        days_ago=st.integers(0, 2),
        duplicate=st.sampled_from([None, None, None, 0, 1, 2, 3, 4]),
        route_now=st.booleans(),
    )
    def file(self, where: str, days_ago: int, duplicate: int | None, route_now: bool) -> None:
        """A worker files a grievance (maybe near an earlier one); routed now or later."""
        if len(self.ids) >= MAX_GRIEVANCES:
            return
        grievance = make_grievance(**{**WORKERS[where], "id": f"w-{len(self.ids)}"})
        grievance.submitted_at -= timedelta(days=days_ago, hours=days_ago)
        if duplicate is not None and self.ids:
            grievance.duplicate_of = self._pick(duplicate)
        self.run(submit(self.client, grievance))
        self.ids.append(grievance.id)
        self.unrouted.append(grievance)
        if route_now:
            self.route()

    @rule()
    def route(self) -> None:
        """The router takes every grievance waiting on zt:submitted."""
        if self.unrouted:
            self.run(self.engine.assign(self.unrouted))
            self.unrouted = []

    @rule(
        index=st.integers(0, 9),
        steps=st.lists(
            st.tuples(
                st.sampled_from(ACTIONS),
                st.sampled_from(["right", "right", "right", "above", "stranger"]),
                st.sampled_from([1, 1, 2, 3, 4, 5]),  # a low rating reopens
            ),
            min_size=1,
            max_size=4,
        ),
    )
    def act(self, index: int, steps: list[tuple[ActionType, str, int]]) -> None:
        """Someone takes a few actions on one grievance (a refusal changes no KPI)."""
        gid = self._pick(index)
        if gid is None:
            return
        for action, who, rating in steps:
            self.steps += 1
            record = self._record(gid)
            other = "m-li" if record.get("assignee") == "m-wang" else "m-wang"
            body: dict[str, Any] = {
                "action_id": f"a-{self.steps}",
                "grievance_id": gid,
                "type": action.value,
                "actor": self._actor(record, action, who),
                "note": "补充材料",
                "reason": "需要协调",
                "resolution": "已解决",
                "rating": rating,
                "assignee": other,
                "new_deadline": datetime.now(UTC) + timedelta(days=2 + self.steps),
                "category": "wages",
            }
            self.run(self.engine.act(Action.model_validate(body)))

    def _actor(self, record: dict[str, str], action: ActionType, who: str) -> Actor:
        if who == "right" and action in WORKER_ACTIONS:
            return Actor(id=record.get("worker_id", ""), role="worker")
        tier = int(record.get("tier") or 1)
        if who == "above":
            tier = min(tier + 1, 3)
        unit, kind = record.get(f"c{tier}u", ""), record.get(f"c{tier}k", "")
        if who == "stranger":
            unit, kind = "m-zhao", "member"
        role = kind if kind in {"member", "branch", "committee"} else "committee"
        return Actor(id=unit or "nobody", role=role)

    @rule(index=st.integers(0, 9), kind=st.sampled_from(TIMERS))
    def deadline_passes(self, index: int, kind: str) -> None:
        """A pending timer comes due now (an ack/resolve breach, the rating window ends, …)."""
        gid = self._pick(index)
        if gid is None:
            return
        record = self._record(gid)
        if kind not in record.get("timers", "").split():
            return
        member = f"{gid}|{kind}|{record['gen']}"
        assert self.sync.zadd(KEYS.timers, {member: 0}, xx=True, ch=True) == 1
        self.run(self.engine.fire_due(100))

    @invariant()
    def counters_equal_a_recount(self) -> None:
        """Every counter hash (all-time and per day) = the sum over the stored records."""
        records = [self._record(gid) for gid in self.ids]
        expected = tally(KEYS, [{k: r[k] for k in KPI_FIELDS if k in r} for r in records])
        stored: dict[str, Counter[str]] = {}
        for raw in self.sync.scan_iter(match=KEYS.kpi_pattern):
            counts = +Counter({k.decode(): int(v) for k, v in self.sync.hgetall(raw).items()})
            if counts:
                stored[raw.decode()] = counts
        for record in records:  # what was reached: pytest --hypothesis-show-statistics
            event(f"state {record.get('state')}")
            for name in ("rating", "reopen_count", "duplicate_of", "breaches"):
                if record.get(name) not in {None, "", "0"}:
                    event(name)
        assert stored == expected
        assert all(count >= 0 for counts in stored.values() for count in counts.values())
        counters = self.run(read_counters(self.client, KEYS, Window()))
        assert self.run(compute(self.client, KEYS))["overall"] == report(counters)["overall"]


@pytest.fixture(name="sync_client")
def fixture_sync_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_counters_kept_at_each_transition_equal_a_recount(
    sync_client: redis.Redis, redis_url: str
) -> None:
    """Random lifecycles (routing, acks, escalations, reassigns, resolutions, ratings and
    reopens, withdrawals, duplicates, breaches) keep the counters equal to a recount."""
    CountersMachine.sync = sync_client
    CountersMachine.url = redis_url
    run_state_machine_as_test(
        CountersMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_lifecycle_timer_kinds_are_all_driven() -> None:
    """The machine can make every kind of timer with a KPI effect come due."""
    assert {"ack", "res", "fb", "od"} <= set(TIMERS) <= set(lifecycle.TIMER_KINDS)
