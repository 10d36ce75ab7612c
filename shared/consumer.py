"""Reliable stream consumption on FastStream: bounded reads, reclaim, dead-lettering.

FastStream never retries a failed Redis stream message by itself (FASTSTREAM-NOTES), so
every consumer here is a pair on one group:

* a **reader** (``XREADGROUP >`` with ``max_records``) hands batches to the handler and
  acknowledges exactly the entries that succeeded;
* a **reclaimer** (``XAUTOCLAIM`` after ``reclaim_idle_ms``) takes entries left pending by a
  failure or a dead consumer, retries them one by one and, after ``max_deliveries``
  attempts, moves them to ``zt:dlq`` with the last error, so a poison entry never blocks.

The edges FastStream leaves open are closed here (SPEC §8):

* the group is created from the stream's **beginning** (``0``, with the stream) before the
  subscribers start — FastStream would create it at ``$`` and skip what is already queued;
* a subscriber FastStream stopped for good (``NOGROUP`` after Redis came back empty) is
  **revived**: group recreated from ``0``, subscriber restarted; until then ``stopped``
  names it, so ``/readyz`` answers 503 instead of a live process consuming nothing;
* on shutdown, entries this consumer took but never finished (a read or claim cancelled in
  flight, a batch read after the stop began) are **handed back**: handled before exit, or
  released with their delivery count restored and idle time set so a peer takes them at once.

Handlers must be idempotent: delivery is at least once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from faststream import AckPolicy
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage, RedisStreamMessage
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared import codec
from shared.logging import get_logger
from shared.redis.client import as_text
from shared.redis.scripts import Scripts
from shared.settings import CommonSettings

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Entry:
    """One raw stream entry: its id and its fields, undecoded."""

    id: str
    fields: dict[bytes, bytes]
    deliveries: int = 1


Failures = Mapping[str, BaseException]
BatchHandler = Callable[[Sequence[Entry]], Awaitable[Failures]]


_PLACEHOLDER = {b"__data__": b"null"}
# How many entries one shutdown hands back at most (a consumer holds max_records + 1 normally).
_HAND_BACK_MAX = 10_000
# Failed entry ids remembered per process (left for the reclaimer, not handed back at exit).
_FAILED_MAX = 10_000


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
    """Reader + reclaimer pair on one stream and group, wired to one handler."""

    client: Redis
    settings: CommonSettings
    stream: str
    group: str
    handler: BatchHandler
    scripts: Scripts = field(init=False)
    # FastStream subscribers (reader, reclaimer), kept to watch and revive them.
    _subscribers: list[Any] = field(init=False, default_factory=list)
    # Entries whose handler failed in this process: they wait for the reclaimer on purpose.
    _failed: dict[str, None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.scripts = Scripts(self.client)

    @property
    def name(self) -> str:
        """Return ``stream/group``, how logs and ``/readyz`` name this consumer."""
        return f"{self.stream}/{self.group}"

    async def ensure_group(self) -> bool:
        """Create the group (and the stream) from its first entry unless it exists.

        Return whether it was created.  Created at ``0``, not ``$``: entries written before
        any consumer existed (an upstream app, or intake before the router started) are
        read, not skipped.
        """
        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
            return False
        log.info("group_created", stream=self.stream, group=self.group, from_id="0")
        return True

    @property
    def stopped(self) -> bool:
        """Return whether a subscriber of this consumer is not running."""
        return any(not sub.running for sub in self._subscribers)

    async def revive(self) -> None:
        """Recreate the group from ``0`` and restart every stopped subscriber."""
        created = await self.ensure_group()
        for sub in self._subscribers:
            if not sub.running:
                await sub.start()
        log.warning("consumer_revived", stream=self.stream, group=self.group, group_created=created)

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
        read = broker.subscriber(
            stream=reader,
            ack_policy=AckPolicy.MANUAL,
            parser=_raw_parser,
            title=f"{self.stream}:{self.group}",
        )
        read(self._read)
        reclaim = broker.subscriber(
            stream=reclaimer,
            ack_policy=AckPolicy.MANUAL,
            parser=_raw_parser,
            title=f"{self.stream}:{self.group}:reclaim",
            include_in_schema=False,
        )
        reclaim(self._reclaim)
        self._subscribers = [read, reclaim]

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
        self._remember_failures(failures, done)
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

    def _remember_failures(self, failures: Failures, done: Sequence[str]) -> None:
        for entry_id in done:
            self._failed.pop(entry_id, None)
        for entry_id in failures:
            self._failed[entry_id] = None
        while len(self._failed) > _FAILED_MAX:  # forget the oldest: at worst handed back early
            del self._failed[next(iter(self._failed))]

    async def hand_back(self, within_s: float) -> tuple[int, int]:
        """Finish, or else release, every entry this consumer holds; call once reading stopped.

        Return ``(finished, released)``.  Entries whose handler failed here stay pending
        for the reclaimer (their retry is due after ``reclaim_idle_ms``, as for any
        failure).  The rest were taken by a read or claim that the shutdown cut short, so
        no handler saw them: they are handled now, within ``within_s``; whatever is still
        held after that is released — idle time set past ``reclaim_idle_ms`` so a peer's
        reclaimer takes it at once, and its delivery count restored, so the cut-short
        read does not count as a failed attempt.
        """
        deadline = time.monotonic() + within_s
        held = await self._held()
        if not held:
            return 0, 0
        entries = await self._load(held)
        try:
            await asyncio.wait_for(
                self._run(entries), timeout=max(0.0, deadline - time.monotonic())
            )
        except TimeoutError:
            log.warning("hand_back_timeout", stream=self.stream, group=self.group)
        left = await self._held()
        await self._release(left)
        finished = len(held) - len(left)
        log.info(
            "consumer_handed_back",
            stream=self.stream,
            group=self.group,
            finished=finished,
            released=len(left),
        )
        return finished, len(left)

    async def _held(self) -> dict[str, int]:
        """Return the ids (and delivery counts) this consumer holds that did not fail here."""
        pending = await self.client.xpending_range(
            self.stream,
            self.group,
            min="-",
            max="+",
            count=_HAND_BACK_MAX,
            consumername=self.settings.consumer_name,
        )
        held = {as_text(p["message_id"]): int(p["times_delivered"]) for p in pending}
        return {i: n for i, n in held.items() if i not in self._failed}

    async def _load(self, held: Mapping[str, int]) -> list[Entry]:
        async with self.client.pipeline(transaction=False) as pipe:
            for entry_id in held:
                pipe.xrange(self.stream, min=entry_id, max=entry_id, count=1)
            found = await pipe.execute()
        entries: list[Entry] = []
        gone: list[str] = []
        for (entry_id, deliveries), rows in zip(held.items(), found, strict=True):
            if rows:
                entries.append(Entry(id=entry_id, fields=rows[0][1], deliveries=deliveries))
            else:  # deleted from the stream while pending: nothing left to handle
                gone.append(entry_id)
        if gone:
            await self.client.xack(self.stream, self.group, *gone)
        return entries

    async def _release(self, held: Mapping[str, int]) -> None:
        me = self.settings.consumer_name
        async with self.client.pipeline(transaction=False) as pipe:
            for entry_id, deliveries in held.items():
                pipe.xclaim(
                    self.stream,
                    self.group,
                    me,
                    min_idle_time=0,
                    message_ids=[entry_id],
                    idle=self.settings.reclaim_idle_ms,
                    retrycount=max(0, deliveries - 1),
                    justid=True,
                )
            await pipe.execute()

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
        self._failed.pop(entry.id, None)
        if moved:
            log.error(
                "dead_lettered",
                stream=self.stream,
                entry_id=entry.id,
                deliveries=entry.deliveries,
                error=record["error"],
            )
