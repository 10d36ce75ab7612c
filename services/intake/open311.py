"""Open311 GeoReport v2 facade, so a FixMyStreet-style client can file and poll reports.

Categories are the services.  ``POST requests.json`` takes the GeoReport fields (form or
JSON) and files a grievance on the ``open311`` channel; ``GET requests/{id}.json`` maps
our states onto GeoReport's ``open``/``closed``.  Errors use GeoReport's shape
``[{"code": …, "description": …}]``.  Polling needs no key (as in GeoReport), so it
shows only what a civic report makes public: never the reporter's name or phone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from redis.asyncio import Redis

from services.intake.auth import KeyRing
from services.intake.submission import Intake
from services.intake.validation import format_errors, reasons
from shared import codec, store
from shared.events import (
    CIVIC_CATEGORIES,
    MAX_IDEMPOTENCY_KEY,
    Category,
    Channel,
    GrievanceIn,
    State,
)
from shared.privacy import pseudonym
from shared.streams import Keys

SERVICE_NAMES: dict[Category, str] = {
    Category.WAGES: "欠薪 Wage arrears",
    Category.SOCIAL_INSURANCE: "社保 Social insurance",
    Category.REST_LEAVE: "休息休假 Rest and leave",
    Category.EQUAL_EMPLOYMENT: "平等就业 Equal employment",
    Category.ACCOMMODATION: "住宿 Accommodation",
    Category.INSURANCE_CLAIM: "货损油损理赔 Insurance claims",
    Category.ROAD_ACCESS: "通行难 Road and compound access",
    Category.SORTING: "分拣难 Sorting space",
    Category.SCHOOLING: "子女入学 Children's schooling",
    Category.MEMBERSHIP: "关系迁转 Membership transfer",
    Category.HEALTH: "健康诊疗 Health",
    Category.LEGAL_AID: "法律援助 Legal aid",
    Category.PLATFORM_RULES: "平台规则 Platform rules",
    Category.SAFETY_HAZARD: "安全隐患 Safety hazard",
    Category.PUBLIC_FACILITY: "公共设施损坏 Damaged public facility",
    Category.SANITATION: "环境卫生 Sanitation",
    Category.TRAFFIC_ORDER: "乱停乱放 Traffic order",
    Category.OTHER: "其他 Other",
}
_CODES = frozenset(c.value for c in Category)
MAX_FORM_FIELDS = 50
_CLOSED = frozenset({State.RESOLVED, State.CLOSED, State.REJECTED, State.WITHDRAWN})


def _service_name(code: str) -> str:
    return SERVICE_NAMES[Category(code)] if code in _CODES else code or "report"


def georeport_error(code: int, description: str) -> JSONResponse:
    """Return an error in GeoReport v2's shape with the matching HTTP status."""
    return JSONResponse([{"code": code, "description": description}], code)


async def _form(request: Request) -> dict[str, str]:
    raw = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
        if media == "application/json":
            # codec.loads refuses recursion bombs (``[[[[…``) before json would overflow.
            data = codec.loads(text or "{}")
            if not isinstance(data, dict):
                raise ValueError("body must be a JSON object")
            return {k: str(v) for k, v in data.items() if v is not None}
        fields = parse_qs(text, keep_blank_values=False, max_num_fields=MAX_FORM_FIELDS)
        return {k: v[-1] for k, v in fields.items()}
    except ValueError as exc:  # UnicodeDecodeError, JSONDecodeError, PayloadError
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"unreadable body: {exc}") from exc


