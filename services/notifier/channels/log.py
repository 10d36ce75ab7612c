"""The development channel: one JSON log line per delivery (texts rendered without PII).

This line is also the delivery's record in the log: the dispatcher writes no separate
``delivery_sent`` line for a log-channel delivery.
"""

from __future__ import annotations

from services.notifier.channels.base import Job
from shared.logging import get_logger

log = get_logger("zhitong.notifier.delivery")


class LogChannel:
    """Channel that writes each message to the structured log."""

    inline = True  # nothing to wait on: the dispatcher calls it without a task per send

    async def send(self, job: Job) -> None:
        """Write ``job`` as one log line; it never fails."""
        log.info(
            "notification",
            delivery_id=job.job_id,
            attempt=job.attempt,
            event_id=job.event_id,
            grievance_id=job.grievance_id,
            event_type=job.event_type,
            recipient=job.recipient,
            audience=job.audience,
            channel=job.channel_label,
            locale=job.locale,
            text=job.text,
        )
