"""Who must hear about an event, in which locale, over which channels (pure, no I/O).

The rules table says which audiences each event type reaches; the directory says how to
reach a unit; ``config.channels.worker`` plus the grievance's locale say how to reach the
worker.  Workers are addressed by their platform id only (``worker:<id>``) — their name and
phone travel to assignees only when the grievance is not anonymous (see ``render``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.config import Config, ContactChannel
from shared.events import Event, EventType, Role


class Audience(StrEnum):
    """The role a recipient plays for one event (it selects the template)."""

    WORKER = "worker"
    ASSIGNEE = "assignee"
    PREVIOUS = "previous"
    OVERSIGHT = "oversight"
    DEPARTMENT = "department"
    ACTOR = "actor"


_W, _A, _P, _O, _D = (
    Audience.WORKER, Audience.ASSIGNEE, Audience.PREVIOUS, Audience.OVERSIGHT, Audience.DEPARTMENT,
)  # fmt: skip

RULES: Mapping[EventType, tuple[Audience, ...]] = {
    EventType.ASSIGNED: (_W, _A),
    EventType.ACKNOWLEDGED: (_W,),
    EventType.INFO_REQUESTED: (_W,),
    EventType.WORKER_REPLIED: (_A,),
    EventType.NOTE_ADDED: (_A,),
    EventType.SLA_WARNING: (_A,),
    EventType.ESCALATED: (_W, _A, _P),
    EventType.REASSIGNED: (_W, _A, _P),
    EventType.REFERRED: (_W, _D),
    EventType.EXTENDED: (_W,),
    EventType.RESOLVED: (_W,),
    EventType.FEEDBACK_REQUESTED: (_W,),
    EventType.REOPENED: (_W, _A, _P),
    EventType.RECLASSIFIED: (_W,),
    EventType.CLOSED: (_W, _A),
    EventType.REJECTED: (_W,),
    EventType.WITHDRAWN: (_A,),
    EventType.OVERDUE: (_O, _A),
    EventType.DUPLICATE_LINKED: (_W,),
    EventType.ACTION_REFUSED: (Audience.ACTOR,),
}


@dataclass(frozen=True, slots=True)
class UnitInfo:
    """One reachable unit of the directory."""

    id: str
    name: str
    kind: str
    channels: tuple[ContactChannel, ...]


@dataclass(frozen=True, slots=True)
class GrievanceView:
    """The few grievance fields the notifier needs, read tolerantly from the record."""

    worker_id: str | None = None
    worker_name: str | None = None
    worker_phone: str | None = None
    anonymous: bool = False
    locale: str = "zh-CN"
    tracking_no: str | None = None
    title: str | None = None
    description: str | None = None
    category: str | None = None
    urgency: str | None = None

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> GrievanceView:
        """Return the view of a stored grievance document (``record["doc"]``)."""
        if not doc:
            return cls()
        worker = doc.get("worker") or {}
        return cls(
            worker_id=worker.get("id"),
            worker_name=worker.get("name"),
            worker_phone=worker.get("phone"),
            anonymous=bool(doc.get("anonymous", False)),
            locale=str(doc.get("locale") or "zh-CN"),
            tracking_no=doc.get("tracking_no"),
            title=doc.get("title"),
            description=doc.get("description"),
            category=doc.get("category"),
            urgency=doc.get("urgency"),
        )


@dataclass(frozen=True, slots=True)
class Recipient:
    """One party to notify: an id for dedupe/logs, a template audience, channels."""

    id: str
    audience: Audience
    name: str | None
    channels: tuple[ContactChannel, ...]
    # Where a gateway sends to when the channel itself names no address (the worker's phone).
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Directory:
    """The directory flattened to unit id → unit, plus the worker defaults."""

    units: Mapping[str, UnitInfo]
    oversight_id: str
    worker_channels: tuple[ContactChannel, ...] = field(default_factory=tuple)

    @classmethod
    def from_config(cls, config: Config) -> Directory:
        """Return the index of every member, branch, committee and standalone unit."""
        d = config.directory
        units: dict[str, UnitInfo] = {}

        def add(unit_id: str, name: str, kind: str, channels: Iterable[ContactChannel]) -> None:
            units[unit_id] = UnitInfo(unit_id, name, kind, tuple(channels))

        for committee in d.committees:
            add(committee.id, committee.name, "committee", committee.channels)
            for branch in committee.branches:
                add(branch.id, branch.name, "branch", branch.channels)
                for member in branch.members:
                    add(member.id, member.name, "member", member.channels)
        for dept in d.departments:
            add(dept.id, dept.name, "department", dept.channels)
        add(d.fallback.id, d.fallback.name, "fallback", d.fallback.channels)
        add(d.oversight.id, d.oversight.name, "oversight", d.oversight.channels)
        return cls(units, d.oversight.id, tuple(config.channels.worker))

    def name_of(self, unit_id: str | None) -> str | None:
        """Return a unit's display name, or its id when the directory does not know it."""
        if unit_id is None:
            return None
        unit = self.units.get(unit_id)
        return unit.name if unit else unit_id

    def unit(self, unit_id: str | None, audience: Audience) -> Recipient | None:
        """Return a unit as a recipient, or ``None`` when it is unknown (logged by caller)."""
        unit = self.units.get(unit_id) if unit_id else None
        if unit is None:
            return None
        return Recipient(unit.id, audience, unit.name, unit.channels)

    def worker(self, grievance: GrievanceView) -> Recipient | None:
        """Return the worker as a recipient on the default worker channels in their locale."""
        if not grievance.worker_id:
            return None
        channels = tuple(
            c.model_copy(update={"locale": grievance.locale}) for c in self.worker_channels
        )
        return Recipient(
            f"worker:{grievance.worker_id}",
            Audience.WORKER,
            None,
            channels,
            address=grievance.worker_phone,
        )


