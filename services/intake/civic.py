"""Civic duplicates: a report near an open one of the same category is linked to it.

Workers act as "mobile grid members" (流动网格员): ten riders may photograph the same
broken water pipe.  The first report near a spot (default 50 m) within the window
(default 24 h) stays the original; later ones carry ``duplicate_of`` so the router can
link them and every reporter still hears the outcome.  Only originals are indexed, in a
Redis GEO set whose members are ``<category>:<grievance id>``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from shared.config import CivicDuplicates
from shared.events import CIVIC_CATEGORIES, ENDED_STATES, Grievance, State
from shared.streams import Keys

_NOT_OPEN = frozenset({*ENDED_STATES, State.RESOLVED})
# Nearest candidates examined per report; more than enough for one 50 m circle.
_CANDIDATES = 20


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(slots=True)
class CivicIndex:
    """GEO index of open civic reports, queried before each accept."""

    client: Redis
    keys: Keys
    policy: CivicDuplicates

    @staticmethod
    def _point(grievance: Grievance) -> tuple[float, float] | None:
        location = grievance.location
        if grievance.category not in CIVIC_CATEGORIES or location is None:
            return None
        if location.lat is None or location.lon is None:
            return None
        return location.lon, location.lat

    def is_candidate(self, grievance: Grievance) -> bool:
        """Return whether ``grievance`` takes part in civic duplicate linking at all."""
        return self._point(grievance) is not None

    async def find_original(self, grievance: Grievance) -> str | None:
        """Return the id of an open report this one duplicates, or ``None``."""
        point = self._point(grievance)
        if point is None:
            return None
        members = await self.client.geosearch(
            self.keys.civic_geo,
            longitude=point[0],
            latitude=point[1],
            radius=self.policy.radius_m,
            unit="m",
            sort="ASC",
            count=_CANDIDATES,
        )
        prefix = f"{grievance.category.value}:"
        cutoff_ms = (time.time() - self.policy.window) * 1000
        for raw in members:
            member = _text(raw)
            if not member.startswith(prefix):
                continue
            seen = await self.client.zscore(self.keys.civic_seen, member)
            if seen is None or seen < cutoff_ms:
                continue
            candidate = member.removeprefix(prefix)
            state = await self.client.hget(self.keys.grievance(candidate), "state")
            if state is not None and _text(state) not in _NOT_OPEN:
                return candidate
        return None

    async def remember(self, grievance: Grievance) -> None:
        """Index an accepted original civic report and forget reports past the window."""
        point = self._point(grievance)
        if point is None or grievance.duplicate_of is not None:
            return
        member = f"{grievance.category.value}:{grievance.id}"
        now_ms = grievance.submitted_at.timestamp() * 1000
        cutoff_ms = now_ms - self.policy.window * 1000
        stale = await self.client.zrangebyscore(self.keys.civic_seen, "-inf", cutoff_ms)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.geoadd(self.keys.civic_geo, [point[0], point[1], member])
            pipe.zadd(self.keys.civic_seen, {member: now_ms})
            if stale:
                pipe.zrem(self.keys.civic_geo, *stale)
                pipe.zrem(self.keys.civic_seen, *stale)
            await pipe.execute()
