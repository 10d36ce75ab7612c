"""A generic HTTP gateway for SMS / IM providers: POST a body rendered from a template."""

from __future__ import annotations

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from services.notifier.channels.base import HttpEndpointChannel, Job, SendError
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


class GatewayChannel(HttpEndpointChannel[GatewayEndpoint]):
    """Channel that POSTs rendered bodies to named gateway endpoints."""

    kind = "gateway"

    async def send(self, job: Job) -> None:
        """Deliver ``job``; raise ``SendError`` saying whether a retry can help."""
        name, endpoint = self._endpoint(job)
        if not (job.channel.to or job.address):
            raise SendError(f"no address for {job.recipient} on gateway {name}", retryable=False)
        headers = {"content-type": "application/json; charset=utf-8", **endpoint.headers}
        await self._post(name, endpoint.url, gateway_body(endpoint, job).encode(), headers)
