"""KPIs (SPEC §7) read from the counters ``shared/kpi.py`` keeps: rates, times and counts.

* response rate — first acknowledged within the ack SLA ÷ responses due (acknowledged, or
  never acknowledged once a deadline passed: a breach is recorded);
* resolution rate (办结率) — resolved at least once ÷ resolutions owed (a withdrawal before
  any deadline passed owes none);
* satisfaction rate — ratings of 4 or 5 ÷ ratings;
* median and p90 times to first acknowledgement and to resolution, from fixed bins: each is
  the upper bound of the bin holding the nearest-rank quantile, so the true value is at
  most it and, from 1 minute to 90 days, more than 3/4 of it (``kpi.TIME_BOUNDS_S``).

Who is credited with what is defined once, in ``shared/kpi.py``.  ``compute`` reads the
all-time hash, or one hash per day of a window (a cohort: grievances submitted in
[since, until), UTC days): its cost grows with units × days, never with grievances.
``summarise`` gives the same report from records (pure, for fixtures checked by hand), and
``rebuild_counters`` recomputes every counter from the stored grievances.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from shared.kpi import (
    ACK_BIN,
    ALL,
    KPI_FIELDS,
    OVERFLOW,
    RESOLVE_BIN,
    TIME_BOUNDS_S,
    contribution,
    tally,
)
from shared.redis.client import as_text
from shared.streams import Keys

STAT_FIELDS = KPI_FIELDS
# A window reads one hash per day: a year (and a day) bounds the cost of one request.
MAX_WINDOW_DAYS = 366
CHUNK_DAYS = 31  # days read per round trip
REPORT_IN_THREAD = 20_000  # fields: more are parsed off the event loop
_COUNTS = (
    "responded_in_sla",
    "response_due",
    "resolved",
    "resolution_due",
    "satisfied",
    "rated",
)


class WindowError(ValueError):
    """Raised for a window that cannot be read (order, span, ``until`` without ``since``)."""


@dataclass(frozen=True, slots=True)
class Window:
    """Grievances submitted from ``since`` (inclusive) to ``until`` (exclusive), UTC days.

    Both ``None``: all time.
    """

    since: date | None = None
    until: date | None = None

    def days(self) -> list[str]:
        """Return every day of the window (``YYYY-MM-DD``); empty for all time."""
        if self.since is None or self.until is None:
            return []
        span = (self.until - self.since).days
        return [(self.since + timedelta(days=i)).isoformat() for i in range(span)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "cohort": "submitted",
            "timezone": "UTC",
        }


def window(since: date | None, until: date | None) -> Window:
    """Return the window [since, until) (both ``None``: all time), or raise why it is not one."""
    if since is None or until is None:
        if since is not None or until is not None:
            raise WindowError("a window needs since: [since, until), until defaulting to tomorrow")
        return Window()
    if until <= since:
        raise WindowError(f"until ({until}) must be after since ({since})")
    if (until - since).days > MAX_WINDOW_DAYS:
        raise WindowError(f"a window spans at most {MAX_WINDOW_DAYS} days")
    return Window(since, until)


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _quantiles(histogram: Mapping[int, int]) -> dict[str, float | None]:
    """Return the nearest-rank median and p90 of a binned sample (bin upper bound → count)."""
    bins = sorted(histogram.items())
    total = sum(n for _, n in bins)
    if not total:
        return {"median": None, "p90": None}

    def at(q: float) -> float:
        rank, seen = max(1, math.ceil(q * total)), 0
        for bound, n in bins:
            seen += n
            if seen >= rank:
                return float(bound)
        return float(bins[-1][0])

    return {"median": at(0.5), "p90": at(0.9)}


@dataclass
class _Scope:
    """One scope's counters, its two time histograms apart (bin upper bound → count)."""

    counts: dict[str, int] = field(default_factory=dict)
    acks: dict[int, int] = field(default_factory=dict)
    fixes: dict[int, int] = field(default_factory=dict)

    def kpis(self) -> dict[str, Any]:
        counts = self.counts
        responded, due = counts.get("responded_in_sla", 0), counts.get("response_due", 0)
        return {
            "total": counts.get("total", 0),
            "open": counts.get("open", 0),
            "overdue": counts.get("overdue", 0),
            "breaches": counts.get("breaches", 0),
            "response_rate": _rate(responded, due),
            "resolution_rate": _rate(counts.get("resolved", 0), counts.get("resolution_due", 0)),
            "satisfaction_rate": _rate(counts.get("satisfied", 0), counts.get("rated", 0)),
            "ack_time_s": _quantiles(self.acks),
            "resolve_time_s": _quantiles(self.fixes),
            "counts": {name: counts.get(name, 0) for name in _COUNTS},
        }


