"""The development channel: one JSON log line per delivery (texts rendered without PII)."""

from __future__ import annotations

from services.notifier.channels.base import Job
from shared.logging import get_logger

log = get_logger("zhitong.notifier.delivery")


class LogChannel:
    """Return a channel that writes each message to the structured log."""

    async def send(self, job: Job) -> None:
        """Write ``job`` as one log line; it never fails."""
        log.info(
            "notification",
            event_id=job.event_id,
            grievance_id=job.grievance_id,
            event_type=job.event_type,
            recipient=job.recipient,
            audience=job.audience,
            channel=job.channel_label,
            locale=job.locale,
            text=job.text,
        )
