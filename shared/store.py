"""Reading and first writing of grievances: the accept step and the read model.

The record's fields are defined in ``shared/record.py``; intake writes the first record
atomically with the ``zt:submitted`` entry (``accept.lua``) and reads records for its GET
API; the router makes every change after that (``services/router/engine.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from redis.asyncio import Redis

from shared.events import Grievance
from shared.readside import derived_writes
from shared.record import (
    JSON_FIELDS,
    SLA_FIELDS,
    TIERS,
    TIME_FIELDS,
    initial_fields,
    is_public_report,
)
from shared.redis.client import as_text
from shared.redis.scripts import Scripts
from shared.streams import Keys

IDEMPOTENCY_TTL_S = 7 * 86400


def body_hash(body: dict[str, Any]) -> str:
    """Return a stable hash of a submission body, ignoring its idempotency key."""
    canonical = {k: v for k, v in body.items() if k != "idempotency_key"}
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AcceptResult:
    outcome: Literal["accepted", "duplicate", "conflict", "retry"]
    grievance_id: str


def _accept_call(
    keys: Keys, grievance: Grievance, idempotency_key: str | None, digest: str
) -> tuple[list[str], list[Any]]:
    """Return the KEYS and ARGV of one ``accept.lua`` call."""
    gkey = keys.grievance(grievance.id)
    idem = keys.idempotency(grievance.source, idempotency_key) if idempotency_key else gkey
    submitted_ms = int(grievance.submitted_at.timestamp() * 1000)
    public = is_public_report(grievance.channel.value, grievance.anonymous)
    fields = initial_fields(grievance)
    writes = derived_writes(keys, grievance.id, {}, fields)
    if public:  # listed from the moment it exists (never lost between accept and listing)
        for listing in (keys.open311_requests(), keys.open311_requests(grievance.category.value)):
            writes.append(("ZADD", listing, [str(submitted_ms), grievance.id]))
    script_keys = [
        idem,
        gkey,
        keys.submitted,
        keys.tracking(grievance.tracking_no),
        keys.open_index,
        keys.document(grievance.id),
    ]
    ops: list[list[Any]] = []
    for command, key, args in writes:
        if key not in script_keys:
            script_keys.append(key)
        ops.append([command, script_keys.index(key) + 1, *args])
    return (
        script_keys,
        [
            digest if idempotency_key else "",
            grievance.id,
            grievance.tracking_no,
            grievance.model_dump_json(exclude_none=True),
            submitted_ms,
            IDEMPOTENCY_TTL_S,
            json.dumps(fields, ensure_ascii=False),
            json.dumps(ops, ensure_ascii=False, separators=(",", ":")),
        ],
    )


def _accept_result(reply: Any) -> AcceptResult:
    outcome, gid = reply
    return AcceptResult(outcome.decode(), gid.decode())


async def accept(
    client: Redis,
    scripts: Scripts,
    keys: Keys,
    grievance: Grievance,
    *,
    idempotency_key: str | None,
    digest: str,
) -> AcceptResult:
    """Store ``grievance`` and publish it to ``zt:submitted`` once per idempotency key.

    ``retry`` means the random tracking number was taken: draw a new one and call again.
    """
    script_keys, args = _accept_call(keys, grievance, idempotency_key, digest)
    return _accept_result(await scripts.call("accept", script_keys, args))


@dataclass(frozen=True, slots=True)
class AcceptRequest:
    """One grievance to accept, with its idempotency key and body hash."""

    grievance: Grievance
    idempotency_key: str | None
    digest: str


async def accept_many(
    client: Redis, scripts: Scripts, keys: Keys, requests: Sequence[AcceptRequest]
) -> list[AcceptResult | Exception]:
    """Run ``accept`` for every request in one pipelined round trip, in order.

    Each request's script runs atomically on its own, exactly as ``accept`` would; a reply
    that is an error comes back in its place (the others stand).  A lost connection raises
    for the whole batch.
    """
    if not requests:
        return []
    script = scripts["accept"]
    async with client.pipeline(transaction=False) as pipe:
        for request in requests:
            script_keys, args = _accept_call(
                keys, request.grievance, request.idempotency_key, request.digest
            )
            await script(keys=script_keys, args=args, client=pipe)
        replies = await pipe.execute(raise_on_error=False)
    return [r if isinstance(r, Exception) else _accept_result(r) for r in replies]


def _ms_to_iso(value: str) -> str | None:
    if not value:
        return None
    try:
        moment = datetime.fromtimestamp(int(value) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        # A time no calendar can show (stored before bounds were checked) must not make
        # the grievance unreadable: the read model shows it as unknown.
        return None
    return moment.isoformat().replace("+00:00", "Z")


def decode_record(raw: dict[bytes, bytes]) -> dict[str, Any]:
    """Return a grievance hash as a JSON-friendly dict (times as ISO 8601).

    The flat chain fields (``c<tier>u/n/k``) come back as ``chain`` and the SLA fields as
    ``sla``, the shapes readers (API, notifier) work with.
    """
    fields = {k.decode(): v.decode() for k, v in raw.items()}
    record: dict[str, Any] = {}
    chain = [
        {
            "tier": t,
            "unit": fields.pop(f"c{t}u"),
            "name": fields.pop(f"c{t}n", ""),
            "kind": fields.pop(f"c{t}k", ""),
        }
        for t in TIERS
        if f"c{t}u" in fields
    ]
    sla = {f: float(fields.pop(f)) for f in SLA_FIELDS if f in fields}
    if chain:
        record["chain"] = chain
    if sla:
        record["sla"] = sla
    for key, value in fields.items():
        if key in TIME_FIELDS:
            record[key] = _ms_to_iso(value)
        elif key in JSON_FIELDS:
            record[key] = json.loads(value) if value else None
        else:
            record[key] = value
    return record


def _expand_timeline(
    grievance_id: str, tracking_no: str, items: list[bytes]
) -> list[dict[str, Any]]:
    """Return timeline entries with the fields the scripts leave out (they are derivable)."""
    events = []
    for item in items:
        event = json.loads(item)
        events.append(
            {
                "event_id": f"{grievance_id}.{event['seq']}",
                "grievance_id": grievance_id,
                "tracking_no": tracking_no,
                **event,
            }
        )
    return events


async def load(
    client: Redis, keys: Keys, grievance_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """Return a grievance record and its timeline, or ``None`` when unknown."""
    async with client.pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.grievance(grievance_id))
        pipe.get(keys.document(grievance_id))
        pipe.lrange(keys.timeline(grievance_id), 0, -1)
        raw, doc, timeline = await pipe.execute()
    if not raw:
        return None
    record = decode_record(raw)
    record["doc"] = json.loads(doc) if doc else None
    tracking = str(record.get("tracking_no", ""))
    return record, _expand_timeline(grievance_id, tracking, timeline)


async def load_docs(
    client: Redis, keys: Keys, grievance_ids: Sequence[str]
) -> dict[str, dict[str, Any] | None]:
    """Return the submitted document of each grievance (``None`` when unknown), one MGET.

    Readers that need only what was submitted (the notifier) skip the hash and timeline.
    """
    unique = list(dict.fromkeys(grievance_ids))
    if not unique:
        return {}
    docs = await client.mget([keys.document(g) for g in unique])
    return {g: json.loads(d) if d else None for g, d in zip(unique, docs, strict=True)}


async def resolve_id(client: Redis, keys: Keys, id_or_tracking_no: str) -> str:
    """Return the grievance id for an id or a tracking number."""
    found = await client.get(keys.tracking(id_or_tracking_no))
    return as_text(found) if found else id_or_tracking_no
