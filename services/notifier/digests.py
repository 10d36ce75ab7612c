"""Hold and digest in Redis: the adapter that runs ``pacing``'s decisions atomically.

``Pacer.send_now`` is asked once per batch of attempts which jobs go out now; the others
are held by ``notify_hold.lua`` (out of the retry schedule, into their bucket, a 'held'
record on ``zt:deliveries``).  ``DigestLoop`` takes due buckets (``notify_digest_take.lua``
leases them, so one replica works on a bucket at a time) and cuts each into one digest job
(``notify_digest_cut.lua``), claimed like any delivery: the dispatcher's attempt → settle
then sends it once, and the retry loop finishes it should this process die.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from pydantic import ValidationError
from redis.asyncio import Redis

from services.notifier import pacing
from services.notifier.channels import Job
from services.notifier.pacing import Clock, Held, HoldPlan
from shared import codec
from shared.config import Config
from shared.logging import get_logger
from shared.loops import poll
from shared.redis.client import as_text
from shared.redis.scripts import Scripts
from shared.settings import NotifierSettings

log = get_logger(__name__)

HELD_TTL_S = 30 * 86400  # the delivery key of a held job outlives any quiet period
DELIVERIES_MAXLEN = 100_000
Attempt = Callable[[Sequence[Job]], Awaitable[None]]


class Pacer:
    """The "send now or hold" step and the digest cut for one notifier."""

    def __init__(
        self,
        client: Redis,
        settings: NotifierSettings,
        config: Config,
        clock: Clock = pacing.utc_now,
    ) -> None:
        self._client = client
        self._keys = settings.keys
        self._scripts = Scripts(client)
        self._defaults = config.notifier
        self.clock = clock

    def pace(self, job: Job) -> pacing.Pace:
        """Return the pacing in force on ``job``'s channel."""
        return pacing.pace_for(job.channel, self._defaults)

    async def send_now(self, jobs: Sequence[Job]) -> list[Job]:
        """Return the jobs to send now; hold the others for a digest (one round trip)."""
        now = self.clock()
        plans = [(job, pacing.plan(job, self.pace(job), now)) for job in jobs]
        paced = [(job, p) for job, p in plans if p is not None]
        if not paced:
            return list(jobs)
        script = self._scripts["notify_hold"]
        async with self._client.pipeline(transaction=False) as pipe:
            for job, p in paced:
                await script(
                    keys=self._hold_keys(job), args=self._hold_args(job, p, now), client=pipe
                )
            results = await pipe.execute()
        held: set[str] = set()
        for (job, _), result in zip(paced, results, strict=True):
            reason = as_text(result)
            if reason != "send":
                held.add(job.job_id)
                log.info(
                    "delivery_held",
                    delivery_id=job.job_id,
                    event_id=job.event_id,
                    recipient=job.recipient,
                    channel=job.channel_label,
                    reason=reason,
                )
        return [job for job in jobs if job.job_id not in held]

    def _hold_keys(self, job: Job) -> list[str]:
        k, bucket = self._keys, pacing.bucket_of(job)
        return [
            k.delivery(job.event_id, job.recipient, job.channel_label),
            k.retries,
            k.retry_job(job.job_id),
            k.held(bucket),
            k.held_jobs(bucket),
            k.digests,
            k.sent_log(bucket),
            k.deliveries,
        ]

    def _hold_args(self, job: Job, p: HoldPlan, now: datetime) -> list[str | int]:
        record = job.record("held", _iso(now))
        return [
            job.job_id,
            job.model_dump_json(),
            pacing.to_ms(now),
            p.quiet_until_ms,
            int(p.join),
            p.limit,
            p.window_ms,
            int(p.enforce),
            pacing.bucket_of(job),
            codec.encode(record).decode(),
            HELD_TTL_S,
            DELIVERIES_MAXLEN,
        ]

    async def take_due(self, batch: int, lease_ms: int) -> list[str]:
        """Lease and return the buckets whose digest is due now."""
        now_ms = pacing.to_ms(self.clock())
        due = await self._scripts.call(
            "notify_digest_take", [self._keys.digests], [now_ms, batch, lease_ms]
        )
        return [as_text(b) for b in due]

    async def cut(self, bucket: str, lease_ms: int) -> Job | None:
        """Return the claimed digest of ``bucket``'s oldest held jobs, or ``None`` (not yet)."""
        k = self._keys
        head = await self._client.lrange(k.held(bucket), 0, pacing.DIGEST_MAX_JOBS - 1)
        ids = [as_text(i) for i in head]
        bodies = await self._client.hmget(k.held_jobs(bucket), ids) if ids else []
        held: list[Held] = []
        for job_id, body in zip(ids, bodies, strict=True):
            entry = _parse(job_id, body)
            if entry is None:
                break  # cut up to here: an unreadable job stays held, and logged, not lost
            held.append(entry)
        now = self.clock()
        if not held:
            args = [
                bucket,
                pacing.to_ms(now),
                0,
                0,
                0,
                "",
                "",
                lease_ms,
                HELD_TTL_S,
                DELIVERIES_MAXLEN,
                "{}",
                0,
            ]
            keys = self._cut_keys(bucket, "", [])
            await self._scripts.call("notify_digest_cut", keys, args)
            return None
        pace = self.pace(held[-1].job)
        until = pacing.quiet_until(now, pace.quiet) if pace.quiet else None
        digest = pacing.digest_job(bucket, held, now, pace)
        record = {
            "status": "digested",
            "digest_id": digest.job_id,
            "attempt": 0,
            "recipient": digest.recipient,
            "channel": digest.channel_label,
            "at": _iso(now),
        }
        args = [
            bucket,
            pacing.to_ms(now),
            0 if until is None else pacing.to_ms(until),
            pace.rate.max if pace.rate else 0,
            pace.rate.window * 1000 if pace.rate else 0,
            digest.job_id,
            digest.model_dump_json(),
            lease_ms,
            HELD_TTL_S,
            DELIVERIES_MAXLEN,
            codec.encode(record).decode(),
            len(held),
            *(h.job.job_id for h in held),
        ]
        result = await self._scripts.call(
            "notify_digest_cut", self._cut_keys(bucket, digest.event_id, held), args
        )
        outcome = as_text(result[0])
        if outcome != "cut":
            log.debug("digest_not_cut", bucket_size=len(held), outcome=outcome)
            return None
        log.info(
            "digest_cut",
            delivery_id=digest.job_id,
            recipient=digest.recipient,
            channel=digest.channel_label,
            covers=len(held),
            reason=digest.data["digest"]["reason"],
        )
        return digest

    def _cut_keys(self, bucket: str, digest_event: str, held: Sequence[Held]) -> list[str]:
        k = self._keys
        recipient, _, label = bucket.partition("|")
        return [
            k.held(bucket),
            k.held_jobs(bucket),
            k.digests,
            k.sent_log(bucket),
            k.delivery(digest_event, recipient, label),
            k.retries,
            k.retry_job(digest_event),
            k.deliveries,
            *(k.delivery(h.job.event_id, h.job.recipient, h.job.channel_label) for h in held),
        ]