def _idempotency_key(request: Request) -> str | None:
    """Return the ``Idempotency-Key`` header, or raise 400 when it is unusable."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
        )
    return key


def to_grievance(form: dict[str, str], secret: str) -> GrievanceIn:
    """Return the grievance for GeoReport request fields (raises ``ValidationError``)."""
    # A reporter without an account is still one person per device/email/phone; the id is
    # keyed with the deployment's secret, so it cannot be reversed by hashing phone numbers.
    contact = form.get("email") or form.get("phone") or ""
    alias = pseudonym(secret, contact, prefix="open311:") if contact else ""
    worker_id = form.get("account_id") or form.get("device_id") or alias or "open311:public"
    name = " ".join(p for p in (form.get("first_name"), form.get("last_name")) if p) or None
    location: dict[str, Any] = {"address": form.get("address_string")}
    if "lat" in form or "long" in form:
        location.update(lat=form.get("lat"), lon=form.get("long"))
    body: dict[str, Any] = {
        "worker": {"id": worker_id, "name": name, "phone": form.get("phone")},
        "category": form.get("service_code"),
        "description": form.get("description") or _service_name(form.get("service_code", "")),
        "location": {k: v for k, v in location.items() if v is not None},
        "attachments": [form["media_url"]] if form.get("media_url") else [],
    }
    return GrievanceIn.model_validate(body)


def _request_view(
    gid: str, record: dict[str, Any], timeline: list[dict[str, Any]]
) -> dict[str, Any]:
    doc = record.get("doc") or {}
    location = doc.get("location") or {}
    state = record.get("state", State.SUBMITTED.value)
    category = record.get("category", Category.OTHER.value)
    last = timeline[-1] if timeline else {}
    notes = record.get("resolution") or last.get("reason") or last.get("type")
    return {
        "service_request_id": gid,
        "status": "closed" if state in _CLOSED else "open",
        "status_notes": notes,
        "service_name": _service_name(category),
        "service_code": category,
        "description": doc.get("description"),
        "agency_responsible": record.get("assignee_name") or record.get("assignee"),
        "service_notice": f"tracking number {record.get('tracking_no')}",
        "requested_datetime": record.get("submitted_at"),
        "updated_datetime": last.get("at") or record.get("submitted_at"),
        "expected_datetime": record.get("resolve_due"),
        "address": location.get("address"),
        "lat": location.get("lat"),
        "long": location.get("lon"),
        "media_url": (doc.get("attachments") or [None])[0],
        "duplicate_of": doc.get("duplicate_of"),
    }


def open311_router(intake: Intake, keyring: KeyRing, client: Redis, keys: Keys) -> APIRouter:
    """Return the ``/open311/v2`` routes."""
    router = APIRouter(prefix="/open311/v2", tags=["open311"])

    @router.get("/services.json")
    async def services() -> list[dict[str, Any]]:
        """List the categories as GeoReport services (civic ones first)."""
        ordered = sorted(Category, key=lambda c: c not in CIVIC_CATEGORIES)
        return [
            {
                "service_code": c.value,
                "service_name": SERVICE_NAMES[c],
                "description": SERVICE_NAMES[c],
                "metadata": False,
                "type": "realtime",
                "keywords": c.value.replace("_", ","),
                "group": "civic" if c in CIVIC_CATEGORIES else "worker",
            }
            for c in ordered
        ]

    @router.post("/requests.json")
    async def create_request(request: Request) -> JSONResponse:
        """File a service request (form-encoded or JSON, with `api_key`)."""
        try:
            form = await _form(request)
            idempotency_key = _idempotency_key(request)
        except HTTPException as exc:
            return georeport_error(exc.status_code, str(exc.detail))
        bearer = request.headers.get("authorization")
        try:
            principal = keyring.authenticate(bearer or f"Bearer {form.get('api_key', '')}")
        except HTTPException:
            return georeport_error(status.HTTP_403_FORBIDDEN, "api_key is missing or unknown")
        if "submit" not in principal.scopes:
            return georeport_error(status.HTTP_403_FORBIDDEN, "api_key may not submit")
        if not (form.get("lat") and form.get("long")) and not form.get("address_string"):
            return georeport_error(
                status.HTTP_400_BAD_REQUEST,
                "a location is required: lat and long, or address_string",
            )
        try:
            body = to_grievance(form, intake.pseudonym_secret)
        except ValidationError as exc:
            errors = format_errors(exc.errors(include_url=False, include_input=False))
            return georeport_error(status.HTTP_400_BAD_REQUEST, "; ".join(reasons(errors)))
        outcome = await intake.submit(
            body, source=principal.source, channel=Channel.OPEN311,
            idempotency_key=idempotency_key,
        )  # fmt: skip
        notice = f"受理编号 tracking number {outcome.tracking_no}"
        if outcome.duplicate_of:
            notice += (
                f"; duplicate of an open report ({outcome.duplicate_of}), you will hear its outcome"
            )
        return JSONResponse(
            [{"service_request_id": outcome.id, "service_notice": notice, "account_id": None}]
        )

    @router.get("/requests/{request_id}.json")
    async def get_request(request_id: str) -> JSONResponse:
        """Return one service request's public status (GeoReport returns a list)."""
        gid = await store.resolve_id(client, keys, request_id)
        loaded = await store.load(client, keys, gid)
        public = loaded is not None and (
            loaded[0].get("category") in CIVIC_CATEGORIES
            or (loaded[0].get("doc") or {}).get("channel") == Channel.OPEN311.value
        )
        if loaded is None or not public:
            return georeport_error(status.HTTP_404_NOT_FOUND, f"no service request '{request_id}'")
        view = _request_view(gid, *loaded)
        original_id = view["duplicate_of"]
        if view["status"] == "open" and original_id:
            # A linked duplicate is answered by its original's outcome (SPEC §7).
            original = await store.load(client, keys, original_id)
            if original is not None:
                first = _request_view(original_id, *original)
                if first["status"] == "closed":
                    view.update(
                        {k: first[k] for k in ("status", "status_notes", "agency_responsible")}
                    )
        return JSONResponse([view])

    return router
