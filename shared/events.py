"""Pydantic models of every message that crosses a stream: the public contract.

SPEC §2 (the grievance), §5 (actions) and §6 (events).  Inbound models forbid unknown
fields so that a typo in an upstream app is a clear 422, not a silently ignored value.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

MAX_DESCRIPTION = 5000
MAX_TITLE = 200

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


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
    """Return how a grievance reached intake."""

    HTTP = "http"
    STREAM = "stream"
    OPEN311 = "open311"


class Tier(IntEnum):
    MEMBER = 1
    BRANCH = 2
    COMMITTEE = 3


class State(StrEnum):
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    AWAITING_WORKER = "awaiting_worker"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


TERMINAL_STATES = frozenset({State.CLOSED, State.REJECTED, State.WITHDRAWN})


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
    """Return a grievance as an upstream app submits it (POST body or stream payload)."""

    worker: Worker
    anonymous: bool = False
    category: Category | None = None
    urgency: Urgency | None = None
    title: Annotated[str, StringConstraints(max_length=MAX_TITLE)] | None = None
    description: Annotated[str, StringConstraints(min_length=1, max_length=MAX_DESCRIPTION)]
    location: Location | None = None
    attachments: Annotated[list[AnyHttpUrl], Field(max_length=20)] = Field(default_factory=list)
    occurred_at: datetime | None = None
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    locale: Locale = Locale.ZH_CN


class StreamGrievanceIn(GrievanceIn):
    """Return a grievance published on the intake stream: the POST body plus its source."""

    source: Identifier


class Classification(BaseModel):
    """Return why a category and urgency were chosen (given, or matched keywords)."""

    category_reason: str
    urgency_reason: str


class Grievance(BaseModel):
    """Return an accepted, normalised grievance as carried on ``zt:submitted``."""

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
    """Return an action as posted to ``/v1/grievances/{id}/actions``."""

    type: ActionType
    actor: Actor
    note: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] | None = None
    reason: Annotated[str, StringConstraints(max_length=1000)] | None = None
    resolution: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] | None = None
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    comment: Annotated[str, StringConstraints(max_length=2000)] | None = None
    new_deadline: datetime | None = None
    assignee: Identifier | None = None
    departments: Annotated[list[Identifier], Field(max_length=20)] | None = None
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class Action(ActionIn):
    """Return an action as carried on ``zt:actions`` (what the router applies)."""

    model_config = ConfigDict(extra="ignore")

    action_id: str
    grievance_id: str
    source: str = "direct"


class Event(BaseModel):
    """Return one lifecycle event as published on ``zt:events`` (SPEC §6)."""

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
    """Return intake's reply to an accepted submission."""

    id: str
    tracking_no: str
    status: State
    duplicate: bool = False
    duplicate_of: str | None = None
