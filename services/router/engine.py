"""Adapters over the router's Lua scripts: assign, act, fire_timers (one round trip each)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from services.router import directory, sla
from shared.config import Config
from shared.events import Grievance
from shared.redis.client import as_text
from shared.redis.scripts import Scripts
from shared.streams import Keys


@dataclass(frozen=True, slots=True)
class Outcome:
    """Return what one script call did: ``assigned``/``applied``/``refused``/``skip``/…"""

    status: str
    detail: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Fired:
    fired: int
    stale: int
    lateness_ms: list[int] = field(default_factory=list)


def _text(values: Sequence[Any]) -> tuple[str, ...]:
    return tuple(as_text(v) for v in values)


class Engine:
    """Return the router's atomic operations bound to one Redis and one configuration."""

    def __init__(self, client: Redis, keys: Keys, config: Config) -> None:
        self.client = client
        self.keys = keys
        self.config = config
        self.scripts = Scripts(client)
        # The JSON derived from configuration depends only on these keys: encode it once.
        self._routes: dict[tuple[object, ...], tuple[str, str, str, str]] = {}
        self._snapshots: dict[tuple[str, str], str] = {}

    def _route_args(self, grievance: Grievance) -> tuple[str, str, str, str]:
        """Return (round-robin branch, candidates JSON, upper tiers JSON, note), cached."""
        worker = grievance.worker
        key = (worker.industry, worker.platform, worker.region, worker.station)
        cached = self._routes.get(key)
        if cached is None:
            route = directory.route(self.config, grievance)
            candidates = [c.as_dict(1) for c in route.candidates]
            cached = (
                route.branch.unit,
                json.dumps(candidates, ensure_ascii=False),
                json.dumps(route.chain(), ensure_ascii=False),
                route.note,
            )
            self._routes[key] = cached
        return cached

    def _snapshot_json(self, grievance: Grievance) -> str:
        key = (grievance.urgency.value, grievance.category.value)
        cached = self._snapshots.get(key)
        if cached is None:
            snap = sla.snapshot(self.config.sla, grievance.urgency, grievance.category)
            cached = self._snapshots[key] = json.dumps(snap)
        return cached

    def _assign_args(
        self, grievance: Grievance, document: bytes | None = None
    ) -> tuple[list[str], list[Any]]:
        branch, candidates, upper, note = self._route_args(grievance)
        keys = self.keys
        gid = grievance.id
        initial = {
            "tracking_no": grievance.tracking_no,
            "submitted_at": int(grievance.submitted_at.timestamp() * 1000),
            "worker_id": grievance.worker.id,
            "source": grievance.source,
            "category": grievance.category.value,
            "urgency": grievance.urgency.value,
            "anonymous": int(grievance.anonymous),
        }
        return (
            [
                keys.grievance(gid),
                keys.timeline(gid),
                keys.timers,
                keys.events,
                keys.open_index,
                keys.round_robin(branch),
            ],
            [
                keys.prefix,
                gid,
                candidates,
                upper,
                self._snapshot_json(grievance),
                note,
                json.dumps(initial, ensure_ascii=False),
                grievance.duplicate_of or "",
                document or grievance.model_dump_json(exclude_none=True),
            ],
        )

    async def assign(
        self, grievances: Sequence[Grievance], documents: Sequence[bytes] | None = None
    ) -> list[Outcome]:
        """Assign each grievance to tier 1 in one pipelined round trip.

        ``documents`` are the grievances' JSON as received (saves encoding them again).
        """
        script = self.scripts["assign"]
        docs: Sequence[bytes | None] = documents or [None] * len(grievances)
        async with self.client.pipeline(transaction=False) as pipe:
            for grievance, document in zip(grievances, docs, strict=True):
                keys, args = self._assign_args(grievance, document)
                await script(keys=keys, args=args, client=pipe)
            results = await pipe.execute(raise_on_error=False)
        outcomes = []
        for result in results:
            if isinstance(result, Exception):
                raise result
            status, *detail = _text(result)
            outcomes.append(Outcome(status, tuple(detail)))
        return outcomes

    async def act(self, grievance_id: str, action: dict[str, Any], refusal: str = "") -> Outcome:
        """Apply (or refuse) one normalised action atomically."""
        keys = self.keys
        result = await self.scripts.call(
            "act",
            [
                keys.grievance(grievance_id),
                keys.timeline(grievance_id),
                keys.timers,
                keys.events,
                keys.applied_actions(grievance_id),
                keys.open_index,
                keys.closed_index,
            ],
            [keys.prefix, grievance_id, json.dumps(action, ensure_ascii=False), refusal],
        )
        status, *detail = _text(result)
        return Outcome(status, tuple(detail))

    async def fire_due(self, batch: int) -> Fired:
        """Fire up to ``batch`` timers due by the Redis clock."""
        result = await self.scripts.call(
            "fire_timers", [self.keys.timers, self.keys.events], [self.keys.prefix, batch]
        )
        fired, stale, *lateness = (int(x) for x in result)
        return Fired(fired, stale, lateness)

    async def record(self, grievance_id: str, *fields: str) -> dict[str, str]:
        """Return selected fields of a grievance hash (empty strings when unset)."""
        values = await self.client.hmget(self.keys.grievance(grievance_id), list(fields))
        return {f: (as_text(v) if v else "") for f, v in zip(fields, values, strict=True)}
