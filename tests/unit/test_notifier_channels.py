"""Channel adapters: HTTP status handling, gateway bodies, backoff (no Redis needed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from services.notifier.channels import Job, SendError
from services.notifier.channels.base import retry_after_s
from services.notifier.channels.gateway import GatewayChannel
from services.notifier.channels.webhook import WebhookChannel, webhook_body
from services.notifier.jobs import channel_label, delivery_id
from shared.config import ContactChannel, GatewayEndpoint, WebhookEndpoint
from shared.webhooks import verify

SECRET = "whsec_ZGVtby1zZWNyZXQtZm9yLXpoaXRvbmctd2ViaG9va3M="


def job(channel: ContactChannel, address: str | None = None) -> Job:
    """Return a job for the worker's receipt over ``channel``."""
    return Job(
        job_id="msg_1",
        event_id="e1",
        grievance_id="g1",
        event_type="grievance.assigned",
        tracking_no="ZT-1",
        recipient="worker:w-1",
        audience="worker",
        channel=channel,
        channel_label=channel_label(channel),
        address=address,
        locale="zh-CN",
        text="您的诉求已收到",
        data={"at": "2026-11-23T06:00:00+00:00", "seq": 1},
    )


def transport(status: int, seen: list[httpx.Request]) -> httpx.MockTransport:
    """Return a transport answering ``status`` and keeping each request."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, headers={"retry-after": "7"}, text="nope")

    return httpx.MockTransport(handle)


async def test_webhook_is_signed_and_carries_the_text() -> None:
    """The webhook POST verifies with the endpoint secret and carries text and ids."""
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=transport(200, seen)) as http:
        hooks = {"demo": WebhookEndpoint(url="http://rx/hooks", secrets=[SECRET])}
        await WebhookChannel(http, hooks).send(job(ContactChannel(type="webhook", endpoint="demo")))
    (request,) = seen
    verify([SECRET], dict(request.headers), request.content)
    body = json.loads(request.content)
    assert body["type"] == "grievance.assigned"
    assert body["data"]["text"] == "您的诉求已收到"
    assert request.headers["webhook-id"] == "msg_1"


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (408, True), (429, True), (400, False), (404, False), (410, False)],
)
async def test_status_decides_whether_to_retry(status: int, retryable: bool) -> None:
    """5xx, 408 and 429 are retried; other 4xx fail at once."""
    async with httpx.AsyncClient(transport=transport(status, [])) as http:
        hooks = {"demo": WebhookEndpoint(url="http://rx/hooks", secrets=[SECRET])}
        with pytest.raises(SendError) as caught:
            await WebhookChannel(http, hooks).send(
                job(ContactChannel(type="webhook", endpoint="demo"))
            )
    assert caught.value.retryable is retryable
    assert f"HTTP {status}" in caught.value.reason
    assert caught.value.retry_after == 7


async def test_unknown_endpoint_is_a_permanent_error() -> None:
    """A contact naming a webhook the config lacks fails without retries."""
    async with httpx.AsyncClient(transport=transport(200, [])) as http:
        with pytest.raises(SendError, match="no webhook endpoint named 'gone'") as caught:
            await WebhookChannel(http, {}).send(
                job(ContactChannel(type="webhook", endpoint="gone"))
            )
    assert caught.value.retryable is False


async def test_gateway_posts_the_rendered_body_to_the_worker_phone() -> None:
    """The SMS gateway gets its body template filled with the phone and the text."""
    seen: list[httpx.Request] = []
    gateway = GatewayEndpoint(url="http://sms/send", headers={"x-api-key": "k"})
    async with httpx.AsyncClient(transport=transport(200, seen)) as http:
        channel = GatewayChannel(http, {"sms": gateway})
        await channel.send(job(ContactChannel(type="gateway", endpoint="sms"), "13800138000"))
    (request,) = seen
    assert json.loads(request.content) == {"to": "13800138000", "text": "您的诉求已收到"}
    assert request.headers["x-api-key"] == "k"


async def test_gateway_without_an_address_fails_at_once() -> None:
    """A gateway message with nowhere to go is not retried."""
    async with httpx.AsyncClient(transport=transport(200, [])) as http:
        channel = GatewayChannel(http, {"sms": GatewayEndpoint(url="http://sms/send")})
        with pytest.raises(SendError, match="no address"):
            await channel.send(job(ContactChannel(type="gateway", endpoint="sms")))


async def test_connection_error_is_retryable() -> None:
    """A refused connection is worth another try."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        hooks = {"demo": WebhookEndpoint(url="http://rx/hooks", secrets=[SECRET])}
        with pytest.raises(SendError, match="ConnectError") as caught:
            await WebhookChannel(http, hooks).send(
                job(ContactChannel(type="webhook", endpoint="demo"))
            )
    assert caught.value.retryable


