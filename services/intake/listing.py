"""``GET /v1/grievances``: find grievances (SPEC §3), newest first, as JSON or CSV.

Every list starts from what the key may read — an app key its own source, a unit key its
unit's subtree, an oversight key everything — and narrows it with the filters; the query
itself (``shared/query.py``) walks the most selective index, so a page costs what a page
holds, whatever the history.  A ``unit`` outside a unit key's subtree, or a ``source`` other
than an app key's own, is refused (403) rather than answered with an empty page, so a typo
is not mistaken for "nothing there".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from redis.asyncio import Redis

from services.intake.auth import KeyRing
from services.intake.principals import Holder, Policy, Principal, Tenancy
from shared import export, query, views
from shared.events import Category, SourceName, State, Urgency
from shared.streams import Keys

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

_LIST_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page of grievances, newest first (`text/csv`: the same rows)",
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "headers": {
            "X-Next-Cursor": {
                "description": "CSV only: the cursor of the next page (absent on the last)",
                "schema": {"type": "string"},
            }
        },
    },
    403: {
        "description": "The key lacks `read`, or a `unit`/`source` filter asks for grievances "
        "outside what the key may read"
    },
    422: {"description": "Invalid parameter: one entry per error, with allowed values"},
}


def _utc(moment: datetime) -> datetime:
    # A time without a zone is read as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(_utc(moment).timestamp() * 1000)


class ListParams(BaseModel):
    """The list's query parameters: filters (all must hold), paging and format."""

    model_config = ConfigDict(extra="forbid")

    state: State | None = None
    unit: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Held by this unit or one below it (chain, referral or assignee)",
    )
    worker_id: str | None = Field(default=None, min_length=1, max_length=128)
    source: SourceName | None = Field(
        default=None, description="The app that filed it (an app key: only its own)"
    )
    category: Category | None = None
    urgency: Urgency | None = None
    overdue: bool | None = None
    needs_review: bool | None = Field(
        default=None, description="Flagged because the classifier was unsure"
    )
    since: datetime | None = Field(
        default=None, description="Submitted at or after this time (ISO 8601; UTC if no zone)"
    )
    until: datetime | None = Field(default=None, description="Submitted before this time")
    cursor: str | None = Field(
        default=None, max_length=400, description="`next_cursor` of the page before"
    )
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    fmt: Literal["json", "csv"] | None = Field(
        default=None, alias="format", description="`csv`: the same rows as CSV"
    )

    @field_validator("until")
    @classmethod
    def _after_since(cls, until: datetime | None, info: ValidationInfo) -> datetime | None:
        since = info.data.get("since")
        if until is not None and since is not None and _utc(since) >= _utc(until):
            raise ValueError("until must be later than since")
        return until

    @field_validator("cursor")
    @classmethod
    def _a_cursor(cls, cursor: str | None) -> str | None:
        if cursor:
            query.decode_cursor(cursor)  # raises ValueError: not one of ours
        return cursor


def _invalid(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": "value_error"}])


def _value(member: StrEnum | None) -> str | None:
    return member.value if member is not None else None


def _wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def scoped_query(policy: Policy, principal: Principal, params: ListParams) -> query.Query:
    """Return the query a key may run for ``params``; raise 403 for a scope beyond the key."""
    tree = policy.tree
    unit_sets: list[frozenset[str]] = []
    source, unit = params.source, params.unit
    if principal.holder is Holder.APP:
        if source is not None and source != principal.source:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"{principal} reads only the grievances it filed"
            )
        source = principal.source
    elif principal.holder is Holder.UNIT:
        top = principal.unit or ""
        if unit is not None and not tree.within(unit, top):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"'{unit}' is not '{top}' or a unit below it: {principal} reads only those",
            )
        if unit is None:
            unit_sets.append(tree.subtree(top))
    if unit is not None:
        unit_sets.append(tree.subtree(unit))
    return query.Query(
        state=_value(params.state),
        unit_sets=tuple(unit_sets),
        source=source,
        worker_id=params.worker_id,
        category=_value(params.category),
        urgency=_value(params.urgency),
        overdue=params.overdue,
        needs_review=params.needs_review,
        since_ms=_ms(params.since),
        until_ms=_ms(params.until),
    )


def listing_router(
    keyring: KeyRing,
    policy: Policy,
    client: Redis,
    keys: Keys,
    units: Mapping[str, views.UnitRef],
) -> APIRouter:
    """Return ``GET /v1/grievances`` (scope ``read``)."""
    router = APIRouter(prefix="/v1/grievances", tags=["grievances"])
    can_read = Depends(keyring.require("read"))

    @router.get("", response_model=views.GrievancePage, responses=_LIST_ERRORS)
    async def list_grievances(
        request: Request,
        params: Annotated[ListParams, Query()],
        principal: Principal = can_read,
    ) -> Response:
        """Find grievances this key may read, newest first, a page at a time.

        Filters combine (all must hold).  Follow `next_cursor` until it is null: a page may
        hold fewer than `limit` items before the end when most of what was scanned did not
        match (each request checks a bounded number of candidates).  `format=csv` (or
        `Accept: text/csv`) gives the same rows as CSV, the next cursor in `X-Next-Cursor`.
        """
        if params.unit is not None and params.unit not in policy.tree.kinds:
            raise _invalid("unit", f"'{params.unit}' is not a unit of the directory")
        found = await query.find(
            client,
            keys,
            scoped_query(policy, principal, params),
            limit=params.limit,
            cursor=query.decode_cursor(params.cursor) if params.cursor else None,
        )
        rows = [
            views.grievance_row(
                stored,
                reveal_worker=views.reveals_worker(stored.fields, principal.source),
                units=units,
            )
            for stored in await views.read_stored(client, keys, found.ids)
            if stored is not None and policy.may_read(principal, Tenancy.of_fields(stored.fields))
        ]
        if _wants_csv(request, params.fmt):
            headers = {"X-Next-Cursor": found.next_cursor} if found.next_cursor else {}
            return Response(export.to_csv(rows), media_type=export.MEDIA_TYPE, headers=headers)
        page = views.GrievancePage(items=rows, next_cursor=found.next_cursor)
        return Response(page.model_dump_json(), media_type="application/json")

    return router
