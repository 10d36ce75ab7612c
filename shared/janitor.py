"""Stream hygiene: trim only what every group has acknowledged; forget dead consumers.

A blind ``MAXLEN`` on a consumed stream can delete entries still pending or not yet read
(SPEC §8).  ``safe_trim`` computes, per stream, the lowest id any group still needs — the
oldest pending entry, or the first entry after the group's last delivered one — and trims
with ``MINID`` only below both that bound and the retention age.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.logging import get_logger

log = get_logger(__name__)


def _id_tuple(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


async def _redis_ms(client: Redis) -> int:
    seconds, micros = await client.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def needed_from(client: Redis, stream: str) -> tuple[int, int] | None:
    """Return the lowest entry id some consumer group still needs (None = no groups)."""
    try:
        groups = await client.xinfo_groups(stream)
    except ResponseError:  # no such stream yet
        return None
    if not groups:
        return None
    bounds = []
    for group in groups:
        ms, seq = _id_tuple(group["last-delivered-id"])
        bounds.append((ms, seq + 1))
        if group["pending"]:
            summary = await client.xpending(stream, group["name"])
            bounds.append(_id_tuple(summary["min"]))
    return min(bounds)


async def safe_trim(client: Redis, stream: str, keep_ms: int, consumed: bool = True) -> int:
    """Trim entries older than ``keep_ms`` that no group still needs; return how many."""
    cutoff = (await _redis_ms(client) - keep_ms, 0)
    if consumed:
        needed = await needed_from(client, stream)
        if needed is None:
            return 0  # consumed stream without groups yet: nobody has read anything
        cutoff = min(cutoff, needed)
    removed: int = await client.xtrim(stream, minid=f"{cutoff[0]}-{cutoff[1]}", approximate=False)
    if removed:
        log.info("stream_trimmed", stream=stream, removed=removed)
    return removed


async def prune_consumers(client: Redis, stream: str, idle_ms: int, keep: str) -> list[str]:
    """Delete consumers with nothing pending that have been idle longer than ``idle_ms``."""
    removed: list[str] = []
    try:
        groups = await client.xinfo_groups(stream)
    except ResponseError:
        return removed
    for group in groups:
        name = group["name"]
        for consumer in await client.xinfo_consumers(stream, name):
            cname = consumer["name"]
            cname = cname.decode() if isinstance(cname, bytes) else cname
            if cname != keep and not consumer["pending"] and consumer["idle"] > idle_ms:
                await client.xgroup_delconsumer(stream, name, cname)
                removed.append(cname)
    if removed:
        log.info("consumers_pruned", stream=stream, consumers=removed)
    return removed


@dataclass(frozen=True, slots=True)
class Janitor:
    """Periodic hygiene pass over the system's streams."""

    client: Redis
    consumed: tuple[str, ...]
    logs: tuple[str, ...]
    keep_ms: int
    prune_idle_ms: int
    me: str

    async def sweep(self) -> None:
        """Trim every stream safely and prune dead consumers once."""
        for stream in self.consumed:
            await safe_trim(self.client, stream, self.keep_ms)
            await prune_consumers(self.client, stream, self.prune_idle_ms, self.me)
        for stream in self.logs:
            await safe_trim(self.client, stream, self.keep_ms, consumed=False)
