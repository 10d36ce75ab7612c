"""Spare people: quiet hours and a rate limit per recipient and channel (pure, no I/O).

A first attempt that falls in the recipient's quiet hours, or over the channel's rate
limit, is held instead of sent; everything held for one recipient on one channel (a
*bucket*) goes out later as one digest.  These functions decide; ``digests.py`` runs the
decisions atomically in Redis.  Every instant is passed in, never read from a clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.notifier.channels import Job
from services.notifier.templates import render_named
from shared.config import ContactChannel, NotifierPacing, QuietHours, RateLimit

Clock = Callable[[], datetime]

DIGEST_EVENT_TYPE = "notification.digest"
DIGEST_MAX_JOBS = 200  # held jobs per digest; the rest wait for the next one
DIGEST_MAX_LINES = 20  # an SMS-sized text; the webhook data lists every job
EXCERPT_CHARS = 60
# Why a job was held (the 'held' record's reason, set by notify_hold.lua).
QUIET_HOURS, RATE_LIMIT, DIGEST_PENDING = "quiet_hours", "rate_limit", "digest_pending"


def utc_now() -> datetime:
    """Return the current time in UTC (the production clock)."""
    return datetime.now(UTC)


def to_ms(moment: datetime) -> int:
    """Return epoch milliseconds of an aware datetime."""
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Pace:
    """Pacing in force on one channel: quiet hours and a rate limit, each optional."""

    quiet: QuietHours | None = None
    rate: RateLimit | None = None


def pace_for(channel: ContactChannel, defaults: NotifierPacing) -> Pace:
    """Return the channel's own settings where it has them, else the notifier's defaults."""
    quiet = defaults.quiet_hours if channel.quiet_hours is None else channel.quiet_hours
    rate = defaults.rate_limit if channel.rate_limit is None else channel.rate_limit
    return Pace(quiet or None, rate or None)


def quiet_until(now: datetime, quiet: QuietHours) -> datetime | None:
    """Return when the quiet period around ``now`` ends (UTC), or ``None`` outside it.

    ``start`` is inclusive and ``end`` exclusive; a period with ``start`` after ``end``
    (22:00–07:00) runs over midnight.
    """
    zone = ZoneInfo(quiet.timezone)
    local = now.astimezone(zone)
    start, end, t = _clock(quiet.start), _clock(quiet.end), local.time()
    today = local.date()
    if start < end:
        return _at(today, end, zone) if start <= t < end else None
    if t >= start:
        return _at(today + timedelta(days=1), end, zone)
    if t < end:
        return _at(today, end, zone)
    return None


def window_frees_at(sent_ms: Sequence[int], now_ms: int, limit: int, window_ms: int) -> int | None:
    """Return when the sliding window next has room (epoch ms), or ``None`` if it has now.

    A send at ``t`` counts while ``t > now - window``.  ``notify_hold.lua`` and
    ``notify_digest_cut.lua`` apply this same rule atomically.
    """
    recent = sorted(t for t in sent_ms if t > now_ms - window_ms)
    if len(recent) < limit:
        return None
    return recent[len(recent) - limit] + window_ms


@dataclass(frozen=True, slots=True)
class HoldPlan:
    """What ``notify_hold.lua`` needs to decide one job (0 = not in force)."""

    quiet_until_ms: int
    join: bool  # wait behind messages already held, keeping their order
    limit: int
    window_ms: int
    enforce: bool  # over the limit holds; False only counts the send


def plan(job: Job, pace: Pace, now: datetime) -> HoldPlan | None:
    """Return how to pace ``job``, or ``None`` when it goes out now without asking Redis.

    Only a first attempt of an event message is paced: a retry was already let through, a
    failure notice is for ops, a digest is what pacing produces.  An urgency a rule exempts
    passes that rule and does not wait behind the held (it still counts as a send).
    """
    if job.kind != "event" or job.attempt > 0 or (pace.quiet is None and pace.rate is None):
        return None
    urgency = job.urgency
    quiet_exempt = pace.quiet is not None and urgency in pace.quiet.exempt
    rate_exempt = pace.rate is not None and urgency in pace.rate.exempt
    until = None if pace.quiet is None or quiet_exempt else quiet_until(now, pace.quiet)
    join = not (quiet_exempt or rate_exempt)
    if until is None and not join and pace.rate is None:
        return None
    return HoldPlan(
        quiet_until_ms=0 if until is None else to_ms(until),
        join=join,
        limit=pace.rate.max if pace.rate else 0,
        window_ms=pace.rate.window * 1000 if pace.rate else 0,
        enforce=not rate_exempt,
    )


def bucket_of(job: Job) -> str:
    """Return the bucket a job is held in: its recipient on its channel."""
    return f"{job.recipient}|{job.channel_label}"


def digest_id(bucket: str, job_ids: Sequence[str]) -> str:
    """Return the digest's delivery id, derived from what it covers (one digest per cut)."""
    digest = hashlib.sha256("\n".join([bucket, *job_ids]).encode()).hexdigest()
    return f"dgst_{digest[:32]}"


@dataclass(frozen=True, slots=True)
class Held:
    """One held job with the reason it was held."""

    job: Job
    reason: str


def digest_job(bucket: str, held: Sequence[Held], now: datetime, pace: Pace) -> Job:
    """Return the one message that carries every held job of a bucket, oldest first."""
    latest = held[-1].job
    jobs = [h.job for h in held]
    job_id = digest_id(bucket, [j.job_id for j in jobs])
    reason = QUIET_HOURS if any(h.reason == QUIET_HOURS for h in held) else RATE_LIMIT
    grievances = {j.grievance_id for j in jobs}
    tracking = {j.tracking_no for j in jobs}
    return Job(
        job_id=job_id,
        kind="digest",
        event_id=job_id,
        grievance_id=grievances.pop() if len(grievances) == 1 else "",
        event_type=DIGEST_EVENT_TYPE,
        tracking_no=tracking.pop() if len(tracking) == 1 else None,
        recipient=latest.recipient,
        audience=latest.audience,
        channel=latest.channel,
        channel_label=latest.channel_label,
        address=next((j.address for j in reversed(jobs) if j.address), None),
        locale=latest.locale,
        text=digest_text(latest.locale, reason, jobs, pace),
        data={
            "at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "digest": {"reason": reason, "count": len(jobs), "items": [_item(j) for j in jobs]},
        },
    )


def digest_text(locale: str, reason: str, jobs: Sequence[Job], pace: Pace) -> str:
    """Return the digest's text: a count, then one line per grievance and message kind."""
    groups: dict[tuple[str, str], list[Job]] = {}
    for job in jobs:
        groups.setdefault((job.tracking_no or job.grievance_id, job.event_type), []).append(job)
    shown = list(groups.items())[:DIGEST_MAX_LINES]
    lines = [
        {"tracking_no": key[0], "count": len(group), "text": _excerpt(group[-1].text)}
        for key, group in shown
    ]
    listed = sum(len(group) for _, group in shown)
    quiet = f"{pace.quiet.start}–{pace.quiet.end}" if pace.quiet else None
    context: dict[str, Any] = {
        "reason": reason,
        "count": len(jobs),
        "quiet": quiet,
        "items": lines,
        "more": len(jobs) - listed,
    }
    return render_named("digest", "recipient", locale, context)


def _item(job: Job) -> dict[str, Any]:
    return {
        "delivery_id": job.job_id,
        "event_id": job.event_id,
        "grievance_id": job.grievance_id,
        "tracking_no": job.tracking_no,
        "event_type": job.event_type,
    }


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    # fold=0: on a day the clocks go back, the first of two equal local times.
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
