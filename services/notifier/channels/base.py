"""What every channel sends (a ``Job``) and how a send fails (``SendError``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Literal, Protocol, TypeVar

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


E = TypeVar("E")


class HttpEndpointChannel(Generic[E]):
    """Return the shared part of channels that POST to endpoints named in the config."""

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

    async def _post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        """POST ``body``; raise ``SendError`` for transport failures and non-2xx replies."""
        try:
            response = await self._http.post(url, content=body, headers=dict(headers))
        except httpx.HTTPError as exc:
            raise transport_error(exc, url) from exc
        check_response(response)


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
