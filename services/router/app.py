"""Wire the router: consumers of zt:submitted and zt:actions, the timer poller, health."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.router.engine import Engine
from services.router.handlers import ActionHandler, SubmittedHandler
from services.router.housekeeping import Housekeeping
from services.router.timers import TimerPoller
from shared.app import Service, make_broker
from shared.config import Config, load_config
from shared.consumer import StreamConsumer
from shared.janitor import Janitor
from shared.metrics import GrievanceGauges, TransitionMetrics
from shared.privacy import pseudonym_secret
from shared.redis.client import make_client
from shared.settings import RouterSettings
from shared.streams import GROUP_ROUTER


def build_service(settings: RouterSettings, config: Config | None = None) -> Service:
    """Return the router's parts, not yet started."""
    config = config or load_config(settings.config)
    client = make_client(settings.redis_url, settings.redis_max_connections)
    registry = CollectorRegistry()
    broker = make_broker(settings, registry)
    engine = Engine(client, settings.keys, config, TransitionMetrics(registry).observe)
    keys = settings.keys
    consumers = [
        StreamConsumer(client, settings, keys.submitted, GROUP_ROUTER, SubmittedHandler(engine)),
        StreamConsumer(client, settings, keys.actions, GROUP_ROUTER, ActionHandler(engine)),
    ]
    poller = TimerPoller(engine, registry, settings.timer_batch, settings.timer_idle_s)
    janitor = Janitor(
        client,
        consumed=(keys.intake, keys.submitted, keys.actions, keys.events),
        logs=(keys.intake_rejected, keys.deliveries),
        keep_ms=settings.stream_keep_s * 1000,
        prune_idle_ms=settings.consumer_prune_idle_s * 1000,
        me=settings.consumer_name,
    )
    secret = pseudonym_secret(config.pseudonym_secret, (k.key_sha256 for k in config.api_keys))
    housekeeping = Housekeeping(janitor, settings, config.retention, secret)
    return Service(
        "router",
        settings,
        client,
        broker,
        registry,
        consumers=consumers,
        loops=[poller.run, housekeeping.run],
        before_scrape=[GrievanceGauges(client, keys, registry).refresh],
    )


def build_app(settings: RouterSettings, config: Config | None = None) -> FastAPI:
    """Return the router's ASGI app (health, readiness, metrics) with its lifespan."""
    return build_service(settings, config).build(title="Zhitong router")
