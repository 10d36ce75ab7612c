"""Turn events into jobs and deliver each job once: claim, send, settle (or retry).

Every (event, recipient, channel) is claimed by ``notify_claim.lua`` before anything is
sent, so a redelivered or reclaimed event never sends twice; the claimed job is stored with
a lease in the retry schedule, so a crash mid-send is finished by the retry loop.
Each outcome (``sent`` / ``retrying`` / ``failed``) is recorded atomically by
``notify_settle.lua`` on ``zt:deliveries`` (and ``zt:dlq`` for failures) as soon as its own
send returns, so a slow endpoint never holds back the record of a fast one.  A delivery is
retried until its horizon (``horizon.py``) has passed, then given up; ops can replay it
(``replay.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from redis.asyncio import Redis

from services.notifier.channels import Channel, Job, SendError
from services.notifier.digests import Pacer
from services.notifier.horizon import Schedules
from services.notifier.jobs import JobFactory, channel_label, delivery_id
from services.notifier.recipients import Audience, Directory
from services.notifier.templates import render_named
from shared import codec, store
from shared.config import Config
from shared.consumer import Entry
from shared.events import Event
from shared.logging import get_logger
from shared.redis.scripts import Scripts
from shared.settings import NotifierSettings

log = get_logger(__name__)

DELIVERY_TTL_S = 30 * 86400  # longer than any redelivery or retry can take
DELIVERIES_MAXLEN = 100_000
SEND_CONCURRENCY = 32


class Dispatcher:
    """The notifier's core: event → recipients → claimed jobs → sends → outcomes."""

    def __init__(
        self,
        client: Redis,
        settings: NotifierSettings,
        config: Config,
        channels: Mapping[str, Channel],
        registry: CollectorRegistry | None = None,
        *,
        pacer: Pacer | None = None,
    ) -> None:
        self._client = client
        self.pacer = pacer or Pacer(client, settings, config)
        self._settings = settings
        self._keys = settings.keys
        self._scripts = Scripts(client)
        self._directory = Directory.from_config(config)
        self._jobs = JobFactory(self._directory)
        self._channels = channels
        self._schedules = Schedules(settings, config.channels)
        self._sends = asyncio.Semaphore(SEND_CONCURRENCY)
        # A lease longer than any single send: only a dead sender lets it run out.
        self.lease_ms = int((settings.http_timeout_s * 2 + 5) * 1000)
        self._outcomes = Counter(
            "zhitong_notifier_deliveries",
            "Delivery attempts by outcome and channel type",
            ["status", "channel"],
            registry=registry or CollectorRegistry(),
        )

    async def handle(self, entries: Sequence[Entry]) -> dict[str, BaseException]:
        """Claim and send every delivery of a batch of events; return per-entry failures.

        Per batch, not per event: one MGET loads every grievance document, one pipeline
        claims every job, sends run concurrently (bounded) and one pipeline settles them.
        """
        failures: dict[str, BaseException] = {}
        events: list[tuple[Entry, Event]] = []
        for entry in entries:
            try:
                events.append((entry, Event.model_validate(codec.decode(entry.fields))))
            except Exception as exc:  # left pending: the reclaimer retries, then dead-letters
                failures[entry.id] = exc
        if not events:
            return failures
        docs = await store.load_docs(self._client, self._keys, [e.grievance_id for _, e in events])
        owners: list[str] = []
        jobs: list[Job] = []
        for entry, event in events:
            try:
                event_jobs = self._jobs.for_event(event, docs.get(event.grievance_id))
            except Exception as exc:
                failures[entry.id] = exc
                continue
            owners.extend(entry.id for _ in event_jobs)
            jobs.extend(event_jobs)
        claimed: list[Job] = []
        for owner, job, claim in zip(owners, jobs, await self.claim_many(jobs), strict=True):
            if isinstance(claim, Exception):
                failures[owner] = claim
            elif claim:
                claimed.append(job)
        # Claimed jobs are durable; a failed send here is retried by the retry loop.
        await self.attempt_many(claimed)
        return failures

    async def claim(self, job: Job) -> bool:
        """Return whether this process owns ``job`` (first claim of its delivery key)."""
        (claimed,) = await self.claim_many([job])
        if isinstance(claimed, Exception):
            raise claimed
        return claimed

    async def claim_many(self, jobs: Sequence[Job]) -> list[bool | Exception]:
        """Claim every job in one pipelined round trip; a job's error comes back in its place.

        Each claim is its own atomic ``notify_claim.lua`` call, so the outcome per job is
        exactly that of claiming it alone.
        """
        if not jobs:
            return []
        script = self._scripts["notify_claim"]
        async with self._client.pipeline(transaction=False) as pipe:
            for job in jobs:
                await script(
                    keys=[
                        self._delivery_key(job),
                        self._keys.retries,
                        self._keys.retry_job(job.job_id),
                    ],
                    args=[job.job_id, job.model_dump_json(), self.lease_ms, DELIVERY_TTL_S],
                    client=pipe,
                )
            results = await pipe.execute(raise_on_error=False)
        claimed: list[bool | Exception] = []
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, Exception):
                claimed.append(result)
                continue
            if result != 1:
                log.info(
                    "delivery_already_claimed",
                    event_id=job.event_id,
                    recipient=job.recipient,
                    channel=job.channel_label,
                    state=result.decode() if isinstance(result, bytes) else result,
                )
            claimed.append(result == 1)
        return claimed

    async def attempt(self, job: Job) -> None:
        """Send ``job`` once more and record the outcome (sent, retrying or failed)."""
        await self.attempt_many([job])

    async def attempt_many(self, jobs: Sequence[Job]) -> None:
        """Send each job once more (concurrently, bounded); settle each as soon as it returns.

        Sends that finish together are settled together (one pipelined round trip) while
        the others are still in flight, so a crash during a slow send re-sends only what
        had not been recorded yet.  A settle that fails (Redis) does not stop the others
        from being recorded; the first such error is raised at the end.
        """
        # Pacing: a first attempt in quiet hours or over the rate limit is held for a digest.
        jobs = await self.pacer.send_now(jobs) if jobs else []
        if not jobs:
            return
        now = time.time()
        jobs = [_next_attempt(job, now) for job in jobs]
        inline = [job for job in jobs if self._inline(job)]
        sends = {asyncio.create_task(self._send(job)): job for job in jobs if not self._inline(job)}
        failed: list[Job] = []
        errors: list[Exception] = []
        try:
            if inline:  # e.g. the log channel: no I/O to wait on, no task per send
                done = [self._outcome(job, await self._send(job)) for job in inline]
                await self._record(done, failed, errors)
            while sends:
                finished, _ = await asyncio.wait(sends, return_when=asyncio.FIRST_COMPLETED)
                done = [self._outcome(sends.pop(task), task.result()) for task in finished]
                await self._record(done, failed, errors)
        finally:
            for task in sends:  # only when cancelled: the leases hand them to the retry loop
                task.cancel()
            await asyncio.gather(*sends, return_exceptions=True)
        # After every record: a notice to a slow oversight endpoint must not delay them.
        for job in failed:
            await self._tell_oversight(job)
        if errors:
            raise errors[0]

    def _inline(self, job: Job) -> bool:
        return bool(getattr(self._channels.get(job.channel.type), "inline", False))

    async def _record(
        self, settles: Sequence[_Settle], failed: list[Job], errors: list[Exception]
    ) -> None:
        """Settle one group of finished sends; note the given-up events and any error."""
        try:
            ended = await self._settle_many(settles)
        except Exception as exc:  # the jobs stay leased: the retry loop settles them later
            errors.append(exc)
            return
        failed.extend(
            settle.job
            for settle, end in zip(settles, ended, strict=True)
            if end and settle.status == "failed" and settle.job.kind == "event"
        )

    async def _send(self, job: Job) -> SendError | None:
        """Return why sending ``job`` failed, or ``None`` when it was sent."""
        channel = self._channels.get(job.channel.type)
        if channel is None:
            return SendError(f"unknown channel type {job.channel.type!r}", retryable=False)
        async with self._sends:
            try:
                await channel.send(job)
            except SendError as exc:
                return exc
            except Exception as exc:  # a bug in a channel must not lose the delivery
                return SendError(repr(exc), retryable=True)
        return None

    def _outcome(self, job: Job, error: SendError | None) -> _Settle:
        if error is None:
            return _Settle(job, "sent")
        job = job.model_copy(update={"last_error": error.reason})
        delay: float | None = None
        if error.retryable:
            elapsed = time.time() - (job.first_attempt_at or time.time())
            schedule = self._schedules.for_channel(job.channel)
            delay = schedule.next_delay(job.attempt, elapsed, error.retry_after)
        if delay is None:  # not worth another try, or past the delivery horizon
            return _Settle(job, "failed", error.reason)
        return _Settle(job, "retrying", error.reason, delay)

    async def _settle_many(self, settles: Sequence[_Settle]) -> list[bool]:
        """Record every outcome in one pipeline; return which ones ended their delivery.

        Each ``notify_settle.lua`` call stays atomic on its own.  An error raises (the jobs
        stay leased in the retry schedule, so the retry loop settles them later).
        """
        keys = self._keys
        script = self._scripts["notify_settle"]
        records = []
        async with self._client.pipeline(transaction=False) as pipe:
            for settle in settles:
                job, status = settle.job, settle.status
                record = job.record(status, _now_iso(), error=settle.error)
                if status == "retrying":
                    record["retry_in_s"] = round(settle.delay_s, 3)
                dlq = b""
                if status == "failed":
                    dlq = codec.encode(
                        {"kind": "notification.failed", **record, "attempts": job.attempt}
                    )
                records.append(record)
                await script(
                    keys=[
                        self._delivery_key(job),
                        keys.retries,
                        keys.retry_job(job.job_id),
                        keys.deliveries,
                        keys.dlq,
                    ],
                    # A retry stores the job again, a failure keeps it for replay; sent deletes.
                    args=[
                        status,
                        job.job_id,
                        "" if status == "sent" else job.model_dump_json(),
                        int(settle.delay_s * 1000),
                        codec.encode(record),
                        dlq,
                        DELIVERY_TTL_S,
                        DELIVERIES_MAXLEN,
                    ],
                    client=pipe,
                )
            results = await pipe.execute(raise_on_error=False)
        ended: list[bool] = []
        error: Exception | None = None
        for settle, record, result in zip(settles, records, results, strict=True):
            if isinstance(result, Exception):
                error = result
                ended.append(False)
                continue
            status = settle.status
            self._outcomes.labels(status=status, channel=settle.job.channel.type).inc()
            ended.append(result == 1)
            if status == "sent" and settle.job.channel.type == "log":
                continue  # the log channel's own line is this delivery's one line
            level = log.error if status == "failed" else log.info
            level(f"delivery_{status}", **{k: v for k, v in record.items() if v is not None})
        if error is not None:
            raise error
        return ended

    async def _tell_oversight(self, failed: Job) -> None:
        """Notify oversight that a message could not be delivered (never cascades)."""
        oversight = self._directory.unit(self._directory.oversight_id, Audience.OVERSIGHT)
        if oversight is None:
            return
        event_id = f"{failed.event_id}/failed/{failed.job_id}"
        if failed.replays:  # a replay that failed again is news to oversight again
            event_id += f"/{failed.replays}"
        for channel in oversight.channels:
            context = {
                "tracking_no": failed.tracking_no or failed.grievance_id,
                "event_type": failed.event_type,
                "failed_recipient": failed.recipient,
                "channel": failed.channel_label,
                "attempts": failed.attempt,
                "error": failed.last_error,
            }
            text = render_named("notification_failed", "oversight", channel.locale, context)
            label = channel_label(channel)
            job = Job(
                job_id=delivery_id(event_id, oversight.id, label),
                kind="failure_notice",
                event_id=event_id,
                grievance_id=failed.grievance_id,
                event_type="notification.failed",
                tracking_no=failed.tracking_no,
                recipient=oversight.id,
                audience=Audience.OVERSIGHT.value,
                channel=channel,
                channel_label=label,
                locale=channel.locale,
                text=text,
                data={
                    "failed": {
                        "delivery_id": failed.job_id,
                        "recipient": failed.recipient,
                        "channel": failed.channel_label,
                        "error": failed.last_error,
                    }
                },
            )
            if await self.claim(job):
                await self.attempt(job)

    def _delivery_key(self, job: Job) -> str:
        return self._keys.delivery(job.event_id, job.recipient, job.channel_label)


@dataclass(frozen=True, slots=True)
class _Settle:
    """One attempt's outcome, waiting to be recorded."""

    job: Job
    status: str
    error: str | None = None
    delay_s: float = 0.0


def _next_attempt(job: Job, now: float) -> Job:
    """Return ``job`` counted as one more attempt, its horizon starting at the first."""
    update: dict[str, Any] = {"attempt": job.attempt + 1}
    if job.first_attempt_at is None:
        update["first_attempt_at"] = now
    return job.model_copy(update=update)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
