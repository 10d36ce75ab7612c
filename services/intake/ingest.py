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
from shared import codec
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
    """Return the batch handler for the ``intake`` group on ``zt:intake``."""

    intake: Intake
    scripts: Scripts
    keys: Keys

    async def __call__(self, entries: Sequence[Entry]) -> Failures:
        """Handle a batch; return the entries that failed for infrastructure reasons."""
        results = await asyncio.gather(
            *(self.handle(entry) for entry in entries), return_exceptions=True
        )
        return {
            entry.id: result
            for entry, result in zip(entries, results, strict=True)
            if isinstance(result, BaseException)
        }

    async def handle(self, entry: Entry) -> None:
        """Accept or reject one entry."""
        try:
            body = codec.decode(entry.fields)
        except codec.PayloadError as exc:
            await self.reject(entry, payload_error(str(exc)))
            return
        parsed = parse_stream_grievance(body)
        if isinstance(parsed, list):
            await self.reject(entry, parsed, source=body.get("source"))
            return
        await self.accept(entry, parsed)

    async def accept(self, entry: Entry, grievance: StreamGrievanceIn) -> None:
        key = grievance.idempotency_key or f"stream:{entry.id}"
        outcome = await self.intake.submit(
            grievance, source=grievance.source, channel=Channel.STREAM, idempotency_key=key
        )
        if outcome.result != "accepted":
            # A repeat is the expected effect of redelivery; a conflict is an upstream bug
            # worth seeing, but the original grievance stands either way.
            log.info(
                "stream_entry_repeat",
                entry_id=entry.id,
                grievance_id=outcome.id,
                source=grievance.source,
                outcome=outcome.result,
            )

    async def reject(
        self, entry: Entry, errors: list[FieldError], source: object | None = None
    ) -> None:
        """Write one ``zt:intake.rejected`` record for ``entry`` (once, however redelivered)."""
        record = {
            "entry_id": entry.id,
            "stream": self.keys.intake,
            "source": source if isinstance(source, str) else None,
            "payload": _original_text(entry),
            "reasons": reasons(errors),
            "errors": errors,
            "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        written = await self.scripts.call(
            "reject",
            [self.keys.rejected_marker(entry.id), self.keys.intake_rejected],
            [codec.encode(record), REJECTED_MARKER_TTL_S],
        )
        log.info(
            "grievance_rejected",
            entry_id=entry.id,
            source=record["source"],
            channel=Channel.STREAM.value,
            reasons=len(errors),
            first_reason=record["reasons"][0] if record["reasons"] else None,
            written=bool(written),
        )


def _original_text(entry: Entry) -> str:
    raw = codec.raw_fields_text(entry.fields)
    if PAYLOAD_FIELD in raw:
        return raw[PAYLOAD_FIELD]
    # No payload field at all: keep every field so the upstream app can see what it sent.
    return codec.encode(raw).decode()
