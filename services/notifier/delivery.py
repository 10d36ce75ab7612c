"""Turn events into jobs and deliver each job once: claim, send, settle (or retry).

Every (event, recipient, channel) is claimed by ``notify_claim.lua`` before anything is
sent, so a redelivered or reclaimed event never sends twice; the claimed job is stored with
a lease in the retry schedule, so a crash mid-send is finished by the retry loop.
Outcomes (``sent`` / ``retrying`` / ``failed``) are recorded atomically by
``notify_settle.lua`` on ``zt:deliveries`` (and ``zt:dlq`` for failures).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from redis.asyncio import Redis

from services.notifier.channels import Channel, Job, SendError
from services.notifier.recipients import Audience, Directory, GrievanceView, Recipient, recipients
from services.notifier.templates import render, render_named
from shared import codec, store
from shared.config import Config, ContactChannel
from shared.consumer import Entry
from shared.events import Event, EventType
from shared.logging import get_logger
from shared.redis.scripts import Scripts
from shared.settings import NotifierSettings

log = get_logger(__name__)

DELIVERY_TTL_S = 30 * 86400  # longer than any redelivery or retry can take
DELIVERIES_MAXLEN = 100_000
SEND_CONCURRENCY = 32
_RATING_EVENTS = frozenset({EventType.RESOLVED, EventType.FEEDBACK_REQUESTED})


def backoff_s(
    attempt: int, base: float, cap: float, rng: Callable[[], float] = random.random
) -> float:
    """Return the wait before retry ``attempt + 1``: exponential, capped, equal jitter."""
    delay = min(cap, base * 2.0 ** max(0, attempt - 1))
    # Equal jitter keeps at least half the backoff while spreading a burst of failures.
    return delay / 2 + rng() * delay / 2


def channel_label(channel: ContactChannel) -> str:
    """Return a stable, PII-free name for a contact channel (part of the dedupe key)."""
    label = channel.type if channel.endpoint is None else f"{channel.type}:{channel.endpoint}"
    if channel.to:
        label += "#" + hashlib.sha256(channel.to.encode()).hexdigest()[:8]
    return label


def delivery_id(event_id: str, recipient: str, label: str) -> str:
    """Return the id of one delivery; also the ``webhook-id`` receivers dedupe on."""
    digest = hashlib.sha256(f"{event_id}\n{recipient}\n{label}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


class Dispatcher:
    """Return the notifier's core: event → recipients → claimed jobs → sends → outcomes."""

    def __init__(
        self,
        client: Redis,
        settings: NotifierSettings,
        config: Config,
        channels: Mapping[str, Channel],
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._client = client
        self._settings = settings
        self._keys = settings.keys
        self._scripts = Scripts(client)
        self._directory = Directory.from_config(config)
        self._channels = channels
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
        """Claim and send every delivery of a batch of events; return per-entry failures."""
        failures: dict[str, BaseException] = {}
        claimed: list[Job] = []
        for entry in entries:
            try:
                claimed.extend(await self._claim_event(entry))
            except Exception as exc:  # left pending: the reclaimer retries, then dead-letters
                failures[entry.id] = exc
        # Claimed jobs are durable; a failed send here is retried by the retry loop.
        await asyncio.gather(*(self.attempt(job) for job in claimed))
        return failures

    async def _claim_event(self, entry: Entry) -> list[Job]:
        event = Event.model_validate(codec.decode(entry.fields))
        loaded = await store.load(self._client, self._keys, event.grievance_id)
        if loaded is None:
            log.warning(
                "grievance_unknown", event_id=event.event_id, grievance_id=event.grievance_id
            )
        doc = loaded[0].get("doc") if loaded else None
        grievance = GrievanceView.from_doc(doc)
        jobs = [
            self._job(event, grievance, recipient, channel)
            for recipient in recipients(event, grievance, self._directory)
            for channel in recipient.channels
        ]
        return [job for job in jobs if await self.claim(job)]

    def _job(
        self, event: Event, grievance: GrievanceView, recipient: Recipient, channel: ContactChannel
    ) -> Job:
        # The log must hold no PII, so the worker's identity is revealed on real channels only.
        message = render(
            event,
            grievance,
            self._directory,
            recipient,
            locale=channel.locale,
            reveal_worker=channel.type != "log",
        )
        label = channel_label(channel)
        return Job(
            job_id=delivery_id(event.event_id, recipient.id, label),
            event_id=event.event_id,
            grievance_id=event.grievance_id,
            event_type=event.type.value,
            tracking_no=event.tracking_no or grievance.tracking_no,
            recipient=recipient.id,
            audience=recipient.audience.value,
            channel=channel,
            channel_label=label,
            address=recipient.address,
            locale=message.locale,
            text=message.text,
            data=_event_data(event, grievance, recipient),
        )

    async def claim(self, job: Job) -> bool:
        """Return whether this process owns ``job`` (first claim of its delivery key)."""
        result = await self._scripts.call(
            "notify_claim",
            [self._delivery_key(job), self._keys.retries, self._keys.retry_job(job.job_id)],
            [job.job_id, job.model_dump_json(), self.lease_ms, DELIVERY_TTL_S],
        )
        if result != 1:
            state = result.decode() if isinstance(result, bytes) else result
            log.info(
                "delivery_already_claimed",
                event_id=job.event_id,
                recipient=job.recipient,
                channel=job.channel_label,
                state=state,
            )
        return bool(result == 1)

    async def attempt(self, job: Job) -> None:
        """Send ``job`` once more and record the outcome (sent, retrying or failed)."""
        job = job.model_copy(update={"attempt": job.attempt + 1})
        channel = self._channels.get(job.channel.type)
        error: SendError | None = None
        async with self._sends:
            try:
                if channel is None:
                    raise SendError(f"unknown channel type {job.channel.type!r}", retryable=False)
                await channel.send(job)
            except SendError as exc:
                error = exc
            except Exception as exc:  # a bug in a channel must not lose the delivery
                error = SendError(repr(exc), retryable=True)
        # Settled outside the semaphore: a failure may send oversight a notice in turn.
        if error is None:
            await self._settle(job, "sent", error=None)
        else:
            await self._failed_attempt(job, error)

    async def _failed_attempt(self, job: Job, exc: SendError) -> None:
        job = job.model_copy(update={"last_error": exc.reason})
        if exc.retryable and job.attempt < self._settings.max_attempts:
            delay = backoff_s(job.attempt, self._settings.retry_base_s, self._settings.retry_max_s)
            if exc.retry_after is not None:
                delay = min(self._settings.retry_max_s, max(delay, exc.retry_after))
            await self._settle(job, "retrying", error=exc.reason, delay_s=delay)
            return
        if await self._settle(job, "failed", error=exc.reason) and job.kind == "event":
            await self._tell_oversight(job)

    async def _settle(self, job: Job, status: str, error: str | None, delay_s: float = 0.0) -> bool:
        record = {
            "event_id": job.event_id,
            "grievance_id": job.grievance_id,
            "event_type": job.event_type,
            "delivery_id": job.job_id,
            "recipient": job.recipient,
            "channel": job.channel_label,
            "status": status,
            "attempt": job.attempt,
            "error": error,
            "at": _now_iso(),
        }
        if status == "retrying":
            record["retry_in_s"] = round(delay_s, 3)
        dlq = b""
        if status == "failed":
            dlq = codec.encode({"kind": "notification.failed", **record, "attempts": job.attempt})
        keys = self._keys
        done = await self._scripts.call(
            "notify_settle",
            [self._delivery_key(job), keys.retries, keys.retry_job(job.job_id),
             keys.deliveries, keys.dlq],
            [status, job.job_id, job.model_dump_json(), int(delay_s * 1000), codec.encode(record),
             dlq, DELIVERY_TTL_S, DELIVERIES_MAXLEN],
        )  # fmt: skip
        self._outcomes.labels(status=status, channel=job.channel.type).inc()
        level = log.error if status == "failed" else log.info
        level(f"delivery_{status}", **{k: v for k, v in record.items() if v is not None})
        return bool(done == 1)

    async def _tell_oversight(self, failed: Job) -> None:
        """Notify oversight that a message could not be delivered (never cascades)."""
        oversight = self._directory.unit(self._directory.oversight_id, Audience.OVERSIGHT)
        if oversight is None:
            return
        event_id = f"{failed.event_id}/failed/{failed.job_id}"
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
                data={"failed": {"delivery_id": failed.job_id, "recipient": failed.recipient,
                                 "channel": failed.channel_label, "error": failed.last_error}},
            )  # fmt: skip
            if await self.claim(job):
                await self.attempt(job)

    def _delivery_key(self, job: Job) -> str:
        return self._keys.delivery(job.event_id, job.recipient, job.channel_label)