# A field's bin label (bytes, as read) → its bound in seconds; the overflow bin reads as the
# last bound (a label of another ladder, stored before a change of it, is read as written).
_BOUNDS = {str(b).encode(): b for b in TIME_BOUNDS_S} | {OVERFLOW.encode(): TIME_BOUNDS_S[-1]}
_ACK, _FIX = ACK_BIN.encode(), RESOLVE_BIN.encode()


def _scopes(counters: Mapping[bytes, bytes | int]) -> dict[str, _Scope]:
    """Return the non-zero counters by scope, each field parsed once and as read (bytes:
    a stats read goes through every field of the hashes it reads)."""
    scopes: dict[bytes, _Scope] = {}
    width = len(_ACK)
    assert len(_FIX) == width  # one slice tells the two histograms apart
    for name, raw in counters.items():
        count = int(raw)
        if not count:
            continue
        scope, _, counter = name.rpartition(b"|")
        found = scopes.get(scope)
        if found is None:
            found = scopes[scope] = _Scope()
        head = counter[:width]
        if head == _ACK:
            found.acks[_BOUNDS.get(counter[width:]) or int(counter[width:])] = count
        elif head == _FIX:
            found.fixes[_BOUNDS.get(counter[width:]) or int(counter[width:])] = count
        else:
            found.counts[counter.decode()] = count
    return {scope.decode(): found for scope, found in scopes.items()}


def _report(counters: Mapping[bytes, bytes | int], names: Mapping[str, str]) -> dict[str, Any]:
    scopes = _scopes(counters)
    overall = scopes.get(ALL, _Scope())

    def of(prefix: str) -> list[tuple[str, _Scope]]:
        found = [(s.removeprefix(prefix), c) for s, c in scopes.items() if s.startswith(prefix)]
        return sorted(found, key=lambda pair: pair[0])

    return {
        "overall": overall.kpis(),
        "by_unit": {u: {"name": names.get(u), **c.kpis()} for u, c in of("u:")},
        "by_tier": {t: c.kpis() for t, c in of("t:")},
        "by_state": {
            k.removeprefix("state:"): n
            for k, n in sorted(overall.counts.items())
            if k.startswith("state:")
        },
        "fallback_used": {
            c: {"name": names.get(c), "count": scope.counts.get("fallback_used", 0)}
            for c, scope in of("fb:")
        },
    }


