"""Pydantic models of every message that crosses a stream: the public contract.

SPEC §2 (the grievance), §5 (actions) and §6 (events).  Inbound models forbid unknown
fields so that a typo in an upstream app is a clear 422, not a silently ignored value.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

MAX_DESCRIPTION = 5000
MAX_TITLE = 200
MAX_NOTE = 2000
# Notes per grievance: 50 of MAX_NOTE characters keep one GET well under a megabyte.
MAX_NOTES = 50
MAX_IDEMPOTENCY_KEY = 200
# Bounds on stored times: a deadline or date outside them cannot be shown (year 10000) and
# means a typo, not a plan.  An extension is also bounded by the SLA policy's
# ``max_extension`` past the current resolve deadline (``SlaPolicy.extension_refusal``).
MAX_EXTENSION = timedelta(days=366)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)


def _visible(text: str) -> str:
    """Refuse text made only of invisible characters (zero-width, format, whitespace)."""
    if text and all(c.isspace() or unicodedata.category(c) in {"Cf", "Cc", "Zs"} for c in text):
        raise ValueError("text has no visible characters (only spaces or zero-width marks)")
    return text


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _past(moment: datetime) -> datetime:
    """Refuse a date before 2000 or in the future (beyond clock skew)."""
    moment = _aware(moment)
    if not EARLIEST <= moment <= datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("must be a past date and time after 2000-01-01 (ISO 8601)")
    return moment


def _deadline(moment: datetime) -> datetime:
    """Refuse a deadline before 2000 or more than MAX_EXTENSION ahead."""
    moment = _aware(moment)
    if not EARLIEST <= moment <= datetime.now(UTC) + MAX_EXTENSION:
        raise ValueError(
            f"must be within {MAX_EXTENSION.days} days from now (ISO 8601 with a time zone)"
        )
    return moment


_VISIBLE = AfterValidator(_visible)
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Identifier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128),
    _VISIBLE,
]
# Source names are part of storage keys (``idem:<source>:<key>``): no separator may appear.
SourceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_IDEMPOTENCY_KEY), _VISIBLE
]


class Industry(StrEnum):
    EXPRESS_DELIVERY = "express_delivery"
    FOOD_DELIVERY = "food_delivery"
    RIDE_HAILING = "ride_hailing"
    TRUCKING = "trucking"
    LIVE_STREAMING = "live_streaming"
    OTHER = "other"


class Category(StrEnum):
    WAGES = "wages"
    SOCIAL_INSURANCE = "social_insurance"
    REST_LEAVE = "rest_leave"
    EQUAL_EMPLOYMENT = "equal_employment"
    ACCOMMODATION = "accommodation"
    INSURANCE_CLAIM = "insurance_claim"
    ROAD_ACCESS = "road_access"
    SORTING = "sorting"
    SCHOOLING = "schooling"
    MEMBERSHIP = "membership"
    HEALTH = "health"
    LEGAL_AID = "legal_aid"
    PLATFORM_RULES = "platform_rules"
    SAFETY_HAZARD = "safety_hazard"
    PUBLIC_FACILITY = "public_facility"
    SANITATION = "sanitation"
    TRAFFIC_ORDER = "traffic_order"
    OTHER = "other"


CIVIC_CATEGORIES = frozenset(
    {
        Category.SAFETY_HAZARD,
        Category.PUBLIC_FACILITY,
        Category.SANITATION,
        Category.TRAFFIC_ORDER,
    }
)


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class Locale(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


class Channel(StrEnum):
    """How a grievance reached intake."""

    HTTP = "http"
    STREAM = "stream"
    OPEN311 = "open311"


class State(StrEnum):
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    AWAITING_WORKER = "awaiting_worker"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


# The one vocabulary of state groups (a reopened grievance is simply assigned again):
# ended — no clock, out of the open index, nothing more can be done;
# active — a unit holds it and its clock runs (or is paused for the worker);
# open — not ended (submitted and resolved-awaiting-rating included).
ENDED_STATES = frozenset({State.CLOSED, State.REJECTED, State.WITHDRAWN})
ACTIVE_STATES = frozenset({State.ASSIGNED, State.ACKNOWLEDGED, State.AWAITING_WORKER})
OPEN_STATES = frozenset(State) - ENDED_STATES


class Role(StrEnum):
    WORKER = "worker"
    MEMBER = "member"
    BRANCH = "branch"
    COMMITTEE = "committee"
    DEPARTMENT = "department"
    OVERSIGHT = "oversight"
    SYSTEM = "system"


class ActionType(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    REQUEST_INFO = "request_info"
    WORKER_REPLY = "worker_reply"
    ADD_NOTE = "add_note"
    ESCALATE = "escalate"
    REASSIGN = "reassign"
    REFER = "refer"
    EXTEND = "extend"
    RESOLVE = "resolve"
    FEEDBACK = "feedback"
    WITHDRAW = "withdraw"
    RECLASSIFY = "reclassify"


WORKER_ACTIONS = frozenset({ActionType.FEEDBACK, ActionType.WITHDRAW, ActionType.WORKER_REPLY})


class EventType(StrEnum):
    ASSIGNED = "grievance.assigned"
    ACKNOWLEDGED = "grievance.acknowledged"
    INFO_REQUESTED = "grievance.info_requested"
    WORKER_REPLIED = "grievance.worker_replied"
    NOTE_ADDED = "grievance.note_added"
    SLA_WARNING = "grievance.sla_warning"
    ESCALATED = "grievance.escalated"
    REASSIGNED = "grievance.reassigned"
    REFERRED = "grievance.referred"
    EXTENDED = "grievance.extended"
    RESOLVED = "grievance.resolved"
    FEEDBACK_REQUESTED = "grievance.feedback_requested"
    REOPENED = "grievance.reopened"
    RECLASSIFIED = "grievance.reclassified"
    CLOSED = "grievance.closed"
    REJECTED = "grievance.rejected"
    WITHDRAWN = "grievance.withdrawn"
    OVERDUE = "grievance.overdue"
    DUPLICATE_LINKED = "grievance.duplicate_linked"
    ACTION_REFUSED = "action.refused"


class _Inbound(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Worker(_Inbound):
    id: Identifier
    name: Annotated[str, StringConstraints(max_length=100)] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    industry: Industry = Industry.OTHER
    platform: Annotated[str, StringConstraints(max_length=100)] | None = None
    region: Annotated[str, StringConstraints(max_length=100)] | None = None
    station: Annotated[str, StringConstraints(max_length=100)] | None = None


class Location(_Inbound):
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    address: Annotated[str, StringConstraints(max_length=500)] | None = None


class GrievanceIn(_Inbound):
    """A grievance as an upstream app submits it (POST body or stream payload)."""

    worker: Worker
    anonymous: bool = False
    category: Category | None = None
    urgency: Urgency | None = None
    title: Annotated[str, StringConstraints(max_length=MAX_TITLE), _VISIBLE] | None = None
    description: Annotated[
        str,
        StringConstraints(min_length=1, max_length=MAX_DESCRIPTION),
        _VISIBLE,
    ]
    location: Location | None = None
    attachments: Annotated[list[AnyHttpUrl], Field(max_length=20)] = Field(default_factory=list)
    occurred_at: Annotated[datetime, AfterValidator(_past)] | None = None
    idempotency_key: IdempotencyKey | None = None
    locale: Locale = Locale.ZH_CN


class StreamGrievanceIn(GrievanceIn):
    """A grievance published on the intake stream: the POST body plus its source."""

    source: SourceName


class Classification(BaseModel):
    """Why a category and urgency were chosen (given, or matched keywords)."""

    category_reason: str
    urgency_reason: str
    # The model's probability for the category/urgency it settled on; None when given or
    # when intake ran on rules alone.
    category_confidence: float | None = None
    urgency_confidence: float | None = None


class Grievance(BaseModel):
    """An accepted, normalised grievance as carried on ``zt:submitted``."""

    model_config = ConfigDict(extra="ignore")

    id: str
    tracking_no: str
    source: str
    channel: Channel
    submitted_at: datetime
    worker: Worker
    anonymous: bool = False
    category: Category
    urgency: Urgency
    classification: Classification
    # The classifier was unsure (confidence below its threshold): routed as classified, and
    # flagged for the assignee to check (issue 16).
    needs_review: bool = False
    title: str | None = None
    description: str
    location: Location | None = None
    attachments: list[str] = Field(default_factory=list)
    occurred_at: datetime | None = None
    idempotency_key: str | None = None
    locale: Locale = Locale.ZH_CN
    duplicate_of: str | None = None


class Actor(_Inbound):
    id: Identifier
    role: Role


class ActionIn(_Inbound):
    """An action as posted to ``/v1/grievances/{id}/actions``."""

    type: ActionType
    actor: Actor
    note: Annotated[str, StringConstraints(max_length=MAX_NOTE), _VISIBLE] | None = None
    reason: Annotated[str, StringConstraints(max_length=1000), _VISIBLE] | None = None
    resolution: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION), _VISIBLE] | None = (
        None
    )
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    comment: Annotated[str, StringConstraints(max_length=2000), _VISIBLE] | None = None
    new_deadline: Annotated[datetime, AfterValidator(_deadline)] | None = None
    assignee: Identifier | None = None
    departments: Annotated[list[Identifier], Field(max_length=20)] | None = None
    # reclassify: the corrected category and/or urgency (with a reason)
    category: Category | None = None
    urgency: Urgency | None = None
    idempotency_key: IdempotencyKey | None = None


class Action(ActionIn):
    """An action as carried on ``zt:actions`` (what the router applies)."""

    model_config = ConfigDict(extra="ignore")

    action_id: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    grievance_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    source: SourceName = "direct"


class Event(BaseModel):
    """One lifecycle event as published on ``zt:events`` (SPEC §6)."""

    model_config = ConfigDict(extra="allow")

    event_id: str
    grievance_id: str
    seq: int
    type: EventType
    at: datetime
    state: State
    tier: int | None = None
    assignee: str | None = None
    previous_assignee: str | None = None
    ack_due_at: datetime | None = None
    resolve_due_at: datetime | None = None
    feedback_closes_at: datetime | None = Field(
        default=None,
        description="When the worker's rating window closes; set on every event while it is "
        "open (from grievance.resolved until the rating, reopening or closure).",
    )
    reason: str | None = None
    actor: Actor | None = None
    tracking_no: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class Accepted(BaseModel):
    """Intake's reply to a submission: 202 for a new grievance, 200 for a repeat of its key."""

    id: str = Field(description="The grievance's id; on a replay, the one first accepted.")
    tracking_no: str = Field(description="The number people quote (编号), `ZT-…`.")
    status: State = Field(description="`submitted` when new; on a replay, where it stands now.")
    replayed: bool = Field(
        default=False,
        description="True when this answers a repeat of an idempotency key (HTTP 200): no "
        "grievance was made, `id` is the one first accepted. Nothing to do with civic "
        "duplicates (see `linked_to`).",
    )
    linked_to: str | None = Field(
        default=None,
        description="A civic report filed near an open report of the same problem (SPEC §7): "
        "the id of that original. The router links this report to it: both reporters are "
        "told, this one has no handler or deadline of its own and hears the original's "
        "outcome (resolving the original closes it), and if the original is withdrawn it is "
        "routed on its own. `null` when the report stands alone. On a replay, the link as "
        "it stands now.",
    )
    duplicate_of: str | None = Field(
        default=None,
        deprecated=True,
        description="Deprecated: the same as `linked_to` (sent when set, for older clients).",
    )
