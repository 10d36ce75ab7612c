"""From an event to its jobs: who is told, over which channel, in what words and data.

A job's id is derived from (event, recipient, channel), so a redelivered event yields the
same jobs and the claim in ``delivery`` sends each once; it is also the ``webhook-id``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from services.notifier.channels import Job
from services.notifier.recipients import Audience, Directory, GrievanceView, Recipient, recipients
from services.notifier.templates import render
from shared.config import ContactChannel
from shared.events import Event, EventType
from shared.logging import get_logger

log = get_logger(__name__)

_RATING_EVENTS = frozenset({EventType.RESOLVED, EventType.FEEDBACK_REQUESTED})


def channel_label(channel: ContactChannel) -> str:
    """Return a stable, PII-free name for a contact channel (part of the dedupe key)."""
    label = channel.type if channel.endpoint is None else f"{channel.type}:{channel.endpoint}"
    if channel.to:
        label += "#" + hashlib.sha256(channel.to.encode()).hexdigest()[:8]
    return label


def delivery_id(event_id: str, recipient: str, label: str) -> str:
    """Return the id of one delivery; also the ``webhook-id`` receivers dedupe on."""
    digest = hashlib.sha256(f"{event_id}\n{recipient}\n{label}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


class JobFactory:
    """Maker of the jobs of events, rendered for each recipient's channel and locale."""

    def __init__(self, directory: Directory) -> None:
        self._directory = directory

    def for_event(self, event: Event, doc: dict[str, Any] | None) -> list[Job]:
        """Return one job per recipient and channel that ``event`` concerns."""
        if doc is None:
            log.warning(
                "grievance_unknown", event_id=event.event_id, grievance_id=event.grievance_id
            )
        grievance = GrievanceView.from_doc(doc)
        return [
            self.job(event, grievance, recipient, channel)
            for recipient in recipients(event, grievance, self._directory)
            for channel in recipient.channels
        ]

    def job(
        self, event: Event, grievance: GrievanceView, recipient: Recipient, channel: ContactChannel
    ) -> Job:
        """Return the job delivering ``event`` to ``recipient`` over ``channel``."""
        # The log must hold no PII, so the worker's identity is revealed on real channels only.
        message = render(
            event,
            grievance,
            self._directory,
            recipient,
            locale=channel.locale,
            reveal_worker=channel.type != "log",
        )
        label = channel_label(channel)
        return Job(
            job_id=delivery_id(event.event_id, recipient.id, label),
            event_id=event.event_id,
            grievance_id=event.grievance_id,
            event_type=event.type.value,
            tracking_no=event.tracking_no or grievance.tracking_no,
            urgency=grievance.urgency,
            recipient=recipient.id,
            audience=recipient.audience.value,
            channel=channel,
            channel_label=label,
            address=recipient.address,
            locale=message.locale,
            text=message.text,
            data=event_data(event, grievance, recipient),
        )


def event_data(event: Event, grievance: GrievanceView, recipient: Recipient) -> dict[str, Any]:
    """Return the machine-readable part of a webhook body (what the receiver acts on)."""
    data: dict[str, Any] = {
        "at": event.at.isoformat(),
        "seq": event.seq,
        "state": event.state.value,
        "tier": event.tier,
        "assignee": event.assignee,
        "ack_due_at": event.ack_due_at.isoformat() if event.ack_due_at else None,
        "resolve_due_at": event.resolve_due_at.isoformat() if event.resolve_due_at else None,
        "feedback_closes_at": (
            event.feedback_closes_at.isoformat() if event.feedback_closes_at else None
        ),
    }
    if recipient.audience is Audience.WORKER and grievance.worker_id:
        path = f"/v1/grievances/{event.grievance_id}/actions"
        actor = {"id": grievance.worker_id, "role": "worker"}
        # The loop: the upstream app turns the worker's answer into this action for intake.
        if event.type in _RATING_EVENTS:
            body = {"type": "feedback", "actor": actor, "rating": None, "comment": None}
            data["reply_with"] = {"method": "POST", "path": path, "scale": [1, 5], "body": body}
            if event.feedback_closes_at:  # the app can show (and enforce) the rating deadline
                data["reply_with"]["until"] = event.feedback_closes_at.isoformat()
        elif event.type is EventType.INFO_REQUESTED:
            body = {"type": "worker_reply", "actor": actor, "note": None}
            data["reply_with"] = {"method": "POST", "path": path, "body": body}
    return {k: v for k, v in data.items() if v is not None}
