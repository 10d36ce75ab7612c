"""``GET /v1/stats``: the KPIs of SPEC §7, computed by ``shared.stats`` (one definition)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from redis.asyncio import Redis

from services.intake.auth import OVERSIGHT_ONLY, KeyRing
from shared import stats
from shared.streams import Keys


def stats_router(keyring: KeyRing, client: Redis, keys: Keys) -> APIRouter:
    """Return ``GET /v1/stats`` (scope ``read``, oversight keys only: the KPIs span all)."""
    router = APIRouter(tags=["stats"])

    @router.get(
        "/v1/stats",
        dependencies=[Depends(keyring.require("read", oversight_only=True))],
        responses=OVERSIGHT_ONLY,
    )
    async def get_stats() -> dict[str, Any]:
        """Return response, resolution and satisfaction rates and times, overall/unit/tier."""
        return await stats.compute(client, keys)

    return router
