"""KPIs (SPEC §7) from grievance records: the three rates, times, breaches, open/overdue.

* response rate — first acknowledged within the ack SLA, over grievances whose first
  response is decided: acknowledged, or its ack deadline passed unanswered (a breach was
  recorded, or the deadline is behind ``now``).  A grievance withdrawn before any deadline
  passed was never due, so it is not in the denominator;
* resolution rate (办结率) — resolved at least once, over grievances that were owed a
  resolution: a withdrawal ends the debt unless a deadline had already passed;
* satisfaction rate — ratings of 4 or 5 over all ratings.

A duplicate linked to an original (SPEC §7) has no clock of its own: it is in neither the
response nor the resolution denominator, its original carries that work.  Acknowledgement is
credited to the unit and tier that acknowledged (``ack_unit``/``ack_tier``); resolution, its
time and the rating of it to the unit and tier that resolved (``resolved_unit``/
``resolved_tier``), even after a reopen moved the grievance elsewhere.  Open, overdue, breaches
and pending decisions belong to whoever holds the grievance now.

Computed overall, per unit and per tier.  Records are read in pipelined batches from the
open and ended indexes; ``summarise`` is pure so a fixture can be checked by hand.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from shared.events import OPEN_STATES
from shared.redis.client import as_text
from shared.streams import Keys

STAT_FIELDS = (
    "state",
    "tier",
    "assignee",
    "submitted_at",
    "first_acked_at",
    "ack_in_sla",
    "ack_tier",
    "ack_unit",
    "resolved_at",
    "resolved_tier",
    "resolved_unit",
    "rating",
    "breaches",
    "overdue",
    "ack_due",
    "duplicate_of",
)


@dataclass
class Bucket:
    """Counters for one scope (overall, one unit, or one tier)."""

    total: int = 0
    open: int = 0
    overdue: int = 0
    breaches: int = 0
    responded_in_sla: int = 0
    response_decided: int = 0
    resolved: int = 0
    resolvable: int = 0
    satisfied: int = 0
    rated: int = 0
    ack_times: list[float] = field(default_factory=list)
    resolve_times: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "open": self.open,
            "overdue": self.overdue,
            "breaches": self.breaches,
            "response_rate": _rate(self.responded_in_sla, self.response_decided),
            "resolution_rate": _rate(self.resolved, self.resolvable),
            "satisfaction_rate": _rate(self.satisfied, self.rated),
            "ack_time_s": _quantiles(self.ack_times),
            "resolve_time_s": _quantiles(self.resolve_times),
        }


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p90": None}
    ordered = sorted(values)
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]  # nearest rank
    return {"median": round(statistics.median(ordered), 3), "p90": round(p90, 3)}


def _int(value: str | None) -> int:
    return int(value) if value else 0


def _deadline_missed(rec: Mapping[str, str], state: str, now_ms: int) -> bool:
    """Return whether a deadline of the grievance passed unmet (so it was due and not met).

    An ended grievance's deadlines are cleared, so its recorded breaches are what say so.
    """
    due = _int(rec.get("ack_due"))
    return bool(_int(rec.get("breaches")) or (state in OPEN_STATES and due and due < now_ms))


def _resolver(rec: Mapping[str, str], current: tuple[str, str]) -> tuple[str, str]:
    """Return the (unit, tier) that resolved the grievance, or the current one if unknown."""
    return rec.get("resolved_unit") or current[0], rec.get("resolved_tier") or current[1]


class _Scopes:
    """The buckets a grievance can count in: overall, per unit, per tier."""

    def __init__(self) -> None:
        self.overall = Bucket()
        self.units: dict[str, Bucket] = defaultdict(Bucket)
        self.tiers: dict[str, Bucket] = defaultdict(Bucket)

    def of(self, unit: str, tier: str) -> list[Bucket]:
        return [self.overall, self.units[unit], self.tiers[tier]]


def _count_work(
    rec: Mapping[str, str], current: list[Bucket], scopes: _Scopes, now_ms: int
) -> None:
    """Count the response, resolution and rating of one grievance that has a clock of its own."""
    state = rec.get("state", "")
    holder = (rec.get("assignee") or "-", rec.get("tier") or "-")
    submitted = _int(rec.get("submitted_at"))
    missed = _deadline_missed(rec, state, now_ms)
    if rec.get("first_acked_at"):
        for bucket in scopes.of(rec.get("ack_unit") or "-", rec.get("ack_tier") or "-"):
            bucket.response_decided += 1
            bucket.responded_in_sla += rec.get("ack_in_sla") == "1"
            bucket.ack_times.append((_int(rec["first_acked_at"]) - submitted) / 1000)
    elif missed:
        for bucket in current:
            bucket.response_decided += 1
    if rec.get("resolved_at"):
        for bucket in scopes.of(*_resolver(rec, holder)):
            bucket.resolvable += 1
            bucket.resolved += 1
            bucket.resolve_times.append((_int(rec["resolved_at"]) - submitted) / 1000)
    elif state != "withdrawn" or missed:
        for bucket in current:
            bucket.resolvable += 1
    if rec.get("rating"):
        for bucket in scopes.of(*_resolver(rec, holder)):
            bucket.rated += 1
            bucket.satisfied += _int(rec["rating"]) >= 4


def summarise(records: Iterable[Mapping[str, str]], now_ms: int = 0) -> dict[str, Any]:
    """Return the KPIs overall, ``by_unit`` and ``by_tier`` for raw grievance records.

    ``now_ms`` lets a passed ack deadline count as a missed response before its timer fires.
    """
    scopes = _Scopes()
    for rec in records:
        state = rec.get("state", "")
        current = scopes.of(rec.get("assignee") or "-", rec.get("tier") or "-")
        for bucket in current:
            bucket.total += 1
            bucket.open += state in OPEN_STATES
            bucket.overdue += rec.get("overdue") == "1" and state in OPEN_STATES
            bucket.breaches += _int(rec.get("breaches"))
        if not rec.get("duplicate_of"):  # else the original's clock and work stand for it
            _count_work(rec, current, scopes, now_ms)
    return {
        "overall": scopes.overall.as_dict(),
        "by_unit": {unit: b.as_dict() for unit, b in sorted(scopes.units.items())},
        "by_tier": {tier: b.as_dict() for tier, b in sorted(scopes.tiers.items())},
    }


async def load_records(client: Redis, keys: Keys, batch: int = 500) -> list[dict[str, str]]:
    """Return the KPI fields of every grievance: open, ended and archived (anonymised)."""
    ids: list[str] = []
    for index in (keys.open_index, keys.ended_index, keys.archived_index):
        ids.extend(as_text(i) for i in await client.zrange(index, 0, -1))
    records: list[dict[str, str]] = []
    for start in range(0, len(ids), batch):
        async with client.pipeline(transaction=False) as pipe:
            for gid in ids[start : start + batch]:
                pipe.hmget(keys.grievance(gid), list(STAT_FIELDS))
            rows = await pipe.execute()
        for row in rows:
            record = {f: v.decode() for f, v in zip(STAT_FIELDS, row, strict=True) if v is not None}
            if record:
                records.append(record)
    return records


async def compute(client: Redis, keys: Keys) -> dict[str, Any]:
    """Return the KPIs for everything in Redis now (by the Redis clock)."""
    seconds, micros = await client.time()
    return summarise(await load_records(client, keys), seconds * 1000 + micros // 1000)
