"""KPIs for oversight (SPEC §7): the three rates, ack/resolve times, breaches, open/overdue.

``kpis`` is pure (records in, numbers out); the route only reads the router's hash fields.
Rates are ``null`` when nothing has been measured yet (0 of 0 is not 0%).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Depends
from redis.asyncio import Redis

from services.intake.auth import KeyRing
from shared.events import TERMINAL_STATES, State
from shared.streams import Keys

FIELDS = (
    "state", "tier", "assignee", "submitted_at", "first_acked_at", "resolved_at", "ack_due",
    "ack_in_sla", "resolve_in_sla", "resolved_unit", "resolved_tier", "breaches", "overdue",
    "rating",
)  # fmt: skip
_NOT_OPEN = frozenset({*TERMINAL_STATES, State.RESOLVED})
_SATISFIED = 4  # ratings of 4 and 5 count as satisfied
_CHUNK = 500

Record = Mapping[str, str]


def _ms(record: Record, field: str) -> int | None:
    value = record.get(field)
    return int(value) if value and value.lstrip("-").isdigit() else None


def _percentile(values: Sequence[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    # Nearest-rank: the smallest value with at least `fraction` of the data at or below it.
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def kpis(records: Iterable[Record], now_ms: int) -> dict[str, Any]:
    """Return the KPI block for ``records`` (router hash fields as text)."""
    total = acked_in_sla = ack_measured = resolved = rated = satisfied = 0
    breaches = open_count = overdue = 0
    ack_s: list[float] = []
    resolve_s: list[float] = []
    for r in records:
        total += 1
        submitted, first_ack, done = (
            _ms(r, "submitted_at"), _ms(r, "first_acked_at"), _ms(r, "resolved_at")
        )  # fmt: skip
        ack_due = _ms(r, "ack_due")
        if first_ack is not None:
            ack_measured += 1
            acked_in_sla += r.get("ack_in_sla") == "1"
            if submitted is not None:
                ack_s.append((first_ack - submitted) / 1000)
        elif ack_due is not None and ack_due < now_ms:
            ack_measured += 1  # never acknowledged and already late: a miss
        if done is not None:
            resolved += 1
            if submitted is not None:
                resolve_s.append((done - submitted) / 1000)
        if r.get("rating", "").isdigit():
            rated += 1
            satisfied += int(r["rating"]) >= _SATISFIED
        breaches += int(r.get("breaches") or 0) if (r.get("breaches") or "").isdigit() else 0
        is_open = r.get("state", State.SUBMITTED.value) not in _NOT_OPEN
        open_count += is_open
        overdue += is_open and r.get("overdue") not in {None, "", "0"}
    return {
        "total": total,
        "response_rate": _rate(acked_in_sla, ack_measured),
        "resolution_rate": _rate(resolved, total),
        "satisfaction_rate": _rate(satisfied, rated),
        "ack_time_s": {"median": _percentile(ack_s, 0.5), "p90": _percentile(ack_s, 0.9)},
        "resolve_time_s": {
            "median": _percentile(resolve_s, 0.5),
            "p90": _percentile(resolve_s, 0.9),
        },
        "breaches": breaches,
        "open": open_count,
        "overdue": overdue,
    }


def report(records: Sequence[Record], now_ms: int) -> dict[str, Any]:
    """Return KPIs overall, per unit (resolving unit, else current assignee) and per tier."""
    by_unit: dict[str, list[Record]] = defaultdict(list)
    by_tier: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_unit[r.get("resolved_unit") or r.get("assignee") or "unassigned"].append(r)
        by_tier[r.get("resolved_tier") or r.get("tier") or "0"].append(r)
    return {
        "overall": kpis(records, now_ms),
        "by_unit": {unit: kpis(rs, now_ms) for unit, rs in sorted(by_unit.items())},
        "by_tier": {tier: kpis(rs, now_ms) for tier, rs in sorted(by_tier.items())},
    }


async def load_records(client: Redis, keys: Keys) -> list[Record]:
    """Return the KPI fields of every grievance in the open and ended indexes."""
    ids: list[bytes] = [
        *await client.zrange(keys.open_index, 0, -1),
        *await client.zrange(keys.closed_index, 0, -1),
    ]
    records: list[Record] = []
    for start in range(0, len(ids), _CHUNK):
        async with client.pipeline(transaction=False) as pipe:
            for gid in ids[start : start + _CHUNK]:
                pipe.hmget(keys.grievance(gid.decode()), list(FIELDS))
            rows = await pipe.execute()
        for row in rows:
            if any(v is not None for v in row):
                records.append(
                    {f: v.decode() for f, v in zip(FIELDS, row, strict=True) if v is not None}
                )
    return records


def stats_router(keyring: KeyRing, client: Redis, keys: Keys) -> APIRouter:
    """Return ``GET /v1/stats`` (scope ``read``)."""
    router = APIRouter(tags=["stats"])

    @router.get("/v1/stats", dependencies=[Depends(keyring.require("read"))])
    async def stats() -> dict[str, Any]:
        """Return response, resolution and satisfaction rates and times, overall/unit/tier."""
        records = await load_records(client, keys)
        return report(records, int(time.time() * 1000))

    return router
