"""Reliable stream consumption on FastStream: bounded reads, reclaim, dead-lettering.

FastStream never retries a failed Redis stream message by itself (FASTSTREAM-NOTES), so
every consumer here is a pair on one group:

* a **reader** (``XREADGROUP >`` with ``max_records``) hands batches to the handler and
  acknowledges exactly the entries that succeeded;
* a **reclaimer** (``XAUTOCLAIM`` after ``reclaim_idle_ms``) takes entries left pending by a
  failure or a dead consumer, retries them one by one and, after ``max_deliveries``
  attempts, moves them to ``zt:dlq`` with the last error, so a poison entry never blocks.

Handlers must be idempotent: delivery is at least once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from faststream import AckPolicy
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage, RedisStreamMessage
from redis.asyncio import Redis

from shared import codec
from shared.logging import get_logger
from shared.redis.client import as_text
from shared.redis.scripts import Scripts
from shared.settings import CommonSettings

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Entry:
    """Return one raw stream entry: its id and its fields, undecoded."""

    id: str
    fields: dict[bytes, bytes]
    deliveries: int = 1


Failures = Mapping[str, BaseException]
BatchHandler = Callable[[Sequence[Entry]], Awaitable[Failures]]


_PLACEHOLDER = {b"__data__": b"null"}


async def _raw_parser(message: Any, original_parser: Callable[[Any], Awaitable[Any]]) -> Any:
    # FastStream's parser JSON-dumps an entry's fields and raises on bytes that are not
    # UTF-8, which would leave such an entry pending forever.  Handlers read the raw
    # fields themselves, so parse a placeholder and keep the original raw message.
    data = message["data"]
    placeholder = [_PLACEHOLDER] * len(data) if isinstance(data, list) else _PLACEHOLDER
    parsed = await original_parser({**message, "data": placeholder})
    parsed.raw_message = message
    return parsed


@dataclass(slots=True)
class StreamConsumer:
    """Return a reader + reclaimer pair on one stream and group, wired to one handler."""

    client: Redis
    settings: CommonSettings
    stream: str
    group: str
    handler: BatchHandler
    scripts: Scripts = field(init=False)

    def __post_init__(self) -> None:
        self.scripts = Scripts(self.client)

    def attach(self, broker: RedisBroker) -> None:
        """Register the reader and the reclaimer subscribers on ``broker``."""
        consumer = self.settings.consumer_name
        reader = StreamSub(
            self.stream,
            group=self.group,
            consumer=consumer,
            batch=True,
            max_records=self.settings.max_records,
            polling_interval=self.settings.poll_ms,
        )
        reclaimer = StreamSub(
            self.stream,
            group=self.group,
            consumer=consumer,
            min_idle_time=self.settings.reclaim_idle_ms,
            polling_interval=max(self.settings.poll_ms, 250),
        )
        broker.subscriber(
            stream=reader,
            ack_policy=AckPolicy.MANUAL,
            parser=_raw_parser,
            title=f"{self.stream}:{self.group}",
        )(self._read)
        broker.subscriber(
            stream=reclaimer,
            ack_policy=AckPolicy.MANUAL,
            parser=_raw_parser,
            title=f"{self.stream}:{self.group}:reclaim",
            include_in_schema=False,
        )(self._reclaim)

    async def _read(self, msg: RedisBatchStreamMessage) -> None:
        raw = msg.raw_message
        entries = [
            Entry(id=i.decode(), fields=d)
            for i, d in zip(raw["message_ids"], raw["data"], strict=True)
        ]
        await self._run(entries)

    async def _reclaim(self, msg: RedisStreamMessage) -> None:
        raw = msg.raw_message
        entry_id = raw["message_ids"][0].decode()
        pending = await self.client.xpending_range(
            self.stream, self.group, min=entry_id, max=entry_id, count=1
        )
        deliveries = int(pending[0]["times_delivered"]) if pending else 1
        entry = Entry(id=entry_id, fields=raw["data"], deliveries=deliveries)
        if deliveries > self.settings.max_deliveries:
            await self._dead_letter(entry)
            return
        log.info("reclaimed", stream=self.stream, entry_id=entry_id, deliveries=deliveries)
        await self._run([entry])

    async def _run(self, entries: Sequence[Entry]) -> None:
        try:
            failures = await self.handler(entries)
        except Exception as exc:  # the whole batch failed: leave it all for the reclaimer
            failures = {e.id: exc for e in entries}
        errors_key = self.settings.keys.last_errors(self.stream, self.group)
        done = [e.id for e in entries if e.id not in failures]
        async with self.client.pipeline(transaction=False) as pipe:
            if done:
                pipe.xack(self.stream, self.group, *done)
            for entry_id, error in failures.items():
                pipe.hset(errors_key, entry_id, f"{type(error).__name__}: {error}"[:2000])
            if any(e.deliveries > 1 for e in entries if e.id in done):
                pipe.hdel(errors_key, *done)
            await pipe.execute()
        for entry_id, error in failures.items():
            log.warning(
                "handler_failed",
                stream=self.stream,
                group=self.group,
                entry_id=entry_id,
                error=f"{type(error).__name__}: {error}",
            )

    async def _dead_letter(self, entry: Entry) -> None:
        keys = self.settings.keys
        errors_key = keys.last_errors(self.stream, self.group)
        last_error = await self.client.hget(errors_key, entry.id)
        record = {
            "kind": "poison",
            "stream": self.stream,
            "group": self.group,
            "entry_id": entry.id,
            "deliveries": entry.deliveries,
            "error": as_text(last_error) if last_error else "consumer died while handling",
            "fields": codec.raw_fields_text(entry.fields),
            "at": datetime.now(UTC).isoformat(),
        }
        moved = await self.scripts.call(
            "dead_letter",
            [keys.dlq, self.stream, errors_key],
            [self.group, entry.id, codec.encode(record)],
        )
        if moved:
            log.error(
                "dead_lettered",
                stream=self.stream,
                entry_id=entry.id,
                deliveries=entry.deliveries,
                error=record["error"],
            )