class DigestLoop:
    """Background loop that sends each due bucket as one digest."""

    def __init__(
        self, pacer: Pacer, settings: NotifierSettings, attempt: Attempt, lease_ms: int
    ) -> None:
        self._pacer = pacer
        self._settings = settings
        self._attempt = attempt
        self._lease_ms = lease_ms

    async def run(self, stop: asyncio.Event) -> None:
        """Send due digests until ``stop`` is set; back off while Redis is unreachable."""
        await poll(
            stop,
            self.run_due,
            full=self._settings.retry_batch,
            idle_s=self._settings.poll_ms / 1000,
            failed="digest_poll_failed",
        )

    async def run_due(self) -> int:
        """Cut and send every due bucket's digest (one batch); return how many were taken."""
        buckets = await self._pacer.take_due(self._settings.retry_batch, self._lease_ms)
        digests = [d for d in [await self._pacer.cut(b, self._lease_ms) for b in buckets] if d]
        await self._attempt(digests)
        return len(buckets)


def _parse(job_id: str, body: bytes | str | None) -> Held | None:
    """Return a held job from its stored ``reason\\njob JSON``."""
    if body is None:
        return None
    reason, _, text = as_text(body).partition("\n")
    try:
        return Held(Job.model_validate_json(text), reason)
    except ValidationError as exc:
        log.error("held_job_unreadable", delivery_id=job_id, error=str(exc)[:500])
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
