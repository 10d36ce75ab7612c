"""The public view of a report: what anyone may read about it without a key (pure).

Public-safe by construction: only reports filed through Open311 and not anonymous are
shown (any other id answers exactly as an unknown one); texts are masked in one place
(``public_text``); coordinates are rounded to about 100 m; the responsible unit is named,
never a member; each state reads in plain words (zh-CN, then English) instead of the
timeline's internal reasons.  Times are W3C date-times in UTC to the second.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.intake.open311.catalogue import service_name
from shared.events import Category, State
from shared.privacy import mask
from shared.record import is_public_report

CLOSED_STATES = frozenset({State.RESOLVED, State.CLOSED, State.REJECTED, State.WITHDRAWN})
# What a citizen reads for each state, instead of the timeline's internal reasons.
CITIZEN_NOTES = {
    State.SUBMITTED: "已受理 Received",
    State.ASSIGNED: "已转交承办单位 Passed to the responsible unit",
    State.ACKNOWLEDGED: "承办单位正在办理 Being handled",
    State.AWAITING_WORKER: "等待报告人补充情况 Waiting for more details from the reporter",
    State.RESOLVED: "已办结 Resolved",
    State.CLOSED: "已办结 Closed",
    State.REJECTED: "未予受理 Not taken up",
    State.WITHDRAWN: "报告人已撤回 Withdrawn by the reporter",
}
_NOTES = {state.value: note for state, note in CITIZEN_NOTES.items()}
_CLOSED = frozenset(state.value for state in CLOSED_STATES)
# Three decimals of a degree are about 100 m: near enough to find a broken street light,
# too coarse to point at the reporter's door.
COORDINATE_DECIMALS = 3


def w3c(moment: object) -> str | None:
    """Return an ISO 8601 time as a W3C date-time in UTC to the second (``…T08:15:30Z``)."""
    if not moment:
        return None
    try:
        parsed = datetime.fromisoformat(str(moment))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_public(record: dict[str, Any]) -> bool:
    """Return whether the key-less view may show a grievance: an Open311, non-anonymous one."""
    doc = record.get("doc") or {}
    anonymous = record.get("anonymous") == "1" or doc.get("anonymous") is True
    return is_public_report(str(doc.get("channel")), anonymous)


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


def status_notes(state: str, record: dict[str, Any]) -> str:
    """Return the state in plain words, with the unit's resolution (masked) once resolved."""
    note = _NOTES.get(state, "")
    resolution = public_text(record.get("resolution")) if state in _CLOSED else None
    return f"{note}：{resolution}" if resolution else note


def service_notice(record: dict[str, Any], duplicate_of: str | None = None) -> str:
    """Return what the reporter can expect, in plain words (zh-CN, then English)."""
    notice = (
        f"受理编号 {record.get('tracking_no')}，可凭编号查询进度 "
        f"Tracking number {record.get('tracking_no')}: use it to follow your report"
    )
    if duplicate_of:
        notice += (
            "；附近已有相同的报告在办理，办理结果会一并告知您 "
            "A report of the same problem nearby is already being handled; "
            "you will hear its outcome"
        )
    return notice


def linked_to(record: dict[str, Any]) -> str | None:
    """Return the report this one is linked to as a duplicate, as its record says (SPEC §7).

    The router sets the record's ``duplicate_of`` when it links the report, keeps it once
    the original's resolution closed it, and clears it when the original ended without one
    (the report is then routed on its own).  The submitted document's ``duplicate_of`` is
    what intake found, never cleared: it counts only until the router has seen the report.
    """
    if record.get("duplicate_of"):
        return str(record["duplicate_of"])
    if record.get("state", State.SUBMITTED.value) == State.SUBMITTED.value:
        found = (record.get("doc") or {}).get("duplicate_of")
        return str(found) if found else None
    return None


def is_linked(record: dict[str, Any]) -> bool:
    """Return whether the report is linked to an open original now (no clock of its own)."""
    return bool(record.get("duplicate_of")) and record.get("state") not in _CLOSED


def request_view(gid: str, record: dict[str, Any], last_event: dict[str, Any]) -> dict[str, Any]:
    """Return one report as GeoReport shows a service request (``duplicate_of`` included)."""
    doc = record.get("doc") or {}
    location = doc.get("location") or {}
    state = record.get("state", State.SUBMITTED.value)
    category = record.get("category", Category.OTHER.value)
    duplicate_of = linked_to(record)
    return {
        "service_request_id": gid,
        "status": "closed" if state in _CLOSED else "open",
        "status_notes": status_notes(state, record),
        "service_name": service_name(category),
        "service_code": category,
        "description": public_text(doc.get("description")),
        "agency_responsible": _agency(record),
        "service_notice": service_notice(record, duplicate_of),
        "requested_datetime": w3c(record.get("submitted_at")),
        "updated_datetime": w3c(last_event.get("at") or record.get("submitted_at")),
        "expected_datetime": w3c(record.get("resolve_due")),
        "address": public_text(location.get("address")),
        "lat": _rounded(location.get("lat")),
        "long": _rounded(location.get("lon")),
        "media_url": (doc.get("attachments") or [None])[0],
        "duplicate_of": duplicate_of,
    }


# What a linked duplicate shows of its original: it has no handler or deadline of its own.
_FROM_ORIGINAL = ("status", "status_notes", "agency_responsible", "expected_datetime")


def answered_by_original(
    view: dict[str, Any], original: dict[str, Any] | None, *, public: bool, linked: bool
) -> dict[str, Any]:
    """Return a duplicate's view with its original's progress (SPEC §7).

    ``original`` is the original's view (``None`` when unknown); ``linked``: the record says
    the report is linked and open, so its status, notes, agency and expected time are the
    original's, kept current as the original moves (escalated, acknowledged…).  A duplicate
    closed with its original shows its own outcome.  The link itself is shown only when the
    original is public too.
    """
    view = dict(view)
    if linked and original is not None:
        view.update({k: original[k] for k in _FROM_ORIGINAL})
    if original is None or not public:
        view.pop("duplicate_of")
    return view