def test_delivery_identity_is_stable_and_pii_free() -> None:
    """Ids and labels repeat for the same delivery and never contain the address."""
    sms = ContactChannel(type="gateway", endpoint="sms", to="13800138000")
    assert channel_label(sms).startswith("gateway:sms#")
    assert "13800138000" not in channel_label(sms)
    assert delivery_id("e1", "m-wang", "log") == delivery_id("e1", "m-wang", "log")
    assert delivery_id("e1", "m-wang", "log") != delivery_id("e2", "m-wang", "log")


def test_webhook_body_is_standard_shaped() -> None:
    """The body is {type, timestamp, data} with the delivery id inside."""
    body = json.loads(webhook_body(job(ContactChannel(type="webhook", endpoint="demo"))))
    assert set(body) == {"type", "timestamp", "data"}
    assert body["data"]["delivery_id"] == "msg_1"


SECRET_URL = "https://hook-user:hook-pass@rx.example:8443/t/TOKEN-IN-PATH/hooks?token=s3cret"


async def test_http_error_names_the_endpoint_but_no_secret_or_body() -> None:
    """A non-2xx error says status, endpoint and origin; no userinfo, path, query or body."""

    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=f"upstream echoed {SECRET_URL} and 13800138000")

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        hooks = {"partner": WebhookEndpoint(url=SECRET_URL, secrets=[SECRET])}
        with pytest.raises(SendError) as caught:
            await WebhookChannel(http, hooks).send(
                job(ContactChannel(type="webhook", endpoint="partner"))
            )
    reason = caught.value.reason
    assert reason == (
        "HTTP 500 Internal Server Error from webhook endpoint 'partner' (https://rx.example:8443)"
    )
    assert str(caught.value) == reason


async def test_transport_error_drops_the_url_secrets_from_its_detail() -> None:
    """A connection error quoting the URL keeps only its origin."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        gateways = {"sms": GatewayEndpoint(url=SECRET_URL)}
        with pytest.raises(SendError) as caught:
            await GatewayChannel(http, gateways).send(
                job(ContactChannel(type="gateway", endpoint="sms"), "13800138000")
            )
    reason = caught.value.reason
    assert reason.startswith(
        "ConnectError calling gateway endpoint 'sms' (https://rx.example:8443)"
    )
    for secret in ("hook-pass", "hook-user", "TOKEN-IN-PATH", "s3cret", "/hooks"):
        assert secret not in reason


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("Sun, 22 Nov 2026 06:02:00 GMT", 120.0),  # IMF-fixdate
        ("Sunday, 22-Nov-26 06:02:00 GMT", 120.0),  # obsolete RFC 850 form
        ("Sun, 22 Nov 2026 05:00:00 GMT", 0.0),  # already past: retry at once
        ("soon", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header: str, expected: float | None) -> None:
    """Retry-After is honoured as delta-seconds and as an HTTP date; nonsense is ignored."""
    now = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    assert retry_after_s(header, now) == expected


async def test_retry_after_date_reaches_the_send_error() -> None:
    """A 503 with an HTTP-date Retry-After carries the wait in seconds."""
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)

    def busy(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"retry-after": later})

    async with httpx.AsyncClient(transport=httpx.MockTransport(busy)) as http:
        hooks = {"demo": WebhookEndpoint(url="http://rx/hooks", secrets=[SECRET])}
        with pytest.raises(SendError) as caught:
            await WebhookChannel(http, hooks).send(
                job(ContactChannel(type="webhook", endpoint="demo"))
            )
    assert caught.value.retry_after == pytest.approx(90, abs=2)
