"""Finding grievances (SPEC §3): filters over the list indexes, newest first, page by page.

A query walks one index — the most selective one its filters allow, judged by ``ZCOUNT`` —
with ``ZRANGE … BYSCORE REV LIMIT`` and checks every other filter, and the reader's access,
on the candidates' indexed fields (pipelined ``HMGET``).  Its cost follows the page: at most
``budget`` candidates are checked per call; when the budget runs out first, the page comes
back short with a cursor to go on from (so a rare match deep in a large index costs several
short pages, never one unbounded read).

Order is (``submitted_at`` desc, id desc), and the cursor is the last position returned, so
paging is stable under ties and under grievances filed meanwhile (they come before it).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis

from shared.indexes import INDEXED_FIELDS, tenancy_units
from shared.redis.client import as_text
from shared.streams import Keys

DEFAULT_BUDGET = 1000
_MIN_FETCH = 16
_MAX_GROWTH = 16

Position = tuple[int, str]  # (submitted_at ms, grievance id)


def encode_cursor(position: Position) -> str:
    """Return the opaque cursor of a position in the order."""
    score, gid = position
    return base64.urlsafe_b64encode(f"{score}|{gid}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """Return the position a cursor names; raise ``ValueError`` if it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor this API returned") from exc
    score, sep, gid = text.partition("|")
    if not sep or not gid or not score.isdigit():
        raise ValueError("not a cursor this API returned")
    return int(score), gid


