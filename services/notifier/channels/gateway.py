"""A generic HTTP gateway for SMS / IM providers: POST a body rendered from a template."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from services.notifier.channels.base import Job, SendError, check_response, transport_error
from shared.config import GatewayEndpoint

# Body templates come from the config file; the sandbox keeps a careless one harmless.
_ENV = SandboxedEnvironment(autoescape=False)


def gateway_body(endpoint: GatewayEndpoint, job: Job) -> str:
    """Return the request body for ``job`` from the endpoint's ``body_template``."""
    try:
        return _ENV.from_string(endpoint.body_template).render(
            to=job.channel.to or job.address,
            text=job.text,
            locale=job.locale,
            event_type=job.event_type,
            event_id=job.event_id,
            grievance_id=job.grievance_id,
            tracking_no=job.tracking_no,
            recipient=job.recipient,
            delivery_id=job.job_id,
        )
    except TemplateError as exc:
        raise SendError(f"gateway body_template failed: {exc}", retryable=False) from exc


class GatewayChannel:
    """Return a channel that POSTs rendered bodies to named gateway endpoints."""

    def __init__(self, http: httpx.AsyncClient, endpoints: Mapping[str, GatewayEndpoint]) -> None:
        self._http = http
        self._endpoints = endpoints

    async def send(self, job: Job) -> None:
        """Deliver ``job``; raise ``SendError`` saying whether a retry can help."""
        name = job.channel.endpoint or ""
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            raise SendError(f"no gateway endpoint named {name!r} in config", retryable=False)
        if not (job.channel.to or job.address):
            raise SendError(f"no address for {job.recipient} on gateway {name}", retryable=False)
        headers = {"content-type": "application/json; charset=utf-8", **endpoint.headers}
        body = gateway_body(endpoint, job).encode()
        try:
            response = await self._http.post(endpoint.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise transport_error(exc, endpoint.url) from exc
        check_response(response)
