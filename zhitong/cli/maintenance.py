"""``zhitong reindex``: rebuild the read side (list indexes, KPI counters) from the records.

Every writer keeps the indexes and counters in the same script as its change, so they only
need rebuilding for grievances stored before they existed (an upgrade) or after a restore.
"""

from __future__ import annotations

from redis.asyncio import Redis

from shared.streams import DEFAULT_PREFIX, Keys
from zhitong.cli.common import Prefix, RedisUrl, console, with_redis


def reindex(*, redis_url: RedisUrl = None, prefix: Prefix = DEFAULT_PREFIX) -> None:
    """Rebuild the list indexes and KPI counters from the stored grievances (after an
    upgrade from a version without them, or a restore). Run it with the router stopped or
    idle: an index rebuilt while a change commits may miss that change."""
    from shared.indexes import rebuild_indexes  # noqa: PLC0415 - keeps the CLI start light
    from shared.stats import rebuild_counters  # noqa: PLC0415

    keys = Keys(prefix)

    async def work(client: Redis) -> tuple[int, int]:
        return await rebuild_indexes(client, keys), await rebuild_counters(client, keys)

    indexed, counted = with_redis(redis_url, work)
    console().print(f"indexed {indexed:,} grievances; KPI counters rebuilt from {counted:,}")
