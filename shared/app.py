"""The one shape of every service process: FastAPI + FastStream broker + background loops.

``/healthz`` (process alive), ``/readyz`` (Redis reachable and every consumer reading) and
``/metrics`` (Prometheus) are served by every service; intake adds its public API on the
same app.  While Redis is unreachable every route answers 503 JSON with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from faststream.redis import RedisBroker
from faststream.redis.prometheus import RedisPrometheusMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.config import Config, load_config
from shared.config_checks import refusal_reasons
from shared.consumer import StreamConsumer
from shared.logging import BROKER_LOGGER, get_logger
from shared.metrics import StreamGauges
from shared.settings import CommonSettings

log = get_logger(__name__)

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]

# What a client is told to wait before retrying while Redis is unreachable.
RETRY_AFTER_S = 5
# How often stopped subscribers are looked for (and revived).
WATCH_INTERVAL_S = 0.5
# A service's exit code when it refuses its config (2: a usage error, nothing to retry).
EXIT_CONFIG_REFUSED = 2


def make_broker(settings: CommonSettings, registry: CollectorRegistry) -> RedisBroker:
    """Return a broker with Prometheus (and, when enabled, OpenTelemetry) middleware."""
    middlewares: list[object] = [RedisPrometheusMiddleware(registry=registry)]
    if settings.otel_enabled:
        from faststream.redis.opentelemetry import RedisTelemetryMiddleware  # noqa: PLC0415

        middlewares.append(RedisTelemetryMiddleware())
    return RedisBroker(
        settings.redis_url,
        middlewares=middlewares,  # type: ignore[arg-type]
        graceful_timeout=settings.graceful_timeout,
        # Per-message "Received/Processed" lines cost ~23% throughput (FASTSTREAM-NOTES).
        log_level=logging.DEBUG,
        # A propagating stdlib logger: FastStream's own lines (subscriber start/stop, task
        # callbacks at shutdown) become JSON lines with ``service`` like every other line.
        logger=logging.getLogger(BROKER_LOGGER),
        max_connections=settings.redis_max_connections,
    )


@dataclass
class Service:
    """The parts one service process runs, before they are started."""

    name: str
    settings: CommonSettings
    client: Redis
    broker: RedisBroker
    registry: CollectorRegistry
    # Stream consumers: attached to the broker here, their groups made before it starts.
    consumers: list[StreamConsumer] = field(default_factory=list)
    loops: list[Loop] = field(default_factory=list)
    routers: list[APIRouter] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Gauges refreshed from Redis just before each /metrics scrape.
    before_scrape: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.before_scrape.insert(
            0, StreamGauges(self.client, self.settings.keys, self.registry).refresh
        )
        for consumer in self.consumers:
            consumer.attach(self.broker)
        self._redis_down_logged_at = 0.0

    def build(self, title: str | None = None, docs: bool = False) -> FastAPI:
        """Return the ASGI app whose lifespan starts and stops everything cleanly."""
        app = FastAPI(
            title=title or f"zhitong-{self.name}",
            lifespan=self._lifespan,
            docs_url="/docs" if docs else None,
            redoc_url=None,
            openapi_url="/openapi.json" if docs else None,
        )
        app.state.service = self
        app.add_exception_handler(RedisError, self._redis_unavailable)
        app.include_router(self._health_router())
        for router in self.routers:
            app.include_router(router)
        return app

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        # Before any subscriber starts: FastStream would create a missing group at `$`.
        for consumer in self.consumers:
            await consumer.ensure_group()
        await self.broker.start()
        watch = asyncio.create_task(self._watch(stop))
        tasks = [asyncio.create_task(loop(stop)) for loop in self.loops]
        log.info("service_started", consumer=self.settings.consumer_name)
        try:
            yield
        finally:
            stop.set()
            grace = self.settings.graceful_timeout
            deadline = time.monotonic() + grace
            await watch  # no revive may start a subscriber while the broker stops
            await asyncio.gather(_finish(tasks, grace), self.broker.stop())
            await self._hand_back(max(1.0, deadline - time.monotonic()))
            for hook in self.on_stop:
                await hook()
            await self.client.aclose()
            log.info("service_stopped")

    async def _watch(self, stop: asyncio.Event) -> None:
        """Revive consumers whose subscriber FastStream stopped (e.g. NOGROUP after a flush)."""
        while not stop.is_set():
            for consumer in self.consumers:
                if stop.is_set() or not consumer.stopped:
                    continue
                try:
                    await consumer.revive()
                except (RedisError, OSError) as exc:  # Redis still away: try on the next tick
                    log.warning(
                        "consumer_revive_failed",
                        stream=consumer.stream,
                        group=consumer.group,
                        error=f"{type(exc).__name__}: {exc}",
                    )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=WATCH_INTERVAL_S)

    async def _hand_back(self, within_s: float) -> None:
        """Finish or release what each consumer still holds, so no entry waits for a reclaim."""
        deadline = time.monotonic() + within_s
        for consumer in self.consumers:
            try:
                await consumer.hand_back(max(0.5, deadline - time.monotonic()))
            except (RedisError, OSError) as exc:  # left pending: a peer reclaims it after idle
                log.warning(
                    "hand_back_failed",
                    stream=consumer.stream,
                    group=consumer.group,
                    error=f"{type(exc).__name__}: {exc}",
                )

    async def _redis_unavailable(self, _request: Request, exc: Exception) -> Response:
        """Answer 503 with ``Retry-After``; log one line (no traceback) per interval."""
        now = time.monotonic()
        if now - self._redis_down_logged_at >= RETRY_AFTER_S:
            self._redis_down_logged_at = now
            log.warning("redis_unavailable", error=type(exc).__name__)
        return JSONResponse(
            {
                "detail": "storage unavailable for now; retry later with the same Idempotency-Key",
                "retry_after_s": RETRY_AFTER_S,
            },
            503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    def _health_router(self) -> APIRouter:
        router = APIRouter(tags=["health"])

        @router.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok", "service": self.name}

        @router.get("/readyz")
        async def readyz() -> Response:
            try:
                await self.client.ping()
            except (RedisError, OSError) as exc:
                return JSONResponse(
                    {"status": "unavailable", "service": self.name, "reason": str(exc)}, 503
                )
            stopped = [c.name for c in self.consumers if c.stopped]
            if stopped:
                reason = "not consuming: " + ", ".join(stopped)
                return JSONResponse(
                    {"status": "unavailable", "service": self.name, "reason": reason}, 503
                )
            return JSONResponse({"status": "ready", "service": self.name})

        @router.get("/metrics")
        async def metrics() -> Response:
            for refresh in self.before_scrape:
                try:
                    await refresh()
                except (RedisError, OSError) as exc:  # still serve what the process knows
                    log.warning("metrics_refresh_failed", error=str(exc))
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        return router


async def _finish(tasks: Sequence[asyncio.Task[None]], grace_s: float) -> None:
    if not tasks:
        return
    _done, pending = await asyncio.wait(tasks, timeout=grace_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def load_service_config(settings: CommonSettings) -> Config:
    """Return the checked config at ``settings.config``; log why and exit 2 if it is refused.

    Every service calls this before building anything, so none reports ready on a config
    that ``zhitong directory validate`` rejects.
    """
    try:
        return load_config(settings.config)
    except ValueError as exc:
        log.error(
            "config_refused",
            config=str(settings.config),
            errors=refusal_reasons(exc),
            hint=f"zhitong directory validate {settings.config}",
        )
    raise SystemExit(EXIT_CONFIG_REFUSED)


def serve(app: FastAPI, settings: CommonSettings) -> None:
    """Run ``app`` with uvicorn; SIGTERM/SIGINT drain in-flight work before exit."""
    import uvicorn  # noqa: PLC0415

    # After draining, uvicorn re-raises SIGTERM to the handler that was in place before it
    # ran; by default that kills the process (exit -15), which supervisors read as a crash.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=int(settings.graceful_timeout),
    )