@dataclass(frozen=True)
class Query:
    """What to find.  ``None`` means "any"; every given filter must hold.

    ``unit_sets``: for each set, one of the grievance's units (chain, departments, assignee)
    must be in it — a ``unit`` filter's subtree, a unit key's subtree.
    """

    state: str | None = None
    unit_sets: tuple[frozenset[str], ...] = ()
    source: str | None = None
    worker_id: str | None = None
    category: str | None = None
    urgency: str | None = None
    overdue: bool | None = None
    needs_review: bool | None = None
    since_ms: int | None = None  # inclusive
    until_ms: int | None = None  # exclusive

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Return whether a grievance with these (indexed) fields is one to find."""
        if not fields.get("submitted_at"):
            return False
        for name, wanted in (
            ("state", self.state),
            ("source", self.source),
            ("worker_id", self.worker_id),
            ("category", self.category),
            ("urgency", self.urgency),
        ):
            if wanted is not None and fields.get(name) != wanted:
                return False
        for name, flag in (("overdue", self.overdue), ("needs_review", self.needs_review)):
            if flag is not None and (fields.get(name) == "1") != flag:
                return False
        submitted = int(fields["submitted_at"])
        if self.since_ms is not None and submitted < self.since_ms:
            return False
        if self.until_ms is not None and submitted >= self.until_ms:
            return False
        units = tenancy_units(fields)
        return all(units & wanted for wanted in self.unit_sets)

    def constraints(self) -> frozenset[str]:
        """Return the names of the conditions this query sets (time bounds aside)."""
        named = {f"unit{n}" for n in range(len(self.unit_sets))}
        for name in ("state", "source", "worker_id", "category", "urgency"):
            if getattr(self, name) is not None:
                named.add(name)
        for name in ("overdue", "needs_review"):
            if getattr(self, name) is not None:
                named.add(name)
        return frozenset(named)

    def drivers(self, keys: Keys, sources: Sequence[str]) -> list[Driver]:
        """Return the index unions a walk may start from (each holds every match)."""
        found = [
            Driver([keys.index_unit(u) for u in sorted(units)], frozenset({f"unit{n}"}))
            for n, units in enumerate(self.unit_sets)
        ]
        if self.worker_id is not None:
            among = [self.source] if self.source is not None else sources
            covers = {"worker_id", "source"} if self.source is not None else {"worker_id"}
            found.append(
                Driver([keys.index_worker(s, self.worker_id) for s in among], frozenset(covers))
            )
        for name, index in (
            ("source", keys.index_source),
            ("state", keys.index_state),
            ("category", keys.index_category),
            ("urgency", keys.index_urgency),
        ):
            wanted = getattr(self, name)
            if wanted is not None:
                found.append(Driver([index(wanted)], frozenset({name})))
        if self.overdue:
            found.append(Driver([keys.index_overdue], frozenset({"overdue"})))
        if self.needs_review:
            found.append(Driver([keys.index_needs_review], frozenset({"needs_review"})))
        found.append(Driver([keys.index_all], frozenset()))
        return found


@dataclass(frozen=True)
class Driver:
    """A union of indexes holding every match, and the conditions its members all meet."""

    keys: list[str]
    covers: frozenset[str]


@dataclass(frozen=True)
class Found:
    """A page of grievance ids, newest first, and where the next page starts."""

    ids: list[str]
    next_cursor: str | None
    scanned: int = 0


@dataclass
class _Walk:
    """One index read newest first, a batch at a time, from just after a position."""

    key: str
    after: Position | None
    upper: str
    lower: str
    buffer: list[Position] = field(default_factory=list)
    offset: int = 0
    exhausted: bool = False

    def command(self, size: int) -> tuple[str, str, str, int, int]:
        upper = str(self.after[0]) if self.after else self.upper
        return self.key, upper, self.lower, self.offset, size

    def take(self, reply: Sequence[tuple[bytes, int]], size: int) -> None:
        batch = [(int(score), as_text(member)) for member, score in reply]
        fresh = [p for p in batch if self.after is None or _before(p, self.after)]
        if len(batch) < size:
            self.exhausted = True
        if batch and not fresh and not self.exhausted:
            self.offset += size  # a run of ties already seen: look past it
            return
        self.buffer = fresh[::-1]  # popped from the end: newest last
        if batch:
            self.after, self.offset = batch[-1], 0


def _before(a: Position, b: Position) -> bool:
    """Return whether ``a`` comes after ``b`` in newest-first order."""
    return a[0] < b[0] or (a[0] == b[0] and a[1] < b[1])


def _bounds(query: Query, cursor: Position | None) -> tuple[str, str, Position | None]:
    """Return the score range to read (ZRANGE's max and min) and the position to start after."""
    lower = str(query.since_ms) if query.since_ms is not None else "-inf"
    if cursor is not None and (query.until_ms is None or cursor[0] < query.until_ms):
        return str(cursor[0]), lower, cursor
    upper = f"({query.until_ms}" if query.until_ms is not None else "+inf"
    return upper, lower, None


class _Merge:
    """The union of several walks, newest first, each grievance once."""

    def __init__(self, walks: list[_Walk], fetch: int) -> None:
        self.walks = walks
        self.fetch = fetch
        self.last: Position | None = None

    async def _fill(self, client: Redis) -> None:
        while True:
            empty = [w for w in self.walks if not w.buffer and not w.exhausted]
            if not empty:
                return
            async with client.pipeline(transaction=False) as pipe:
                for walk in empty:
                    key, upper, lower, offset, size = walk.command(self.fetch)
                    pipe.zrange(
                        key,
                        upper,
                        lower,
                        desc=True,
                        byscore=True,
                        offset=offset,
                        num=size,
                        withscores=True,
                        score_cast_func=int,
                    )
                replies = await pipe.execute()
            for walk, reply in zip(empty, replies, strict=True):
                walk.take(reply, self.fetch)

    @property
    def done(self) -> bool:
        """Return whether every walk has been read to its end."""
        return all(w.exhausted and not w.buffer for w in self.walks)

    async def next_batch(self, client: Redis, size: int) -> list[Position]:
        """Return up to ``size`` more positions (fewer only when every walk is done)."""
        found: list[Position] = []
        while len(found) < size:
            await self._fill(client)
            heads = [w for w in self.walks if w.buffer]
            if not heads:
                break
            top = max(heads, key=lambda w: w.buffer[-1])
            position = top.buffer.pop()
            if position != self.last:  # the same grievance in two indexes of a union
                found.append(position)
                self.last = position
        return found


async def find(
    client: Redis,
    keys: Keys,
    query: Query,
    *,
    limit: int,
    cursor: Position | None = None,
    budget: int = DEFAULT_BUDGET,
) -> Found:
    """Return up to ``limit`` ids of grievances matching ``query``, after ``cursor``."""
    upper, lower, after = _bounds(query, cursor)
    sources: list[str] = []
    if query.worker_id is not None and query.source is None:
        sources = sorted(as_text(s) for s in await client.smembers(keys.index_sources))
    drivers = query.drivers(keys, sources)
    async with client.pipeline(transaction=False) as pipe:
        for driver in drivers:
            for key in driver.keys:
                pipe.zcount(key, lower, upper)
        counts = iter(await pipe.execute())
    sized = [[(key, int(next(counts))) for key in driver.keys] for driver in drivers]
    best = min(range(len(drivers)), key=lambda n: sum(count for _, count in sized[n]))
    walks = [_Walk(key, after, upper, lower) for key, count in sized[best] if count > 0]
    if not walks:
        return Found([], None)
    # Every member of an index that covers every condition matches: no need to check.
    exact = drivers[best].covers >= query.constraints()
    merge = _Merge(walks, min(budget, max(_MIN_FETCH, 2 * (limit + 1) // len(walks))))
    matched: list[Position] = []
    scanned, growth = 0, 1
    last: Position | None = None
    while len(matched) <= limit and scanned < budget:
        # As many as still needed, then more each round while few of them match.
        want = min(budget - scanned, (limit + 1 - len(matched)) * growth)
        growth = min(growth * 2, _MAX_GROWTH)
        batch = await merge.next_batch(client, want)
        if not batch:
            return Found([gid for _, gid in matched], None, scanned)
        scanned += len(batch)
        last = batch[-1]
        if exact:
            matched.extend(batch)
            continue
        async with client.pipeline(transaction=False) as pipe:
            for _, gid in batch:
                pipe.hmget(keys.grievance(gid), list(INDEXED_FIELDS))
            rows = await pipe.execute()
        for position, row in zip(batch, rows, strict=True):
            fields = {n: as_text(v) for n, v in zip(INDEXED_FIELDS, row, strict=True) if v}
            if query.matches(fields):
                matched.append(position)
    if len(matched) > limit:
        page = matched[:limit]
        return Found([gid for _, gid in page], encode_cursor(page[-1]), scanned)
    # The budget ran out: a short page, and the cursor goes on from the last one checked.
    more = None if merge.done or last is None else encode_cursor(last)
    return Found([gid for _, gid in matched], more, scanned)
