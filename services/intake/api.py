"""The public HTTP API (SPEC §3): submit, read and act on grievances.

Every refusal is a 4xx with a body that says what to fix; nothing a client sends can
produce a 5xx.  Readers other than the submitting app never see a worker's name or phone.
Who may read and act is decided by ``principals.Policy`` alone: a grievance a key may not
read answers exactly as an unknown id does (404), and an actor the key may not speak for is
refused with 403 before anything reaches the router.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from redis.asyncio import Redis

from services.intake.auth import KeyRing
from services.intake.principals import Policy, Principal, Tenancy
from services.intake.submission import Intake
from shared import codec, store, views
from shared.config import SlaPolicy
from shared.events import (
    MAX_NOTES,
    Accepted,
    Action,
    ActionIn,
    ActionType,
    Channel,
    EventType,
    GrievanceIn,
)
from shared.ids import new_action_id
from shared.logging import get_logger
from shared.streams import PAYLOAD_FIELD, Keys

log = get_logger(__name__)

IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Repeat a request safely: the same key from the same source never "
        "creates a second grievance or action.",
    ),
]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or unknown API key"},
    403: {"description": "The API key lacks the scope this call needs"},
    413: {"description": "Body larger than the configured limit"},
    415: {"description": "Body is not JSON"},
    422: {"description": "Invalid body: one entry per field error, with allowed values"},
}
# Answered by the app's JsonDepthLimit before the body is parsed.
_TOO_DEEP: dict[int | str, dict[str, Any]] = {
    400: {"description": f"Body JSON nests deeper than {codec.MAX_DEPTH} levels (the limit)"}
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such grievance, or none this API key may read (the same answer)"}
}
MISSING_CONTENT_TYPE = "Content-Type header is missing: send the body as application/json (UTF-8)"


async def require_json(request: Request) -> None:
    """Refuse a body that is not declared as JSON (415) before it is parsed."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not media:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, MISSING_CONTENT_TYPE)
    if media != "application/json" and not media.endswith("+json"):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type must be application/json (UTF-8), got '{media}'",
        )


def _one_key(header: str | None, field: str | None) -> str | None:
    if header and field and header != field:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "Idempotency-Key header and idempotency_key field differ; send one of them",
        )
    return header or field


def _not_found(grievance_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"No grievance '{grievance_id}'")


def _forbidden(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, f"{reason}; nothing was applied")


def _note_count(record: dict[str, Any], timeline: list[dict[str, Any]]) -> int:
    """Return a grievance's notes: the router's counter, or (older records) the timeline's."""
    counted = str(record.get("notes") or "")
    if counted.isdigit():
        return int(counted)
    return sum(entry.get("type") == EventType.NOTE_ADDED for entry in timeline)


def limit_refusal(
    action: ActionIn, record: dict[str, Any], timeline: list[dict[str, Any]], sla: SlaPolicy
) -> str | None:
    """Return why ``action`` passes a limit the router would refuse it for, or ``None``.

    The router stays the authority (two notes racing for the last place both pass here);
    answering here spares the client an ``action.refused`` it would have to poll for.
    """
    if action.type is ActionType.ADD_NOTE:
        notes = _note_count(record, timeline)
        if notes >= MAX_NOTES:
            return f"this grievance already has {notes} notes (the limit is {MAX_NOTES})"
    due = record.get("resolve_due")
    if action.type is ActionType.EXTEND and action.new_deadline is not None and due:
        # No resolve deadline (paused, resolved, closed): the router refuses by state.
        return sla.extension_refusal(datetime.fromisoformat(due), action.new_deadline)
    return None