def recipients(event: Event, grievance: GrievanceView, directory: Directory) -> list[Recipient]:
    """Return everyone who must hear about ``event``, each once, in rule order."""
    found: list[Recipient] = []
    for audience in RULES.get(event.type, ()):
        found.extend(_resolve(audience, event, grievance, directory))
    unique: dict[str, Recipient] = {}
    for recipient in found:
        # One message per party: when a unit is both assignee and oversight, the first
        # (more specific) audience wins.
        unique.setdefault(recipient.id, recipient)
    return list(unique.values())


def _resolve(
    audience: Audience, event: Event, grievance: GrievanceView, directory: Directory
) -> list[Recipient]:
    candidates: list[Recipient | None]
    match audience:
        case Audience.WORKER:
            # The resolved message already asks for the rating; the router's first
            # feedback_requested comes with it, so only the reminder is worth a message.
            first_ask = event.type is EventType.FEEDBACK_REQUESTED and not event.data.get(
                "reminder"
            )
            candidates = [None if first_ask else directory.worker(grievance)]
        case Audience.ASSIGNEE:
            candidates = [directory.unit(event.assignee, audience)]
        case Audience.PREVIOUS:
            same = event.previous_assignee == event.assignee
            candidates = [None if same else directory.unit(event.previous_assignee, audience)]
        case Audience.OVERSIGHT:
            candidates = [directory.unit(directory.oversight_id, audience)]
        case Audience.DEPARTMENT:
            ids = event.data.get("departments") or []
            candidates = [directory.unit(str(i), audience) for i in ids]
        case Audience.ACTOR:
            candidates = [_actor(event, grievance, directory)]
    return [c for c in candidates if c is not None]


def _actor(event: Event, grievance: GrievanceView, directory: Directory) -> Recipient | None:
    if event.actor is None:
        return None
    if event.actor.role is Role.WORKER:
        worker = directory.worker(grievance)
        return None if worker is None else _with_audience(worker, Audience.ACTOR)
    return directory.unit(event.actor.id, Audience.ACTOR)


def _with_audience(recipient: Recipient, audience: Audience) -> Recipient:
    return Recipient(recipient.id, audience, recipient.name, recipient.channels, recipient.address)
