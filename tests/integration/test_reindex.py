"""``zhitong reindex`` rebuilds the read side an older version did not keep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redis.asyncio import Redis

from shared.redis.client import as_text
from tests.helpers import eventually
from tests.integration.test_cli import GRIEVANCE, fixture_stack, zhitong_async

pytestmark = pytest.mark.integration
__all__ = ["fixture_stack"]

# Every list index and KPI hash (the open/ended/archived indexes predate them and stay).
READ_SIDE = (
    *(f"zt:idx:{name}:*" for name in ("state", "unit", "src", "wrk", "cat", "urg")),
    *(f"zt:idx:{name}" for name in ("all", "overdue", "review", "sources")),
    "zt:kpi:*",
)


async def _read_side(redis: Redis) -> dict[str, object]:
    """Return every index (members with scores) and KPI counter hash (non-zero), by key."""
    found: dict[str, object] = {}
    for pattern in READ_SIDE:
        async for raw in redis.scan_iter(match=pattern):
            key = as_text(raw)
            kind = as_text(await redis.type(key))
            if kind == "zset":
                found[key] = await redis.zrange(key, 0, -1, withscores=True)
            elif kind == "hash":
                # A counter moved back to 0 by the deltas reads as absent after a rebuild.
                found[key] = {
                    as_text(f): as_text(v)
                    for f, v in (await redis.hgetall(key)).items()
                    if as_text(v) != "0"
                }
    return found


async def test_reindex_rebuilds_what_an_upgrade_lacks(
    stack: None, redis_url: str, redis: Redis, tmp_path: Path
) -> None:
    """Routed grievances, their indexes and counters deleted: reindex puts back the same."""
    del stack
    for n in range(3):
        path = tmp_path / f"g{n}.json"
        body = {**GRIEVANCE, "worker": {**GRIEVANCE["worker"], "id": f"w-re-{n}"}}  # type: ignore[dict-item]
        path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        submitted = await zhitong_async("submit", "--file", str(path), redis_url=redis_url)
        assert submitted.exit_code == 0, submitted.output

    async def all_assigned() -> bool:
        states = await redis.zcard("zt:idx:state:assigned")
        return states == 3

    await eventually(all_assigned, timeout=10)
    kept = await _read_side(redis)
    assert "zt:idx:all" in kept
    assert any(key.startswith("zt:kpi") for key in kept)
    for key in kept:
        await redis.delete(key)
    assert await _read_side(redis) == {}

    result = await zhitong_async("reindex", redis_url=redis_url)
    assert result.exit_code == 0, result.output
    assert "indexed 3 grievances" in result.stdout
    assert await _read_side(redis) == kept
