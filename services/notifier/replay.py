"""Re-send deliveries the notifier gave up on, exactly once (``zhitong dlq replay``, ops API).

A given-up delivery leaves a ``notification.failed`` dead letter on ``zt:dlq`` and keeps its
job (out of the retry schedule) for as long as its delivery key lives.  Replaying the dead
letter runs ``notify_replay.lua``: in one step it deletes the dead letter (the claim: a second
or concurrent replay finds it gone), moves the delivery key from ``failed`` to ``retrying``
and schedules the job now, with its attempts and its horizon starting afresh.  The retry
loop then sends it like any retry, and its outcome lands on ``zt:deliveries`` as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from services.notifier.channels import Job
from services.notifier.delivery import DELIVERIES_MAXLEN, DELIVERY_TTL_S
from shared import codec
from shared.redis.client import as_text
from shared.redis.scripts import Scripts
from shared.streams import Keys

FAILED_KIND = "notification.failed"
_IDS = ("delivery_id", "event_id", "recipient", "channel")


class ReplayError(Exception):
    """Raise when a given-up delivery cannot be re-sent; the message says why."""


@dataclass(frozen=True, slots=True)
class GivenUp:
    """One ``notification.failed`` dead letter: its DLQ id and its record."""

    id: str
    record: dict[str, Any]


def decode_letter(fields: Any) -> dict[str, Any]:
    """Return a DLQ entry's record; raise ``codec.PayloadError`` when it is unreadable."""
    # redis-py types stream replies loosely (str | bytes | None); ours are bytes-mode.
    return codec.decode(fields)


def replayable(record: dict[str, Any]) -> bool:
    """Return whether ``record`` names the delivery it gave up on (newer records all do)."""
    return record.get("kind") == FAILED_KIND and all(
        isinstance(record.get(field), str) for field in _IDS
    )


async def given_up(client: Redis, keys: Keys, count: int = 100) -> list[GivenUp]:
    """Return up to ``count`` ``notification.failed`` dead letters, oldest first."""
    found: list[GivenUp] = []
    start = "-"
    while len(found) < count:
        page = await client.xrange(keys.dlq, min=start, count=500)
        if not page:
            break
        for entry_id, fields in page:
            try:
                record = decode_letter(fields)
            except codec.PayloadError:  # not ours to show; `zhitong dlq list` shows it
                continue
            if record.get("kind") == FAILED_KIND:
                found.append(GivenUp(as_text(entry_id), record))
        start = "(" + as_text(page[-1][0])
    return found[:count]


async def replay_failed(
    client: Redis, keys: Keys, dlq_id: str, record: dict[str, Any], *, by: str
) -> bool:
    """Schedule the delivery behind dead letter ``dlq_id`` to be sent again now.

    Return ``False`` when the dead letter was already gone (replayed or purged by someone
    else); raise ``ReplayError`` when it cannot be replayed, leaving it in place.
    """
    if not replayable(record):
        raise ReplayError(f"{dlq_id} does not name a delivery (written before replays existed)")
    delivery_id, event_id, recipient, channel = (str(record[field]) for field in _IDS)
    body = await client.get(keys.retry_job(delivery_id))
    fresh = "" if body is None else _fresh(as_text(body), dlq_id)
    audit = {
        key: record.get(key) for key in ("event_id", "grievance_id", "event_type", "recipient")
    } | {
        "delivery_id": delivery_id,
        "channel": channel,
        "status": "replayed",
        "attempt": 0,
        "dlq_id": dlq_id,
        "by": by,
        "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    result = await Scripts(client).call(
        "notify_replay",
        [
            keys.dlq,
            keys.delivery(event_id, recipient, channel),
            keys.retries,
            keys.retry_job(delivery_id),
            keys.deliveries,
        ],
        [dlq_id, delivery_id, fresh, DELIVERY_TTL_S, codec.encode(audit), DELIVERIES_MAXLEN],
    )
    if result == 1:
        return True
    if result == 0:
        return False
    state = as_text(result)
    if state == "expired":
        days = DELIVERY_TTL_S // 86400
        raise ReplayError(f"{dlq_id}: the delivery aged out after {days} days; nothing to re-send")
    raise ReplayError(f"{dlq_id}: the delivery is {state!r}, not failed; nothing to re-send")


def _fresh(body: str, dlq_id: str) -> str:
    """Return the kept job as a new delivery: attempts and horizon start again."""
    try:
        job = Job.model_validate_json(body)
    except ValidationError as exc:
        problem = f"{dlq_id}: the kept job is unreadable ({exc.error_count()} errors)"
        raise ReplayError(problem) from exc
    return job.model_copy(
        update={"attempt": 0, "first_attempt_at": None, "replays": job.replays + 1}
    ).model_dump_json()
