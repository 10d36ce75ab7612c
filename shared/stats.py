"""KPIs (SPEC §7) from grievance records: the three rates, times, breaches, open/overdue.

* response rate — first acknowledged within the ack SLA, over grievances whose first
  response is decided (acknowledged, breached, or ended);
* resolution rate (办结率) — resolved at least once, over grievances not withdrawn;
* satisfaction rate — ratings of 4 or 5 over all ratings.

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


def _response_missed(rec: Mapping[str, str], state: str, now_ms: int) -> bool:
    """Return whether a never-acknowledged grievance has already missed its response SLA."""
    due = _int(rec.get("ack_due"))
    return bool(_int(rec.get("breaches")) or state not in OPEN_STATES or (due and due < now_ms))


def summarise(records: Iterable[Mapping[str, str]], now_ms: int = 0) -> dict[str, Any]:
    """Return the KPIs overall, ``by_unit`` and ``by_tier`` for raw grievance records.

    ``now_ms`` lets a passed ack deadline count as a missed response before its timer fires.
    """
    overall = Bucket()
    units: dict[str, Bucket] = defaultdict(Bucket)
    tiers: dict[str, Bucket] = defaultdict(Bucket)
    for rec in records:
        state = rec.get("state", "")
        current = [overall, units[rec.get("assignee") or "-"], tiers[rec.get("tier") or "-"]]
        for bucket in current:
            bucket.total += 1
            bucket.open += state in OPEN_STATES
            bucket.overdue += rec.get("overdue") == "1" and state in OPEN_STATES
            bucket.breaches += _int(rec.get("breaches"))
        submitted = _int(rec.get("submitted_at"))
        if rec.get("first_acked_at"):
            scopes = [overall, units[rec.get("ack_unit", "-")], tiers[rec.get("ack_tier", "-")]]
            for bucket in scopes:
                bucket.response_decided += 1
                bucket.responded_in_sla += rec.get("ack_in_sla") == "1"
                bucket.ack_times.append((_int(rec["first_acked_at"]) - submitted) / 1000)
        elif _response_missed(rec, state, now_ms):
            for bucket in current:
                bucket.response_decided += 1
        if state != "withdrawn":
            resolved = bool(rec.get("resolved_at"))
            scopes = current
            if resolved:
                unit, tier = rec.get("resolved_unit", "-"), rec.get("resolved_tier", "-")
                scopes = [overall, units[unit], tiers[tier]]
            for bucket in scopes:
                bucket.resolvable += 1
                bucket.resolved += resolved
                if resolved:
                    bucket.resolve_times.append((_int(rec["resolved_at"]) - submitted) / 1000)
        if rec.get("rating"):
            for bucket in current:
                bucket.rated += 1
                bucket.satisfied += _int(rec["rating"]) >= 4
    return {
        "overall": overall.as_dict(),
        "by_unit": {unit: b.as_dict() for unit, b in sorted(units.items())},
        "by_tier": {tier: b.as_dict() for tier, b in sorted(tiers.items())},
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
