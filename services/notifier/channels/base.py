"""What every channel sends (a ``Job``) and how a send fails (``SendError``)."""

from __future__ import annotations

from typing import Any, Literal, Protocol

import httpx
from pydantic import BaseModel, Field

from shared.config import ContactChannel

# Statuses worth another try: the receiver may recover (RFC 9110 §15.5.9, §15.5.29).
RETRYABLE_4XX = frozenset({408, 429})
MAX_ERROR_CHARS = 500


class Job(BaseModel):
    """Return one delivery of one message to one recipient over one channel.

    It is stored as JSON in ``keys.retry_job`` from the moment it is claimed, so any
    replica can finish it after a crash or a restart.
    """

    job_id: str
    kind: Literal["event", "failure_notice"] = "event"
    event_id: str
    grievance_id: str
    event_type: str
    tracking_no: str | None = None
    recipient: str
    audience: str
    channel: ContactChannel
    channel_label: str
    address: str | None = None
    locale: str
    text: str
    data: dict[str, Any] = Field(default_factory=dict)
    attempt: int = 0
    last_error: str | None = None


class SendError(Exception):
    """Raise when a send did not succeed; ``retryable`` says whether to try again."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason[:MAX_ERROR_CHARS])
        self.reason = reason[:MAX_ERROR_CHARS]
        self.retryable = retryable
        self.retry_after = retry_after


class Channel(Protocol):
    """Return something that can deliver a job or raise ``SendError``."""

    async def send(self, job: Job) -> None: ...


def check_response(response: httpx.Response) -> None:
    """Raise ``SendError`` unless ``response`` is a 2xx; 408, 429 and 5xx are retryable."""
    status = response.status_code
    if 200 <= status < 300:
        return
    retryable = status >= 500 or status in RETRYABLE_4XX
    body = response.text[:200].replace("\n", " ")
    raise SendError(
        f"HTTP {status} from {response.request.url}: {body}".rstrip(": "),
        retryable=retryable,
        retry_after=_retry_after(response.headers.get("retry-after")),
    )


def transport_error(exc: httpx.HTTPError, url: str) -> SendError:
    """Return the retryable error for a connection, timeout or protocol failure."""
    detail = str(exc) or type(exc).__name__
    return SendError(f"{type(exc).__name__} calling {url}: {detail}", retryable=True)


def _retry_after(value: str | None) -> float | None:
    # Only the delta-seconds form; an HTTP-date is rare from webhook receivers.
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
