"""Personal data ages out (SPEC §8): anonymise ended grievances after the retention period.

Everything that can identify the worker leaves the record: name, phone, location and
attachments go; the worker id becomes a keyed pseudonym (HMAC with the configured secret),
also where it appears as the actor of notes, replies and feedback in the timeline; phone,
ID numbers and e-mail addresses are masked in every text (description, resolution, comment,
notes, reasons).  The KPI fields stay, so statistics do not change.  Anonymised grievances
move from the ended index to the archived one, so each is visited once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from shared.logging import get_logger
from shared.privacy import mask, pseudonym
from shared.readside import derived_writes
from shared.redis.client import as_text
from shared.streams import Keys

log = get_logger(__name__)

# Hash fields holding free text the worker or an assignee wrote.
_TEXT_FIELDS = ("resolution", "comment")
_MIN_ID_IN_TEXT = 4


def _scrub(value: Any, worker_id: str, alias: str) -> Any:
    """Return ``value`` with the worker id replaced and personal data masked in every text."""
    if isinstance(value, str):
        if value == worker_id:
            return alias
        # Inside longer texts (a refusal's reason) only ids long enough not to hit by chance.
        if len(worker_id) >= _MIN_ID_IN_TEXT:
            value = value.replace(worker_id, alias)
        return mask(value)
    if isinstance(value, dict):
        return {k: _scrub(v, worker_id, alias) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, worker_id, alias) for v in value]
    return value


def anonymise_doc(doc: dict[str, Any], secret: str) -> dict[str, Any]:
    """Return the grievance document without personal data (pure)."""
    worker = dict(doc.get("worker") or {})
    worker_id = str(worker.get("id", ""))
    alias = pseudonym(secret, worker_id)
    worker.pop("name", None)
    worker.pop("phone", None)
    worker.pop("station", None)
    cleaned = {k: v for k, v in doc.items() if k not in {"worker", "location", "attachments"}}
    return {**_scrub(cleaned, worker_id, alias), "worker": {**worker, "id": alias}}


def anonymise_timeline(entries: Sequence[bytes | str], worker_id: str, secret: str) -> list[str]:
    """Return the timeline entries with the worker's id keyed and every text masked (pure)."""
    alias = pseudonym(secret, worker_id)
    return [
        json.dumps(_scrub(json.loads(entry), worker_id, alias), ensure_ascii=False)
        for entry in entries
    ]


async def anonymise_expired(
    client: Redis, keys: Keys, retention_s: int, *, secret: str, batch: int = 200
) -> int:
    """Anonymise up to ``batch`` grievances that ended more than ``retention_s`` ago."""
    seconds, micros = await client.time()
    cutoff = int(seconds) * 1000 + int(micros) // 1000 - retention_s * 1000
    ids = await client.zrangebyscore(keys.ended_index, "-inf", cutoff, start=0, num=batch)
    done = 0
    for raw_id in ids:
        gid = as_text(raw_id)
        if await _anonymise_one(client, keys, gid, cutoff, secret):
            done += 1
            log.info("grievance_anonymised", grievance_id=gid)
    return done


async def _anonymise_one(client: Redis, keys: Keys, gid: str, cutoff: int, secret: str) -> bool:
    """Rewrite one grievance in a watched transaction; ``False`` if it changed meanwhile."""
    watched = (keys.grievance(gid), keys.document(gid), keys.timeline(gid))
    async with client.pipeline(transaction=True) as pipe:
        try:
            await pipe.watch(*watched)
            doc_raw = await pipe.get(keys.document(gid))
            raw_fields = await pipe.hgetall(keys.grievance(gid))
            before = {as_text(k): as_text(v) for k, v in raw_fields.items()}
            worker_id = before.get("worker_id", "")
            texts = [before.get(name) for name in _TEXT_FIELDS]
            timeline = await pipe.lrange(keys.timeline(gid), 0, -1)
            doc = json.loads(doc_raw) if doc_raw else {}
            worker_id = str((doc.get("worker") or {}).get("id") or worker_id)
            alias = pseudonym(secret, worker_id)
            pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
            if doc:
                pipe.set(
                    keys.document(gid), json.dumps(anonymise_doc(doc, secret), ensure_ascii=False)
                )
            fields: dict[str, str] = {"worker_id": alias, "anonymised": "1"}
            for name, value in zip(_TEXT_FIELDS, texts, strict=True):
                if value:
                    fields[name] = _scrub(value, worker_id, alias)
            pipe.hset(keys.grievance(gid), items=[x for pair in fields.items() for x in pair])
            pipe.hincrby(keys.grievance(gid), "v", 1)  # a router commit read before retries
            # The same read-side writes every other writer commits with its change: the
            # worker index moves to the pseudonym, so no index keeps the real worker id.
            for command, key, args in derived_writes(keys, gid, before, {**before, **fields}):
                pipe.execute_command(command, key, *args)
            if timeline:
                pipe.delete(keys.timeline(gid))
                pipe.rpush(keys.timeline(gid), *anonymise_timeline(timeline, worker_id, secret))
            pipe.zrem(keys.ended_index, gid)
            pipe.zadd(keys.archived_index, {gid: cutoff})
            await pipe.execute()
        except WatchError:
            return False  # an entry was appended meanwhile: the next pass redoes it
    return True
