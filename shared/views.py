"""The read model of a grievance (SPEC §3): one typed view for the API, the list, the CLI
and the console.

``GrievanceView`` is what ``GET /v1/grievances/{id}`` returns; ``GrievanceRow`` is the same
without the timeline, one per item of the list and of its CSV export.  Both are built from
the stored record (the hash's text fields, ``shared/record.py``), the submitted document and
the timeline by ``grievance_row`` / ``grievance_view``, so every reader shows the same thing:
times as ISO 8601, numbers as numbers, flags as booleans, the SLA snapshot under readable
names — and none of the storage's bookkeeping (version, generation, sequence, timer kinds)
or compact field names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError, WithJsonSchema
from redis.asyncio import Redis

from shared.config import Directory
from shared.events import ENDED_STATES, Category, Channel, Classification, Event, State, Urgency
from shared.record import TIERS
from shared.redis.client import as_text
from shared.streams import Keys

# The worker's details only the submitting app sees (and never on an anonymous grievance).
PRIVATE_WORKER_FIELDS = ("name", "phone")


def iso_time(moment: datetime) -> str:
    """Return a time as ISO 8601 UTC in milliseconds, as the events carry it."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


# A time in the view: ISO 8601 UTC with milliseconds (``2025-11-24T08:00:00.000Z``).
Timestamp = Annotated[
    datetime,
    PlainSerializer(iso_time, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


_EPOCH_DAY = date(1970, 1, 1)


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class UnitRef(_View):
    """A unit of the directory, named for people."""

    id: str
    name: str | None = None
    kind: str | None = Field(
        default=None, description="member, branch, committee, fallback or department"
    )


class ChainLink(_View):
    """One tier of the grievance's chain: who holds it at that tier."""

    tier: int
    unit: str
    name: str | None = None
    kind: str | None = None


class TierSla(_View):
    """The deadlines of one tier, in seconds from the assignment at that tier."""

    tier: int
    ack_s: float
    resolve_s: float


class WorkingCalendar(_View):
    """The working time deadlines count in (absent: around the clock)."""

    days: list[int] = Field(description="ISO weekdays counted, 1 = Monday")
    start_minute: int = Field(description="Start of the working day, minutes after midnight")
    end_minute: int = Field(description="End of the working day, minutes after midnight")
    utc_offset_minutes: int
    holidays: list[date] = Field(
        default_factory=list, description="Local dates off work although their weekday counts"
    )
    workdays: list[date] = Field(
        default_factory=list, description="Local dates at work although their weekday is off (调休)"
    )


class SlaSnapshot(_View):
    """The SLA policy frozen onto the grievance when it was routed (later edits do not move
    its deadlines)."""

    tiers: list[TierSla]
    warning_share: float | None = Field(
        default=None, description="Share of a deadline's span after which a warning goes out"
    )
    feedback_window_s: float | None = None
    overdue_repeat_s: float | None = None
    max_extensions: int | None = None
    max_reopens: int | None = None
    working_calendar: WorkingCalendar | None = None


class WorkerView(_View):
    """The worker as the reader may see them (name and phone only for the submitting app)."""

    id: str
    name: str | None = None
    phone: str | None = None
    industry: str | None = None
    platform: str | None = None
    region: str | None = None
    station: str | None = None


class LocationView(_View):
    lat: float | None = None
    lon: float | None = None
    address: str | None = None


class Submission(_View):
    """What was submitted (category and urgency as first classified: see the row's own)."""

    worker: WorkerView
    title: str | None = None
    description: str | None = None
    location: LocationView | None = None
    attachments: list[str] = Field(default_factory=list)
    occurred_at: Timestamp | None = None
    locale: str | None = None
    classification: Classification | None = None


class GrievanceRow(_View):
    """One grievance as a list shows it: everything but the timeline."""

    id: str
    tracking_no: str | None = None
    state: State
    reopened: bool = Field(description="A low rating sent it back one tier up at least once")
    reopens: int
    tier: int | None = None
    assignee: UnitRef | None = None
    chain: list[ChainLink]
    departments: list[UnitRef] = Field(description="Joint-meeting departments it was referred to")
    category: Category
    urgency: Urgency
    needs_review: bool = Field(description="The classifier was unsure: check the category")
    channel: Channel | None = None
    source: str
    anonymous: bool
    anonymised: bool = Field(description="Personal data removed after the retention period")
    submitted_at: Timestamp | None = None
    assigned_at: Timestamp | None = None
    acknowledged_at: Timestamp | None = None
    first_acknowledged_at: Timestamp | None = None
    resolved_at: Timestamp | None = None
    closed_at: Timestamp | None = None
    paused_at: Timestamp | None = Field(default=None, description="Waiting for the worker since")
    ack_due_at: Timestamp | None = None
    resolve_due_at: Timestamp | None = None
    feedback_closes_at: Timestamp | None = Field(
        default=None, description="When the worker's rating window closes (while it is open)"
    )
    awaiting_rating: bool = Field(description="Resolved, and the rating window is open")
    overdue: bool
    breaches: int
    extensions: int
    notes: int
    rating: int | None = None
    rating_comment: str | None = None
    resolution: str | None = None
    resolved_by: UnitRef | None = None
    resolved_tier: int | None = None
    acknowledged_in_sla: bool | None = None
    resolved_in_sla: bool | None = None
    duplicate_of: str | None = None
    promoted_from: str | None = Field(
        default=None, description="The original this report was linked to until it ended"
    )
    duplicates: list[str] = Field(description="Civic reports linked to this one as duplicates")
    sla: SlaSnapshot | None = None
    grievance: Submission | None = Field(default=None, description="The submitted document")


class TimelineEntry(Event):
    """One event of the grievance's timeline, as it was published on ``zt:events``."""

    at: Timestamp
    ack_due_at: Timestamp | None = None
    resolve_due_at: Timestamp | None = None
    feedback_closes_at: Timestamp | None = None


class GrievanceView(GrievanceRow):
    """One grievance with its full timeline (the audit trail, oldest first)."""

    timeline: list[TimelineEntry]


class GrievancePage(_View):
    """One page of a list, newest first."""

    items: list[GrievanceRow]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null when there is none.  A page "
        "may hold fewer than `limit` items while this is set (the scan budget ran out)."
    )


@dataclass(frozen=True, slots=True)
class Stored:
    """One grievance as read from Redis: hash fields, document, duplicates, timeline."""

    id: str
    fields: Mapping[str, str]
    doc: Mapping[str, Any] | None
    duplicates: Sequence[str] = ()
    timeline: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    # While linked to an open original: the original's fields that say where the work
    # stands (its copy on the duplicate was taken at link time and goes stale).
    original: Mapping[str, str] | None = None


# What a linked duplicate shows of its original (SPEC §7: the original carries the work).
_FROM_ORIGINAL = (
    "state",
    "tier",
    "assignee",
    "assignee_name",
    "assignee_kind",
    "ack_due",
    "resolve_due",
    "paused_at",
    "overdue",
)


def unit_names(directory: Directory) -> dict[str, UnitRef]:
    """Return every unit of ``directory`` by id, with its name and kind."""
    units = {d.id: UnitRef(id=d.id, name=d.name, kind="department") for d in directory.departments}
    for unit, kind in ((directory.fallback, "fallback"), (directory.oversight, "oversight")):
        units[unit.id] = UnitRef(id=unit.id, name=unit.name, kind=kind)
    for committee in directory.committees:
        units[committee.id] = UnitRef(id=committee.id, name=committee.name, kind="committee")
        for branch in committee.branches:
            units[branch.id] = UnitRef(id=branch.id, name=branch.name, kind="branch")
            for member in branch.members:
                units[member.id] = UnitRef(id=member.id, name=member.name, kind="member")
    return units


def reveals_worker(fields: Mapping[str, str], reader_source: str | None) -> bool:
    """Return whether a reader sees the worker's name and phone: the submitting app only,
    never on an anonymous grievance."""
    return fields.get("anonymous") != "1" and fields.get("source") == reader_source


def _time(ms: str | None) -> datetime | None:
    if not ms:
        return None
    try:
        return datetime.fromtimestamp(int(ms) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        # A time no calendar can show must not make the grievance unreadable.
        return None


def _int(text: str | None, default: int | None = 0) -> int | None:
    try:
        return int(float(text)) if text else default
    except ValueError:
        return default


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _flag(text: str | None) -> bool | None:
    return None if not text else text == "1"


def _departments(raw: str) -> list[str]:
    try:
        found = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [str(d) for d in found] if isinstance(found, list) else []


def _sla(f: Mapping[str, str]) -> SlaSnapshot | None:
    tiers = [
        TierSla(tier=t, ack_s=float(f[f"a{t}"]), resolve_s=float(f[f"r{t}"]))
        for t in TIERS
        if _float(f.get(f"a{t}")) is not None and _float(f.get(f"r{t}")) is not None
    ]
    if not tiers:
        return None
    calendar = None
    if f.get("cal"):
        cal = json.loads(f["cal"])
        calendar = WorkingCalendar(
            days=cal["days"],
            start_minute=cal["s"],
            end_minute=cal["e"],
            utc_offset_minutes=cal["off"],
            # Stored as day numbers since 1970-01-01 (holidays as inclusive runs).
            holidays=[
                _EPOCH_DAY + timedelta(days=d)
                for first, last in cal.get("hol", ())
                for d in range(first, last + 1)
            ],
            workdays=[_EPOCH_DAY + timedelta(days=d) for d in cal.get("mk", ())],
        )
    return SlaSnapshot(
        tiers=tiers,
        warning_share=_float(f.get("warn")),
        feedback_window_s=_float(f.get("fb")),
        overdue_repeat_s=_float(f.get("od")),
        max_extensions=_int(f.get("mext"), None),
        max_reopens=_int(f.get("mreo"), None),
        working_calendar=calendar,
    )


def _submission(doc: Mapping[str, Any] | None, reveal_worker: bool) -> Submission | None:
    if not doc:
        return None
    worker = dict(doc.get("worker") or {})
    if not reveal_worker:
        for name in PRIVATE_WORKER_FIELDS:
            worker.pop(name, None)
    try:
        return Submission.model_validate({**doc, "worker": worker})
    except ValidationError:
        # A document of an older shape: show what it says rather than nothing.
        return Submission(worker=WorkerView(id=str(worker.get("id", ""))))


class _Units:
    """Names units from the record's own chain, then from the directory."""

    def __init__(self, chain: Iterable[ChainLink], known: Mapping[str, UnitRef]) -> None:
        self.chain = {link.unit: link for link in chain}
        self.known = known

    def ref(self, unit: str, name: str = "", kind: str = "") -> UnitRef | None:
        if not unit:
            return None
        link, known = self.chain.get(unit), self.known.get(unit)
        return UnitRef(
            id=unit,
            name=name or (link.name if link else None) or (known.name if known else None),
            kind=kind or (link.kind if link else None) or (known.kind if known else None),
        )


def _row_fields(
    stored: Stored, *, reveal_worker: bool, units: Mapping[str, UnitRef]
) -> dict[str, Any]:
    """Return the row's fields from what is stored (the one mapping of storage to view)."""
    f, doc = stored.fields, stored.doc or {}
    if stored.original is not None:
        f = {**f, **{name: stored.original.get(name, "") for name in _FROM_ORIGINAL}}
    chain = [
        ChainLink(tier=t, unit=f[f"c{t}u"], name=f.get(f"c{t}n") or None, kind=f.get(f"c{t}k"))
        for t in TIERS
        if f.get(f"c{t}u")
    ]
    names = _Units(chain, units)
    reopens = _int(f.get("reopen_count")) or 0
    state = f.get("state") or "submitted"
    feedback_closes = _time(f.get("fb_due"))
    return {
        "id": stored.id,
        "tracking_no": f.get("tracking_no") or doc.get("tracking_no"),
        "state": state,
        "reopened": reopens > 0,
        "reopens": reopens,
        "tier": _int(f.get("tier"), None),
        "assignee": names.ref(
            f.get("assignee", ""), f.get("assignee_name", ""), f.get("assignee_kind", "")
        ),
        "chain": chain,
        "departments": [names.ref(d) for d in _departments(f.get("departments", ""))],
        "category": f.get("category") or doc.get("category"),
        "urgency": f.get("urgency") or doc.get("urgency"),
        "needs_review": _flag(f.get("needs_review")) or bool(doc.get("needs_review")),
        "channel": doc.get("channel"),
        "source": f.get("source") or doc.get("source", ""),
        "anonymous": f.get("anonymous") == "1",
        "anonymised": f.get("anonymised") == "1",
        "submitted_at": _time(f.get("submitted_at")),
        "assigned_at": _time(f.get("assigned_at")),
        "acknowledged_at": _time(f.get("acked_at")),
        "first_acknowledged_at": _time(f.get("first_acked_at")),
        "resolved_at": _time(f.get("resolved_at")),
        "closed_at": _time(f.get("closed_at")),
        "paused_at": _time(f.get("paused_at")),
        "ack_due_at": _time(f.get("ack_due")),
        "resolve_due_at": _time(f.get("resolve_due")),
        "feedback_closes_at": feedback_closes,
        "awaiting_rating": state == State.RESOLVED and feedback_closes is not None,
        "overdue": f.get("overdue") == "1",
        "breaches": _int(f.get("breaches")),
        "extensions": _int(f.get("ext_count")),
        "notes": _int(f.get("notes")),
        "rating": _int(f.get("rating"), None),
        "rating_comment": f.get("comment") or None,
        "resolution": f.get("resolution") or None,
        "resolved_by": names.ref(f.get("resolved_unit", "")),
        "resolved_tier": _int(f.get("resolved_tier"), None),
        "acknowledged_in_sla": _flag(f.get("ack_in_sla")),
        "resolved_in_sla": _flag(f.get("resolve_in_sla")),
        "duplicate_of": f.get("duplicate_of") or None,
        "promoted_from": f.get("promoted_from") or None,
        "duplicates": sorted(stored.duplicates),
        "sla": _sla(f),
        "grievance": _submission(stored.doc, reveal_worker),
    }


def grievance_row(
    stored: Stored, *, reveal_worker: bool, units: Mapping[str, UnitRef] | None = None
) -> GrievanceRow:
    """Return the list row of a stored grievance (``units``: the directory's, for names)."""
    return GrievanceRow(**_row_fields(stored, reveal_worker=reveal_worker, units=units or {}))


def grievance_view(
    stored: Stored, *, reveal_worker: bool, units: Mapping[str, UnitRef] | None = None
) -> GrievanceView:
    """Return the full read model of a stored grievance, timeline included."""
    fields = _row_fields(stored, reveal_worker=reveal_worker, units=units or {})
    timeline = [TimelineEntry.model_validate(entry) for entry in stored.timeline]
    return GrievanceView(**fields, timeline=timeline)


def _expand(grievance_id: str, tracking_no: str, raw: Iterable[bytes]) -> list[dict[str, Any]]:
    """Return timeline entries with the fields the scripts leave out (they are derivable)."""
    entries = []
    for item in raw:
        event = json.loads(item)
        head = {"event_id": f"{grievance_id}.{event['seq']}", "grievance_id": grievance_id}
        entries.append({**head, "tracking_no": tracking_no, **event})
    return entries


async def read_stored(
    client: Redis, keys: Keys, ids: Sequence[str], *, timeline: bool = False
) -> list[Stored | None]:
    """Return each grievance as stored (``None`` when unknown), in one round trip."""
    if not ids:
        return []
    async with client.pipeline(transaction=False) as pipe:
        for gid in ids:
            pipe.hgetall(keys.grievance(gid))
            pipe.get(keys.document(gid))
            pipe.smembers(keys.duplicates(gid))
            if timeline:
                pipe.lrange(keys.timeline(gid), 0, -1)
        replies = await pipe.execute()
    width = 4 if timeline else 3
    found: list[Stored | None] = []
    for n, gid in enumerate(ids):
        raw, doc, dups, *entries = replies[n * width : (n + 1) * width]
        if not raw:
            found.append(None)
            continue
        fields = {as_text(k): as_text(v) for k, v in raw.items()}
        found.append(
            Stored(
                id=gid,
                fields=fields,
                doc=json.loads(doc) if doc else None,
                duplicates=sorted(as_text(d) for d in dups),
                timeline=_expand(gid, fields.get("tracking_no", ""), entries[0]) if entries else (),
            )
        )
    return await _with_originals(client, keys, found)


async def _with_originals(
    client: Redis, keys: Keys, found: list[Stored | None]
) -> list[Stored | None]:
    """Return ``found`` with each linked duplicate's original read (one more round trip)."""
    linked = [
        s
        for s in found
        if s is not None
        and s.fields.get("duplicate_of")
        and s.fields.get("state") not in ENDED_STATES
    ]
    if not linked:
        return found
    async with client.pipeline(transaction=False) as pipe:
        for stored in linked:
            pipe.hmget(keys.grievance(stored.fields["duplicate_of"]), list(_FROM_ORIGINAL))
        replies = await pipe.execute()
    originals = {
        stored.id: {n: as_text(v) for n, v in zip(_FROM_ORIGINAL, row, strict=True) if v}
        for stored, row in zip(linked, replies, strict=True)
        if any(row)
    }
    return [
        replace(s, original=originals[s.id]) if s is not None and s.id in originals else s
        for s in found
    ]