def _event_data(event: Event, grievance: GrievanceView, recipient: Recipient) -> dict[str, Any]:
    """Return the machine-readable part of a webhook body (what the receiver acts on)."""
    data: dict[str, Any] = {
        "at": event.at.isoformat(),
        "seq": event.seq,
        "state": event.state.value,
        "tier": event.tier,
        "assignee": event.assignee,
        "ack_due_at": event.ack_due_at.isoformat() if event.ack_due_at else None,
        "resolve_due_at": event.resolve_due_at.isoformat() if event.resolve_due_at else None,
    }
    if recipient.audience is Audience.WORKER and grievance.worker_id:
        path = f"/v1/grievances/{event.grievance_id}/actions"
        actor = {"id": grievance.worker_id, "role": "worker"}
        # The loop: the upstream app turns the worker's answer into this action for intake.
        if event.type in _RATING_EVENTS:
            body = {"type": "feedback", "actor": actor, "rating": None, "comment": None}
            data["reply_with"] = {"method": "POST", "path": path, "scale": [1, 5], "body": body}
        elif event.type is EventType.INFO_REQUESTED:
            body = {"type": "worker_reply", "actor": actor, "note": None}
            data["reply_with"] = {"method": "POST", "path": path, "body": body}
    return {k: v for k, v in data.items() if v is not None}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