def report(counters: Mapping[str, int], names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the KPIs overall, ``by_unit`` (with names), ``by_tier``, ``by_state`` and the
    ``fallback_used`` count per committee, from counters ``<scope>|<counter>`` → count."""
    return _report({name.encode(): count for name, count in counters.items()}, names or {})


def summarise(
    records: Iterable[Mapping[str, str]], names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return the all-time report of raw grievance records, summed from scratch (pure)."""
    counters: Counter[str] = Counter()
    for rec in records:
        counters.update(contribution(rec))
    return report(counters, names)


def _add(totals: dict[bytes, int], replies: Iterable[Mapping[bytes, bytes]]) -> None:
    get = totals.get  # runs once per field of every day read: kept lean
    for reply in replies:
        for name, count in reply.items():
            totals[name] = get(name, 0) + int(count)


async def _read(client: Redis, keys: Keys, span: Window) -> Mapping[bytes, bytes | int]:
    """Return the raw counters of ``span``: the all-time hash, or its days' hashes summed.

    Days are read a month at a time and summed off the event loop, so a long window never
    holds the service's other requests for the whole read.
    """
    days = span.days()
    if not days:
        # redis-py types replies as text or bytes; this client's are bytes.
        return cast("dict[bytes, bytes]", await client.hgetall(keys.kpi_all))
    totals: dict[bytes, int] = {}
    for first in range(0, len(days), CHUNK_DAYS):
        async with client.pipeline(transaction=False) as pipe:
            for day in days[first : first + CHUNK_DAYS]:
                pipe.hgetall(keys.kpi_day(day))
            replies: list[dict[bytes, bytes]] = await pipe.execute()
        await asyncio.to_thread(_add, totals, replies)
    return totals


async def read_counters(client: Redis, keys: Keys, span: Window) -> dict[str, int]:
    """Return the counters of ``span``: the all-time hash, or the sum of its days' hashes."""
    return {name.decode(): int(n) for name, n in (await _read(client, keys, span)).items()}


async def redis_today(client: Redis) -> date:
    """Return today's UTC date by the Redis clock (the clock every record's times use)."""
    seconds, _micros = await client.time()
    return datetime.fromtimestamp(int(seconds), UTC).date()


async def compute(
    client: Redis,
    keys: Keys,
    *,
    since: date | None = None,
    until: date | None = None,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the KPIs of grievances submitted in [since, until) — all time by default.

    ``until`` left out with ``since`` given means up to today (by the Redis clock), included.
    ``names`` (unit id → name, from the directory) are shown beside the ids.  Raises
    ``WindowError`` for a window that cannot be read.
    """
    if since is not None and until is None:
        until = await redis_today(client) + timedelta(days=1)
    span = window(since, until)
    counters = await _read(client, keys, span)
    if len(counters) > REPORT_IN_THREAD:  # parsing that many fields would hold the loop
        result = await asyncio.to_thread(_report, counters, names or {})
    else:
        result = _report(counters, names or {})
    return {"window": span.as_dict(), **result}


async def load_records(client: Redis, keys: Keys, batch: int = 500) -> dict[str, dict[str, str]]:
    """Return grievance id → KPI fields (and version ``v``) of every stored grievance."""
    ids: list[str] = []
    for index in (keys.open_index, keys.ended_index, keys.archived_index):
        ids.extend(as_text(i) for i in await client.zrange(index, 0, -1))
    fields = [*KPI_FIELDS, "v"]
    records: dict[str, dict[str, str]] = {}
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        async with client.pipeline(transaction=False) as pipe:
            for gid in chunk:
                pipe.hmget(keys.grievance(gid), fields)
            rows = await pipe.execute()
        for gid, row in zip(chunk, rows, strict=True):
            record = {f: as_text(v) for f, v in zip(fields, row, strict=True) if v is not None}
            if record:
                records[gid] = record
    return records


async def stored_counters(client: Redis, keys: Keys) -> dict[str, Counter[str]]:
    """Return every KPI counter hash as stored, without zero counters."""
    found: dict[str, Counter[str]] = {}
    async for raw in client.scan_iter(match=keys.kpi_pattern, count=1000):
        key = as_text(raw)
        counts = Counter({as_text(k): int(v) for k, v in (await client.hgetall(key)).items()})
        if +counts:
            found[key] = +counts
    return found


class RebuildRaceError(RuntimeError):
    """Raised when grievances kept changing under every attempt to rebuild the counters."""


async def rebuild_counters(client: Redis, keys: Keys, attempts: int = 5) -> int:
    """Recompute every KPI counter from the stored grievances; return how many were counted.

    For grievances stored before the counters existed (``zhitong reindex``).  Safe beside a
    running stack: the counters are replaced in one transaction, and unless every grievance
    (and the set of them) is unchanged from before the rebuild read it until after it wrote,
    it starts again — a change in between would have been lost.
    """
    for _ in range(attempts):
        records = await load_records(client, keys)
        totals = tally(keys, records.values())
        stale = [raw async for raw in client.scan_iter(match=keys.kpi_pattern, count=1000)]
        async with client.pipeline(transaction=True) as pipe:
            if stale:
                pipe.delete(*stale)
            for key, counts in totals.items():
                mapping: dict[FieldT, EncodableT] = dict(counts.items())
                pipe.hset(key, mapping=mapping)
            await pipe.execute()
        if _versions(await load_records(client, keys)) == _versions(records):
            return len(records)
    raise RebuildRaceError(f"grievances kept changing during {attempts} rebuilds; run it again")


def _versions(records: Mapping[str, Mapping[str, str]]) -> dict[str, tuple[str | None, ...]]:
    return {gid: (rec.get("v"), *(rec.get(f) for f in KPI_FIELDS)) for gid, rec in records.items()}
