"""The dead-letter stream ``zt:dlq``: list, replay and purge its entries (``zhitong dlq``).

Three kinds of record land there (each a JSON ``payload``):

* ``poison`` (shared/consumer.py): an entry that failed ``max_deliveries`` times, with its
  ``stream``, ``group``, ``entry_id``, ``deliveries``, last ``error`` and original ``fields``;
* ``invalid_action`` (router): an action for no known grievance, with ``stream`` and ``fields``;
* ``notification.failed`` (notifier): a delivery given up on (its horizon passed, or the
  receiver refused it for good).  Replaying it re-sends that one delivery exactly once
  (``services/notifier/replay.py``), as long as the delivery has not aged out (30 days).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from services.notifier import replay as notifications
from shared.redis.client import as_text
from shared.streams import PAYLOAD_FIELD, Keys

# replay: put one dead letter's original fields back on its stream and delete it from the
# DLQ, atomically.  XDEL is the claim: of two concurrent replays only one re-publishes.
# KEYS[1] dlq stream   KEYS[2] target stream
# ARGV[1] dlq entry id   ARGV[2..] the original entry's field, value pairs
# Returns the new entry id, or false when the dead letter was already gone.
REPLAY_LUA = """
if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then return false end
return redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
"""


class DlqError(Exception):
    """Raise when a DLQ entry cannot be found or cannot be replayed."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One DLQ entry: its id and its decoded record."""

    id: str
    record: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.record.get("kind", "?"))

    @property
    def stream(self) -> str | None:
        stream = self.record.get("stream")
        return stream if isinstance(stream, str) else None

    @property
    def original(self) -> dict[str, str] | None:
        """Return the original entry's fields when the record carries them."""
        fields = self.record.get("fields")
        if isinstance(fields, dict) and fields:
            return {str(k): str(v) for k, v in fields.items()}
        return None

    def replay_error(self) -> str | None:
        """Return why this entry cannot be replayed, or ``None`` when it can."""
        if notifications.replayable(self.record):
            return None
        if self.stream is None or self.original is None:
            return f"{self.id} ({self.kind}) has no original stream entry to replay" + (
                "; its event is still in the events stream" if self.kind.startswith("notif") else ""
            )
        return None


def _decode(entry_id: Any, fields: Any) -> DeadLetter:
    # redis-py types stream replies loosely (str | bytes | None); ours are bytes-mode.
    raw = fields.get(PAYLOAD_FIELD.encode(), b"")
    try:
        record = json.loads(raw)
    except ValueError:
        record = {"kind": "unreadable", "error": raw.decode(errors="replace")}
    if not isinstance(record, dict):
        record = {"kind": "unreadable", "error": str(record)}
    return DeadLetter(as_text(entry_id), record)


async def list_entries(client: Redis, keys: Keys, count: int | None = None) -> list[DeadLetter]:
    """Return the DLQ entries, oldest first (at most ``count``)."""
    entries = await client.xrange(keys.dlq, count=count) or []
    return [_decode(entry_id, fields) for entry_id, fields in entries]


async def get_entries(client: Redis, keys: Keys, ids: Sequence[str]) -> list[DeadLetter]:
    """Return the named DLQ entries; raise ``DlqError`` naming those that do not exist."""
    found: list[DeadLetter] = []
    missing: list[str] = []
    for entry_id in ids:
        entries = await client.xrange(keys.dlq, min=entry_id, max=entry_id, count=1)
        if entries:
            entry_id_found, fields = entries[0]
            found.append(_decode(entry_id_found, fields))
        else:
            missing.append(entry_id)
    if missing:
        raise DlqError(f"no such DLQ entry: {', '.join(missing)}")
    return found


async def replay(client: Redis, keys: Keys, letter: DeadLetter) -> str | None:
    """Re-publish ``letter``'s original entry (or re-send its delivery); return the new id.

    The id is the new stream entry's, or the re-sent delivery's.  ``None`` means another
    replay or purge removed the dead letter first.
    """
    problem = letter.replay_error()
    if problem:
        raise DlqError(problem)
    if notifications.replayable(letter.record):
        try:
            sent = await notifications.replay_failed(
                client, keys, letter.id, letter.record, by="cli"
            )
        except notifications.ReplayError as exc:
            raise DlqError(str(exc)) from exc
        return str(letter.record["delivery_id"]) if sent else None
    assert letter.stream is not None  # checked by replay_error
    assert letter.original is not None
    pairs = [part for item in letter.original.items() for part in item]
    new_id = await client.eval(REPLAY_LUA, 2, keys.dlq, letter.stream, letter.id, *pairs)
    return as_text(new_id) if new_id else None


async def purge(client: Redis, keys: Keys, ids: Sequence[str]) -> int:
    """Delete the named DLQ entries; return how many were there."""
    if not ids:
        return 0
    return int(await client.xdel(keys.dlq, *ids))
