"""The index of public Open311 reports, so a list costs its page and not the history.

Two kinds of sorted set, scored by requested time (epoch ms): one of every public report,
one per service code (``Keys.open311_requests``).  A page reads the window's newest ids
from the sets it needs (``ZRANGE … BYSCORE REV LIMIT``: O(log N + page)), then loads just
those reports in one pipeline: neither the stored grievances that are not public nor the
reports outside the window are ever touched.

The index is written by ``accept.lua`` in the step that accepts the report (see
``shared/store.py``), so a public report is never accepted without being listed;
``remember`` indexes reports accepted before that (a one-off repair, idempotent).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from services.intake.open311.query import STATUSES, RequestQuery
from services.intake.open311.views import (
    answered_by_original,
    is_linked,
    is_public,
    request_view,
)
from shared.redis.client import as_text
from shared.store import decode_record
from shared.streams import Keys

# Ids read per round when a status filter may drop some: enough for a dashboard's page in
# one or two rounds, small enough that a page of closed reports does not load thousands.
FILTERED_CHUNK = 200
Loaded = tuple[dict[str, Any], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class PublicReports:
    """The public Open311 reports: their index and their public views."""

    client: Redis
    keys: Keys

    async def remember(self, grievance_id: str) -> bool:
        """Index an accepted report if it is public; return whether it is (idempotent)."""
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hmget(self.keys.grievance(grievance_id), ["submitted_at", "category"])
            pipe.get(self.keys.document(grievance_id))
            (submitted, category), doc = await pipe.execute()
        if submitted is None or doc is None:
            return False
        if not is_public({"doc": json.loads(doc)}):
            return False
        score = int(as_text(submitted))
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zadd(self.keys.open311_requests(), {grievance_id: score})
            pipe.zadd(self.keys.open311_requests(as_text(category or b"")), {grievance_id: score})
            await pipe.execute()
        return True

    async def one(self, grievance_id: str) -> dict[str, Any] | None:
        """Return one public report's view, or ``None`` when unknown or not public."""
        return (await self._views([grievance_id]))[0]

    async def page(self, query: RequestQuery) -> list[dict[str, Any]]:
        """Return the views a ``GET requests`` query selects, newest first."""
        if query.ids:
            ids = await self._resolve(query.ids)
            return [view for view in await self._views(ids) if view is not None]
        views: dict[str, dict[str, Any]] = {}
        chunk = query.limit if query.statuses == STATUSES else FILTERED_CHUNK
        async for batch in self._newest(query, chunk):
            # A report filed between two reads shifts the offsets by one: never list it twice.
            for view in await self._views([gid for gid in batch if gid not in views]):
                if view is not None and view["status"] in query.statuses:
                    views[view["service_request_id"]] = view
                    if len(views) == query.limit:
                        return list(views.values())
        return list(views.values())

    async def _resolve(self, refs: Sequence[str]) -> list[str]:
        """Return the grievance id of each reference (an id or a tracking number)."""
        found = await self.client.mget([self.keys.tracking(ref) for ref in refs])
        ids = (as_text(gid) if gid else ref for ref, gid in zip(refs, found, strict=True))
        return list(dict.fromkeys(ids))

    async def _newest(self, query: RequestQuery, chunk: int) -> AsyncIterator[list[str]]:
        """Yield the window's ids newest first, in batches, merged over the sets queried.

        Each set is read ``chunk`` ids at a time; ids are handed out only while every set
        that may hold more has some buffered, so the merge never yields out of order.
        """
        keys = [self.keys.open311_requests(c) for c in query.service_codes] or [
            self.keys.open311_requests()
        ]
        offsets = dict.fromkeys(keys, 0)
        buffers: dict[str, deque[tuple[str, float]]] = {key: deque() for key in keys}
        live = set(keys)
        while live or any(buffers.values()):
            empty = [key for key in keys if key in live and not buffers[key]]
            if empty:
                async with self.client.pipeline(transaction=False) as pipe:
                    for key in empty:
                        pipe.zrange(
                            key,
                            query.end_ms,
                            query.start_ms,
                            desc=True,
                            byscore=True,
                            offset=offsets[key],
                            num=chunk,
                            withscores=True,
                        )
                    replies = await pipe.execute()
                for key, rows in zip(empty, replies, strict=True):
                    offsets[key] += len(rows)
                    buffers[key].extend((as_text(member), score) for member, score in rows)
                    if len(rows) < chunk:
                        live.discard(key)
            batch: list[str] = []
            while all(buffers[key] for key in live) and any(buffers.values()):
                newest = max((key for key in keys if buffers[key]), key=lambda k: buffers[k][0][1])
                batch.append(buffers[newest].popleft()[0])
            if batch:
                yield batch

    async def _load(self, ids: Sequence[str]) -> dict[str, Loaded | None]:
        """Return each report's decoded record (with ``doc``) and last timeline event."""
        unique = list(dict.fromkeys(ids))
        async with self.client.pipeline(transaction=False) as pipe:
            for gid in unique:
                pipe.hgetall(self.keys.grievance(gid))
                pipe.get(self.keys.document(gid))
                pipe.lindex(self.keys.timeline(gid), -1)
            replies = await pipe.execute()
        loaded: dict[str, Loaded | None] = {}
        for i, gid in enumerate(unique):
            raw, doc, last = replies[3 * i : 3 * i + 3]
            if not raw:
                loaded[gid] = None
                continue
            record = decode_record(raw)
            record["doc"] = json.loads(doc) if doc else None
            loaded[gid] = (record, json.loads(last) if last else {})
        return loaded

    async def _views(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Return the public view of each id in order (``None`` where not public)."""
        if not ids:
            return []
        loaded = await self._load(ids)
        views = {
            gid: request_view(gid, *found)
            for gid, found in loaded.items()
            if found is not None and is_public(found[0])
        }
        # A duplicate's original is read even when it is not public: a linked duplicate
        # shows its progress (state words, the responsible unit), never its content.
        wanted = {v["duplicate_of"] for v in views.values() if v["duplicate_of"]} - set(loaded)
        if wanted:
            loaded.update(await self._load(sorted(wanted)))
        return [self._answered(views[gid], loaded) if gid in views else None for gid in ids]

    @staticmethod
    def _answered(view: dict[str, Any], loaded: dict[str, Loaded | None]) -> dict[str, Any]:
        """Return a public view, a duplicate's with its original's progress (SPEC §7)."""
        original_id = view["duplicate_of"]
        own = loaded.get(view["service_request_id"])
        if not original_id or own is None:
            return {k: v for k, v in view.items() if k != "duplicate_of"}
        found = loaded.get(original_id)
        return answered_by_original(
            view,
            request_view(original_id, *found) if found else None,
            public=found is not None and is_public(found[0]),
            linked=is_linked(own[0]),
        )
