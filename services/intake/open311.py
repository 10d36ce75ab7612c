"""Open311 GeoReport v2 facade, so a FixMyStreet-style client can file and poll reports.

Categories are the services.  ``POST requests.json`` takes the GeoReport fields (form or
JSON) and files a grievance on the ``open311`` channel; ``GET requests/{id}.json`` maps
our states onto GeoReport's ``open``/``closed``.  Errors use GeoReport's shape
``[{"code": …, "description": …}]``.  Polling needs no key (as in GeoReport), so its view
is public-safe by construction: only reports filed through Open311 and not anonymous (any
other id answers exactly as an unknown one, 404); texts masked in one place
(``public_text``); coordinates rounded to about 100 m; the responsible unit, never a
member's name; plain wording per state instead of internal reasons.
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
from shared.privacy import mask, pseudonym
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
# What a citizen reads for each state, instead of the timeline's internal reasons.
CITIZEN_NOTES = {
    State.SUBMITTED: "已受理 Received",
    State.ASSIGNED: "已转交承办单位 Passed to the responsible unit",
    State.ACKNOWLEDGED: "承办单位正在办理 Being handled",
    State.AWAITING_WORKER: "等待报告人补充情况 Waiting for more details from the reporter",
    State.RESOLVED: "已办结 Resolved",
    State.CLOSED: "已办结 Closed",
    State.REOPENED: "重新办理中 Being handled again",
    State.REJECTED: "未予受理 Not taken up",
    State.WITHDRAWN: "报告人已撤回 Withdrawn by the reporter",
}
# Three decimals of a degree are about 100 m: near enough to find a broken street light,
# too coarse to point at the reporter's door.
COORDINATE_DECIMALS = 3


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


def is_public(record: dict[str, Any]) -> bool:
    """Return whether the key-less view may show a grievance: an Open311, non-anonymous one."""
    doc = record.get("doc") or {}
    anonymous = record.get("anonymous") == "1" or doc.get("anonymous") is True
    return doc.get("channel") == Channel.OPEN311.value and not anonymous


def public_text(text: object) -> str | None:
    """Return free text as the public may read it: phone and ID numbers masked."""
    return mask(str(text)) if text else None


def _rounded(value: object) -> float | None:
    return round(value, COORDINATE_DECIMALS) if isinstance(value, int | float) else None


def _agency(record: dict[str, Any]) -> str | None:
    """Return the name of the unit handling the report: a member's branch, never the member."""
    links = {link["tier"]: link for link in record.get("chain") or []}
    current = links.get(int(record.get("tier") or 0))
    if current is not None and current.get("kind") == "member":
        current = links.get(2)
    return str(current.get("name") or current.get("unit")) if current else None


def _status_notes(state: str, record: dict[str, Any]) -> str:
    if state in {State.RESOLVED, State.CLOSED} and record.get("resolution"):
        return public_text(record["resolution"]) or ""
    return next((note for known, note in CITIZEN_NOTES.items() if known.value == state), "")


def _request_view(
    gid: str, record: dict[str, Any], timeline: list[dict[str, Any]]
) -> dict[str, Any]:
    doc = record.get("doc") or {}
    location = doc.get("location") or {}
    state = record.get("state", State.SUBMITTED.value)
    category = record.get("category", Category.OTHER.value)
    last = timeline[-1] if timeline else {}
    return {
        "service_request_id": gid,
        "status": "closed" if state in _CLOSED else "open",
        "status_notes": _status_notes(state, record),
        "service_name": _service_name(category),
        "service_code": category,
        "description": public_text(doc.get("description")),
        "agency_responsible": _agency(record),
        "service_notice": f"tracking number {record.get('tracking_no')}",
        "requested_datetime": record.get("submitted_at"),
        "updated_datetime": last.get("at") or record.get("submitted_at"),
        "expected_datetime": record.get("resolve_due"),
        "address": public_text(location.get("address")),
        "lat": _rounded(location.get("lat")),
        "long": _rounded(location.get("lon")),
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

    @router.post(
        "/requests.json",
        responses={
            400: {"description": "Unreadable or invalid report (GeoReport error list)"},
            403: {"description": "api_key missing, unknown, or without the 'submit' scope"},
        },
    )
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

    @router.get(
        "/requests/{request_id}.json",
        responses={404: {"description": "No public Open311 report with this id (no key needed)"}},
    )
    async def get_request(request_id: str) -> JSONResponse:
        """Return one public service request's status (GeoReport returns a list)."""
        gid = await store.resolve_id(client, keys, request_id)
        loaded = await store.load(client, keys, gid)
        if loaded is None or not is_public(loaded[0]):
            return georeport_error(status.HTTP_404_NOT_FOUND, f"no service request '{request_id}'")
        view = _request_view(gid, *loaded)
        original_id = view.pop("duplicate_of")
        original = await store.load(client, keys, original_id) if original_id else None
        if original is not None and is_public(original[0]):
            view["duplicate_of"] = original_id
            first = _request_view(original_id, *original)
            if view["status"] == "open" and first["status"] == "closed":
                # A linked duplicate is answered by its original's outcome (SPEC §7).
                view.update({k: first[k] for k in ("status", "status_notes", "agency_responsible")})
        return JSONResponse([view])

    return router
