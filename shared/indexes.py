"""Secondary indexes of grievances for the list endpoint (SPEC §3).

Each index is a sorted set of grievance ids scored by ``submitted_at`` (epoch ms), so every
list reads newest first with ``ZRANGE … BYSCORE REV LIMIT`` at a cost proportional to the
page, never to the history.  A grievance is a member of:

* ``index_all``; ``index_state(state)``; ``index_category``; ``index_urgency``;
* ``index_source(source)`` and ``index_worker(source, worker_id)``;
* ``index_unit(unit)`` for each of its *tenancy units* — the chain's units, the referred
  departments and the assignee, exactly the units ``services/intake/principals.py`` grants
  read access by (a unit key reads the union of its subtree's unit indexes);
* ``index_overdue`` while overdue, ``index_needs_review`` while flagged for review.

Memberships are a pure function of the record's fields (``memberships``), and every writer
commits the difference between the fields before and after its change in the same script
(``shared/readside.py``): an index never disagrees with a record.  ``rebuild_indexes``
recomputes them from the stored records (grievances stored before the indexes existed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from redis.asyncio import Redis

from shared.redis.client import as_text
from shared.streams import Keys

Write = tuple[str, str, list[str]]
# The hash fields the memberships depend on (a reader checking filters reads only these).
INDEXED_FIELDS = (
    "submitted_at",
    "state",
    "source",
    "worker_id",
    "category",
    "urgency",
    "overdue",
    "needs_review",
    "c1u",
    "c2u",
    "c3u",
    "assignee",
    "departments",
)
_CHAIN_UNITS = ("c1u", "c2u", "c3u")
_REBUILD_BATCH = 500


def tenancy_units(fields: Mapping[str, str]) -> frozenset[str]:
    """Return the units a grievance belongs to: its chain, departments and assignee."""
    units = {fields.get(name, "") for name in (*_CHAIN_UNITS, "assignee")}
    raw = fields.get("departments") or ""
    if raw:
        try:
            departments = json.loads(raw)
        except ValueError:
            departments = []
        if isinstance(departments, list):
            units.update(str(d) for d in departments)
    units.discard("")
    return frozenset(units)


def memberships(keys: Keys, fields: Mapping[str, str]) -> dict[str, str]:
    """Return every index key a grievance with ``fields`` belongs to, with its score."""
    score = fields.get("submitted_at", "")
    if not score:
        return {}
    found = [keys.index_all]
    for name, index in (
        ("state", keys.index_state),
        ("source", keys.index_source),
        ("category", keys.index_category),
        ("urgency", keys.index_urgency),
    ):
        if fields.get(name):
            found.append(index(fields[name]))
    if fields.get("source") and fields.get("worker_id"):
        found.append(keys.index_worker(fields["source"], fields["worker_id"]))
    if fields.get("overdue") == "1":
        found.append(keys.index_overdue)
    if fields.get("needs_review") == "1":
        found.append(keys.index_needs_review)
    found.extend(keys.index_unit(unit) for unit in sorted(tenancy_units(fields)))
    return dict.fromkeys(found, score)


def index_writes(
    keys: Keys, grievance_id: str, before: Mapping[str, str], after: Mapping[str, str]
) -> list[Write]:
    """Return the index writes that move a grievance from ``before`` to ``after``."""
    old, new = memberships(keys, before), memberships(keys, after)
    writes: list[Write] = [("ZREM", key, [grievance_id]) for key in old if key not in new]
    writes += [
        ("ZADD", key, [score, grievance_id]) for key, score in new.items() if old.get(key) != score
    ]
    source = after.get("source", "")
    if source and source != before.get("source", ""):
        writes.append(("SADD", keys.index_sources, [source]))
    return writes


def _families(keys: Keys) -> tuple[str, ...]:
    """Return SCAN patterns covering every index key this module writes (and no other)."""
    return (
        keys.index_all,
        keys.index_state("*"),
        keys.index_unit("*"),
        keys.index_source("*"),
        keys.index_worker("*", "*"),
        keys.index_category("*"),
        keys.index_urgency("*"),
        keys.index_overdue,
        keys.index_needs_review,
        keys.index_sources,
    )


async def _grievance_ids(client: Redis, keys: Keys) -> list[str]:
    head, tail = keys.grievance("\0").split("\0")
    pattern = keys.grievance("*")
    return [
        as_text(key)[len(head) : -len(tail) or None]
        async for key in client.scan_iter(match=pattern, count=1000)
    ]


async def _backfill_review_flag(
    client: Redis, keys: Keys, records: dict[str, dict[str, str]]
) -> None:
    """Copy ``needs_review`` from the document into records stored before the hash held it.

    The version bump makes a router commit decided on the older fields retry, so its
    index diff starts from the flag.
    """
    missing = [gid for gid, fields in records.items() if "needs_review" not in fields]
    if not missing:
        return
    docs = await client.mget([keys.document(gid) for gid in missing])
    async with client.pipeline(transaction=False) as pipe:
        for gid, doc in zip(missing, docs, strict=True):
            if doc and json.loads(doc).get("needs_review") is True:
                pipe.hsetnx(keys.grievance(gid), "needs_review", "1")
                pipe.hincrby(keys.grievance(gid), "v", 1)
                records[gid]["needs_review"] = "1"
        await pipe.execute()


async def rebuild_indexes(client: Redis, keys: Keys) -> int:
    """Recompute every list index from the stored records; return the grievances indexed.

    For grievances stored before the indexes existed (``zhitong reindex``).  Each index key is
    replaced in one transaction; run it while the router is stopped, or again once it is idle,
    since a change committed while it runs may be overwritten by the older picture.
    """
    wanted: dict[str, dict[str, str]] = {}
    sources: set[str] = set()
    ids = await _grievance_ids(client, keys)
    for start in range(0, len(ids), _REBUILD_BATCH):
        batch = ids[start : start + _REBUILD_BATCH]
        async with client.pipeline(transaction=False) as pipe:
            for gid in batch:
                pipe.hgetall(keys.grievance(gid))
            raws = await pipe.execute()
        records = {
            gid: {as_text(k): as_text(v) for k, v in raw.items()}
            for gid, raw in zip(batch, raws, strict=True)
            if raw
        }
        await _backfill_review_flag(client, keys, records)
        for gid, fields in records.items():
            for key, score in memberships(keys, fields).items():
                wanted.setdefault(key, {})[gid] = score
            if fields.get("source"):
                sources.add(fields["source"])
    stale = set()
    for pattern in _families(keys):
        stale.update([as_text(k) async for k in client.scan_iter(match=pattern, count=1000)])
    for key in stale - set(wanted):
        await client.delete(key)
    for key, members in wanted.items():
        async with client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            items = [(gid, int(score)) for gid, score in members.items()]
            for start in range(0, len(items), _REBUILD_BATCH):
                pipe.zadd(key, dict(items[start : start + _REBUILD_BATCH]))
            await pipe.execute()
    async with client.pipeline(transaction=True) as pipe:
        pipe.delete(keys.index_sources)
        if sources:
            pipe.sadd(keys.index_sources, *sorted(sources))
        await pipe.execute()
    return len(wanted.get(keys.index_all, {}))
