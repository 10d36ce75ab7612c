"""Wire the notifier: the ``zt:events`` consumer, the retry loop, the HTTP client, ops API."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.notifier.channels import build_channels
from services.notifier.delivery import Dispatcher
from services.notifier.digests import DigestLoop, Pacer
from services.notifier.ops import ops_router
from services.notifier.pacing import Clock, utc_now
from services.notifier.retries import RetryLoop
from shared.app import Service, make_broker
from shared.config import Config, load_config
from shared.consumer import StreamConsumer
from shared.redis.client import make_client
from shared.settings import NotifierSettings
from shared.streams import GROUP_NOTIFIER


def build_app(
    settings: NotifierSettings, config: Config | None = None, clock: Clock = utc_now
) -> FastAPI:
    """Return the notifier's ASGI app; its lifespan runs the consumer, retries and digests.

    ``clock`` is what quiet hours and rate limits are judged by (tests pass their own).
    """
    config = config or load_config(settings.config)
    client = make_client(settings.redis_url, settings.redis_max_connections)
    registry = CollectorRegistry()
    broker = make_broker(settings, registry)
    http = httpx.AsyncClient(timeout=settings.http_timeout_s, follow_redirects=False)
    pacer = Pacer(client, settings, config, clock)
    channels = build_channels(config, http)
    dispatcher = Dispatcher(client, settings, config, channels, registry, pacer=pacer)
    events = StreamConsumer(
        client, settings, settings.keys.events, GROUP_NOTIFIER, dispatcher.handle
    )
    retries = RetryLoop(client, settings, dispatcher)
    digests = DigestLoop(pacer, settings, dispatcher.attempt_many, dispatcher.lease_ms)
    service = Service(
        name="notifier",
        settings=settings,
        client=client,
        broker=broker,
        registry=registry,
        consumers=[events],
        loops=[retries.run, digests.run],
        routers=[ops_router(client, settings.keys, config.api_keys)],
        on_stop=[http.aclose],
    )
    return service.build()
