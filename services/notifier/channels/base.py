"""What every channel sends (a ``Job``) and how a send fails (``SendError``).

A ``SendError``'s reason reaches logs, ``zt:deliveries``, ``zt:dlq`` and oversight's failure
notices, so it says what ops need (status, endpoint name, origin, exception type) and never
what may be secret: a URL is cut to ``scheme://host:port`` (no userinfo, path or query, where
tokens live) and a receiver's response body is never quoted (it may echo the message).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Literal, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field

from shared.config import ContactChannel

# Statuses worth another try: the receiver may recover (RFC 9110 §15.5.9, §15.5.29).
RETRYABLE_4XX = frozenset({408, 429})
MAX_ERROR_CHARS = 500
# A URL up to whitespace, quotes or brackets; trailing sentence punctuation is not part of it.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()\[\]]*[^\s'\"<>()\[\].,;:!?]")


class Job(BaseModel):
    """One delivery of one message to one recipient over one channel.

    It is stored as JSON in ``keys.retry_job`` from the moment it is claimed, so any
    replica can finish it after a crash or a restart.
    """

    job_id: str
    kind: Literal["event", "failure_notice", "digest"] = "event"
    event_id: str
    grievance_id: str
    event_type: str
    tracking_no: str | None = None
    urgency: str | None = None  # the grievance's: quiet hours may let it through (pacing)
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
    # Epoch seconds of the first attempt: the delivery horizon counts from here.
    first_attempt_at: float | None = None
    replays: int = 0  # times ops re-sent it after it was given up (zhitong dlq replay)

    def record(self, status: str, at: str, **extra: Any) -> dict[str, Any]:
        """Return this delivery's ``zt:deliveries`` record for ``status`` (PII-free)."""
        return {
            "event_id": self.event_id,
            "grievance_id": self.grievance_id,
            "event_type": self.event_type,
            "delivery_id": self.job_id,
            "recipient": self.recipient,
            "channel": self.channel_label,
            "status": status,
            "attempt": self.attempt,
            **extra,
            "at": at,
        }


class SendError(Exception):
    """Raise when a send did not succeed; ``retryable`` says whether to try again."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        reason = redact_urls(reason)[:MAX_ERROR_CHARS]
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class Channel(Protocol):
    """Anything that can deliver a job or raise ``SendError``."""

    async def send(self, job: Job) -> None: ...


E = TypeVar("E")


class HttpEndpointChannel(Generic[E]):
    """Shared part of channels that POST to endpoints named in the config."""

    kind = "http"

    def __init__(self, http: httpx.AsyncClient, endpoints: Mapping[str, E]) -> None:
        self._http = http
        self._endpoints = endpoints

    def _endpoint(self, job: Job) -> tuple[str, E]:
        """Return the endpoint the job's contact names, or fail without a retry."""
        name = job.channel.endpoint or ""
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            raise SendError(f"no {self.kind} endpoint named {name!r} in config", retryable=False)
        return name, endpoint

    async def _post(self, name: str, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        """POST ``body``; raise ``SendError`` for transport failures and non-2xx replies."""
        where = f"{self.kind} endpoint {name!r} ({origin(url)})"
        try:
            response = await self._http.post(url, content=body, headers=dict(headers))
        except httpx.HTTPError as exc:
            raise transport_error(exc, where) from exc
        check_response(response, where)


def origin(url: str) -> str:
    """Return ``scheme://host[:port]`` of ``url``, dropping userinfo, path and query."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<url>"
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def redact_urls(text: str) -> str:
    """Return ``text`` with every URL in it cut down to its origin."""
    return _URL.sub(lambda match: origin(match.group()), text)


def check_response(response: httpx.Response, where: str) -> None:
    """Raise ``SendError`` unless ``response`` is a 2xx; 408, 429 and 5xx are retryable.

    The body is left out on purpose: receivers echo requests and tokens into error pages.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    retryable = status >= 500 or status in RETRYABLE_4XX
    raise SendError(
        f"HTTP {status} {response.reason_phrase} from {where}".replace("  ", " "),
        retryable=retryable,
        retry_after=retry_after_s(response.headers.get("retry-after")),
    )


def transport_error(exc: httpx.HTTPError, where: str) -> SendError:
    """Return the retryable error for a connection, timeout or protocol failure."""
    detail = str(exc) or type(exc).__name__
    return SendError(f"{type(exc).__name__} calling {where}: {detail}", retryable=True)


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` asks to wait: delta-seconds or an HTTP-date."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; obsolete forms may lack the zone
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
