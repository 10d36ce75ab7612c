"""Stream ingestion from ``zt:intake``: the same validation as HTTP, never a silent drop.

A valid entry is accepted with the idempotency key it names, or else ``stream:<entry id>``,
so a redelivered entry never yields a second grievance.  An invalid one gets exactly one
record in ``zt:intake.rejected`` (original entry id, payload and every reason) and is
acknowledged; the consumer keeps going.  Only infrastructure failures (Redis down) are
reported to the ``StreamConsumer``, which retries and finally dead-letters them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.intake.submission import Intake
from services.intake.validation import (
    FieldError,
    parse_stream_grievance,
    payload_error,
    reasons,
)
from shared import codec, store
from shared.consumer import Entry, Failures
from shared.events import Channel, StreamGrievanceIn
from shared.logging import get_logger
from shared.redis.scripts import Scripts
from shared.streams import PAYLOAD_FIELD, Keys

log = get_logger(__name__)

# The once-per-entry marker outlives any plausible redelivery of the entry.
REJECTED_MARKER_TTL_S = 7 * 86400


@dataclass(slots=True)
class StreamIntake:
    """Batch handler for the ``intake`` group on ``zt:intake``."""

    intake: Intake
    scripts: Scripts
    keys: Keys

    async def __call__(self, entries: Sequence[Entry]) -> Failures:
        """Handle a batch; return the entries that failed for infrastructure reasons.

        Every entry is decoded, validated and classified in Python first; then all accepts
        go out in one pipeline and all rejections in another, concurrently.
        """
        accepts: list[tuple[Entry, StreamGrievanceIn, store.AcceptRequest]] = []
        rejects: list[tuple[Entry, list[FieldError], object | None]] = []
        failures: dict[str, BaseException] = {}
        for entry in entries:
            try:
                body = codec.decode(entry.fields)
            except codec.PayloadError as exc:
                rejects.append((entry, payload_error(str(exc)), None))
                continue
            parsed = parse_stream_grievance(body)
            if isinstance(parsed, list):
                rejects.append((entry, parsed, body.get("source")))
                continue
            refused = self.intake.worker_refusal(parsed.worker.id)
            if refused:
                rejects.append((entry, refused, parsed.source))
                continue
            key = parsed.idempotency_key or f"stream:{entry.id}"
            try:
                request = self.intake.prepare(
                    parsed, source=parsed.source, channel=Channel.STREAM, idempotency_key=key
                )
            except Exception as exc:  # a bug, not the entry's fault: retry, then dead-letter
                failures[entry.id] = exc
                continue
            accepts.append((entry, parsed, request))
        accepted, rejected = await asyncio.gather(
            self._accept(accepts), self._reject(rejects), return_exceptions=True
        )
        for outcome, batch in ((accepted, accepts), (rejected, rejects)):
            if isinstance(outcome, BaseException):  # the round trip failed: all of them
                failures.update((item[0].id, outcome) for item in batch)
            else:
                failures.update(outcome)
        return failures

    async def handle(self, entry: Entry) -> None:
        """Accept or reject one entry; raise only for an infrastructure failure."""
        failures = await self([entry])
        if entry.id in failures:
            raise failures[entry.id]

    async def _accept(
        self, accepts: Sequence[tuple[Entry, StreamGrievanceIn, store.AcceptRequest]]
    ) -> dict[str, BaseException]:
        if not accepts:
            return {}
        results = await self.intake.submit_many([request for _, _, request in accepts])
        failures: dict[str, BaseException] = {}
        for (entry, grievance, _), result in zip(accepts, results, strict=True):
            if isinstance(result, BaseException):
                failures[entry.id] = result
            elif result.outcome != "accepted":
                # A repeat is the expected effect of redelivery; a conflict is an upstream
                # bug worth seeing, but the original grievance stands either way.
                log.info(
                    "stream_entry_repeat",
                    entry_id=entry.id,
                    grievance_id=result.grievance_id,
                    source=grievance.source,
                    outcome=result.outcome,
                )
        return failures

    async def _reject(
        self, rejects: Sequence[tuple[Entry, list[FieldError], object | None]]
    ) -> dict[str, BaseException]:
        """Write one ``zt:intake.rejected`` record per entry (once, however redelivered)."""
        if not rejects:
            return {}
        script = self.scripts["reject"]
        records = []
        async with self.intake.client.pipeline(transaction=False) as pipe:
            for entry, errors, source in rejects:
                record = {
                    "entry_id": entry.id,
                    "stream": self.keys.intake,
                    "source": source if isinstance(source, str) else None,
                    "payload": _original_text(entry),
                    "reasons": reasons(errors),
                    "errors": errors,
                    "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                }
                records.append(record)
                await script(
                    keys=[self.keys.rejected_marker(entry.id), self.keys.intake_rejected],
                    args=[codec.encode(record), REJECTED_MARKER_TTL_S],
                    client=pipe,
                )
            replies = await pipe.execute(raise_on_error=False)
        failures: dict[str, BaseException] = {}
        for (entry, errors, _), record, written in zip(rejects, records, replies, strict=True):
            if isinstance(written, Exception):
                failures[entry.id] = written
                continue
            log.info(
                "grievance_rejected",
                entry_id=entry.id,
                source=record["source"],
                channel=Channel.STREAM.value,
                reasons=len(errors),
                first_reason=record["reasons"][0] if record["reasons"] else None,
                written=bool(written),
            )
        return failures


def _original_text(entry: Entry) -> str:
    raw = codec.raw_fields_text(entry.fields)
    if PAYLOAD_FIELD in raw:
        return raw[PAYLOAD_FIELD]
    # No payload field at all: keep every field so the upstream app can see what it sent.
    return codec.encode(raw).decode()
