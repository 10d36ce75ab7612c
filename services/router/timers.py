"""The timer poller: every router replica fires due timers in a loop (``Engine.fire_due``)."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter, Histogram

from services.router.engine import Engine
from shared.loops import poll


class TimerPoller:
    """Loop that fires due SLA timers until asked to stop."""

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
        await poll(
            stop,
            self.fire_due,
            full=self.batch,
            idle_s=self.idle_s,
            failed="timer_poll_failed",
            jitter=True,
        )

    async def fire_due(self) -> int:
        """Fire one batch of due timers, count them; return how many were taken."""
        result = await self.engine.fire_due(self.batch)
        if result.fired:
            self.fired.inc(result.fired)
            for late in result.lateness_ms:
                self.lateness.observe(late / 1000)
        if result.stale:
            self.stale.inc(result.stale)
        return result.fired + result.stale
