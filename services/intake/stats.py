"""``GET /v1/stats``: the KPIs of SPEC §7 read from the counters (``shared.stats``).

The answer costs units × days of the window, never the number of grievances stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from services.intake.auth import OVERSIGHT_ONLY, KeyRing
from shared import stats
from shared.streams import Keys


class Times(BaseModel):
    """Nearest-rank median and p90 in seconds: the upper bound of the bin holding each."""

    median: float | None
    p90: float | None


class Counts(BaseModel):
    """The numerators and denominators of the three rates."""

    responded_in_sla: int
    response_due: int
    resolved: int
    resolution_due: int
    satisfied: int
    rated: int


class Kpis(BaseModel):
    """The KPIs of one scope: overall, one unit or one tier."""

    total: int = Field(description="Grievances held (by the current holder)")
    open: int
    overdue: int
    breaches: int = Field(description="Missed deadlines, counted for the current holder")
    response_rate: float | None = Field(description="Acknowledged in SLA ÷ responses due")
    resolution_rate: float | None = Field(description="Resolved ÷ resolutions owed (办结率)")
    satisfaction_rate: float | None = Field(description="Ratings 4–5 ÷ ratings")
    ack_time_s: Times = Field(description="Time from submission to first acknowledgement")
    resolve_time_s: Times = Field(description="Time from submission to resolution")
    counts: Counts


class UnitKpis(Kpis):
    """One unit's KPIs with its name from the directory (``null`` if the unit is not in it)."""

    name: str | None


class FallbackUsed(BaseModel):
    """Grievances routed to the fallback unit because no branch of this committee matched."""

    name: str | None
    count: int


class Window(BaseModel):
    """The cohort counted: grievances submitted in [since, until), UTC days (null: all time)."""

    since: date | None
    until: date | None
    cohort: Literal["submitted"]
    timezone: Literal["UTC"]


class Stats(BaseModel):
    """KPIs overall, per unit and per tier, grievances by state, fallback use per committee."""

    window: Window
    overall: Kpis
    by_unit: dict[str, UnitKpis]
    by_tier: dict[str, Kpis]
    by_state: dict[str, int]
    fallback_used: dict[str, FallbackUsed] = Field(
        description="Per committee id ('-': no committee matched): a gap in the directory"
    )


def stats_router(
    keyring: KeyRing, client: Redis, keys: Keys, names: Mapping[str, str] | None = None
) -> APIRouter:
    """Return ``GET /v1/stats`` (scope ``read``, oversight keys only: the KPIs span all)."""
    router = APIRouter(tags=["stats"])

    @router.get(
        "/v1/stats",
        dependencies=[Depends(keyring.require("read", oversight_only=True))],
        responses={
            **OVERSIGHT_ONLY,
            422: {"description": "A date that is not YYYY-MM-DD, or a window that is not one"},
        },
    )
    async def get_stats(
        since: Annotated[
            date | None,
            Query(description="First day (UTC) of grievances submitted; all time if left out"),
        ] = None,
        until: Annotated[
            date | None,
            Query(description="Day after the window (UTC, excluded); default: tomorrow"),
        ] = None,
    ) -> Stats:
        """Return the response, resolution and satisfaction rates, times and counts of the
        grievances submitted in [since, until) — overall, per unit (with names) and tier."""
        try:
            kpis = await stats.compute(client, keys, since=since, until=until, names=names)
        except stats.WindowError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        return Stats.model_validate(kpis)

    return router
