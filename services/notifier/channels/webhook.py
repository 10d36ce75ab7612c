"""Signed webhooks (Standard Webhooks): one POST per job, signed with every current secret."""

from __future__ import annotations

import json
from typing import Any

from services.notifier.channels.base import HttpEndpointChannel, Job
from shared import webhooks
from shared.config import WebhookEndpoint


def webhook_body(job: Job) -> bytes:
    """Return the JSON body: ``{type, timestamp, data}`` as Standard Webhooks suggests."""
    payload: dict[str, Any] = {
        "type": job.event_type,
        "timestamp": job.data.get("at"),
        "data": {
            "delivery_id": job.job_id,
            "event_id": job.event_id,
            "grievance_id": job.grievance_id,
            "tracking_no": job.tracking_no,
            "recipient": {"id": job.recipient, "audience": job.audience},
            "to": job.channel.to,
            "locale": job.locale,
            "text": job.text,
            **{k: v for k, v in job.data.items() if k != "at"},
        },
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookChannel(HttpEndpointChannel[WebhookEndpoint]):
    """Channel that POSTs to the configured endpoint named by the contact."""

    kind = "webhook"

    async def send(self, job: Job) -> None:
        """Deliver ``job``; raise ``SendError`` saying whether a retry can help."""
        name, endpoint = self._endpoint(job)
        body = webhook_body(job)
        headers = {
            "content-type": "application/json; charset=utf-8",
            "user-agent": "zhitong-notifier",
            # The delivery id is stable across retries, so receivers can drop repeats.
            **webhooks.sign_headers(endpoint.secrets, job.job_id, body),
        }
        await self._post(name, endpoint.url, body, headers)
