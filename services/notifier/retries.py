"""The durable retry loop: lease due jobs from the Redis schedule and attempt them again.

Jobs live in Redis (``keys.retries`` scored by due time, bodies in ``keys.retry_job``), so
a retry survives a notifier restart and is taken by exactly one replica at a time
(``notify_take_due.lua`` leases instead of removing: a replica that dies mid-send loses
nothing).
"""

from __future__ import annotations

import asyncio

from pydantic import ValidationError
from redis.asyncio import Redis

from services.notifier.channels import Job
from services.notifier.delivery import Dispatcher
from shared.logging import get_logger
from shared.loops import poll
from shared.redis.scripts import Scripts
from shared.settings import NotifierSettings

log = get_logger(__name__)


class RetryLoop:
    """Background loop that drives scheduled deliveries to an end."""

    def __init__(self, client: Redis, settings: NotifierSettings, dispatcher: Dispatcher) -> None:
        self._client = client
        self._settings = settings
        self._keys = settings.keys
        self._scripts = Scripts(client)
        self._dispatcher = dispatcher

    async def run(self, stop: asyncio.Event) -> None:
        """Attempt due jobs until ``stop`` is set; back off while Redis is unreachable."""
        await poll(
            stop,
            self.run_due,
            full=self._settings.retry_batch,
            idle_s=self._settings.poll_ms / 1000,
            failed="retry_poll_failed",
        )

    async def run_due(self) -> int:
        """Lease and attempt every job due now (one batch); return how many were taken."""
        ids: list[bytes] = await self._scripts.call(
            "notify_take_due",
            [self._keys.retries],
            [self._settings.retry_batch, self._dispatcher.lease_ms],
        )
        if not ids:
            return 0
        job_ids = [i.decode() for i in ids]
        bodies = await self._client.mget([self._keys.retry_job(j) for j in job_ids])
        jobs: list[Job] = []
        for job_id, body in zip(job_ids, bodies, strict=True):
            job = self._parse(job_id, body)
            if job is not None:
                jobs.append(job)
        await self._dispatcher.attempt_many(jobs)
        return len(job_ids)

    def _parse(self, job_id: str, body: bytes | str | None) -> Job | None:
        if body is None:
            # Settled elsewhere between the lease and the read: nothing left to do.
            return None
        try:
            return Job.model_validate_json(body)
        except ValidationError as exc:
            log.error("retry_job_unreadable", job_id=job_id, error=str(exc)[:500])
            return None
