"""The timer poller: every router replica calls ``fire_timers`` in a loop (TIMERS.md)."""

from __future__ import annotations

import asyncio
import random

from prometheus_client import CollectorRegistry, Counter, Histogram
from redis.exceptions import RedisError

from services.router.engine import Engine
from shared.logging import get_logger

log = get_logger(__name__)


class TimerPoller:
    """Return the loop that fires due SLA timers until asked to stop."""

    def __init__(
        self, engine: Engine, registry: CollectorRegistry, batch: int, idle_s: float
    ) -> None:
        self.engine = engine
        self.batch = batch
        self.idle_s = idle_s
        self.fired = Counter(
            "zhitong_timers_fired", "SLA timers fired with their effect", registry=registry
        )
        self.stale = Counter(
            "zhitong_timers_stale", "Timers dropped as superseded or no-op", registry=registry
        )
        self.lateness = Histogram(
            "zhitong_timer_lateness_seconds",
            "How late each timer fired after its due time",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=registry,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; a full batch means more is due, so poll again at once."""
        while not stop.is_set():
            try:
                result = await self.engine.fire_due(self.batch)
            except (RedisError, OSError) as exc:
                log.warning("timer_poll_failed", error=str(exc))
                await _wait(stop, 1.0)
                continue
            if result.fired:
                self.fired.inc(result.fired)
                for late in result.lateness_ms:
                    self.lateness.observe(late / 1000)
            if result.stale:
                self.stale.inc(result.stale)
            if result.fired + result.stale < self.batch:
                # Jitter keeps replicas from polling in lock-step.
                await _wait(stop, self.idle_s * (0.5 + random.random()))  # noqa: S311


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return