def grievance_router(
    intake: Intake,
    keyring: KeyRing,
    policy: Policy,
    client: Redis,
    keys: Keys,
    *,
    sla: SlaPolicy,
    units: Mapping[str, views.UnitRef] | None = None,
) -> APIRouter:
    """Return the ``/v1/grievances`` routes bound to one intake, key ring and policies."""
    router = APIRouter(prefix="/v1/grievances", tags=["grievances"], responses=_ERRORS)
    can_submit = Depends(keyring.require("submit"))
    can_read = Depends(keyring.require("read"))
    can_act = Depends(keyring.require("act"))

    @router.post(
        "",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=Accepted,
        dependencies=[Depends(require_json)],
        responses={
            **_TOO_DEEP,
            200: {"model": Accepted, "description": "Repeat of an idempotency key: the original"},
            409: {"description": "Idempotency key reused with a different body"},
        },
    )
    async def submit_grievance(
        body: GrievanceIn,
        idempotency_key: IdempotencyHeader = None,
        principal: Principal = can_submit,
    ) -> JSONResponse:
        """Submit a grievance; `category` and `urgency` are classified when left out."""
        refused = intake.worker_refusal(body.worker.id)
        if refused:
            return JSONResponse({"detail": refused}, status.HTTP_422_UNPROCESSABLE_CONTENT)
        key = _one_key(idempotency_key, body.idempotency_key)
        outcome = await intake.submit(
            body, source=principal.source, channel=Channel.HTTP, idempotency_key=key
        )
        if outcome.result == "conflict":
            return JSONResponse(
                {
                    "detail": f"Idempotency key '{key}' was already used by source "
                    f"'{principal.source}' for a different grievance ({outcome.id}); "
                    "use a new key for a new grievance",
                    "id": outcome.id,
                },
                status.HTTP_409_CONFLICT,
            )
        code = status.HTTP_200_OK if outcome.result == "duplicate" else status.HTTP_202_ACCEPTED
        return JSONResponse(outcome.reply(), code)

    @router.get("/{grievance_id}", response_model=views.GrievanceView, responses=_NOT_FOUND)
    async def read_grievance(grievance_id: str, principal: Principal = can_read) -> Response:
        """Return a grievance (by id or tracking number) this key may read: where it stands,
        its deadlines, its SLA and its full timeline.

        The worker's name and phone are shown only to the app that filed it, and never on an
        anonymous grievance.
        """
        found_id = await store.resolve_id(client, keys, grievance_id)
        [stored] = await views.read_stored(client, keys, [found_id], timeline=True)
        if stored is None or not policy.may_read(principal, Tenancy.of_fields(stored.fields)):
            raise _not_found(grievance_id)
        reveal = views.reveals_worker(stored.fields, principal.source)
        view = views.grievance_view(stored, reveal_worker=reveal, units=units)
        return Response(view.model_dump_json(), media_type="application/json")

    @router.post(
        "/{grievance_id}/actions",
        status_code=status.HTTP_202_ACCEPTED,
        dependencies=[Depends(require_json)],
        responses={
            **_TOO_DEEP,
            403: {"description": "The API key lacks `act`, or may not speak for the actor"},
            422: {
                "description": "Invalid body (one entry per field error), or an action past a "
                "limit: a note past a grievance's 50, an extension beyond the SLA policy's "
                "`max_extension` past the current resolve deadline"
            },
            **_NOT_FOUND,
        },
    )
    async def act_on_grievance(
        grievance_id: str,
        body: ActionIn,
        idempotency_key: IdempotencyHeader = None,
        principal: Principal = can_act,
    ) -> JSONResponse:
        """Queue an action for the router, as an actor this key may speak for (else 403).

        The router may still refuse it (chain of authority, state): that shows up as an
        `action.refused` event on the grievance's timeline.
        """
        refusal = policy.actor_refusal(principal, body.type, body.actor)
        if refusal:
            raise _forbidden(refusal)
        found_id = await store.resolve_id(client, keys, grievance_id)
        loaded = await store.load(client, keys, found_id)
        if loaded is None or not policy.may_read(principal, Tenancy.of(loaded[0])):
            raise _not_found(grievance_id)
        refusal = policy.grievance_refusal(principal, body.actor, Tenancy.of(loaded[0]))
        if refusal:
            raise _forbidden(refusal)
        refusal = limit_refusal(body, *loaded, sla)
        if refusal:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"{refusal}; nothing was queued"
            )
        key = _one_key(idempotency_key, body.idempotency_key)
        # Scoped per source, so two apps choosing the same key never collide.
        action_id = f"{principal.source}:{key}" if key else new_action_id()
        action = Action(
            **body.model_dump(), action_id=action_id, grievance_id=found_id, source=principal.source
        )
        await client.xadd(keys.actions, {PAYLOAD_FIELD: codec.encode(action)})
        log.info(
            "action_queued",
            grievance_id=found_id,
            action_id=action_id,
            action=action.type.value,
            source=principal.source,
        )
        return JSONResponse(
            {"action_id": action_id, "grievance_id": found_id, "status": "queued"},
            status.HTTP_202_ACCEPTED,
        )

    return router
