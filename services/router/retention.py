"""Personal data ages out (SPEC §8): anonymise ended grievances after the retention period.

Worker name, phone and id leave the record; phone and ID numbers are masked in the texts;
the KPI fields stay, so statistics do not change.  Anonymised grievances move from the
ended index to the archived one, so each is visited once.
"""

from __future__ import annotations

import hashlib
import json

from redis.asyncio import Redis

from shared.logging import get_logger, redact_text
from shared.redis.client import as_text
from shared.streams import Keys

log = get_logger(__name__)


def anonymise_doc(doc: dict[str, object]) -> dict[str, object]:
    """Return the grievance document without personal data (pure)."""
    worker = dict(doc.get("worker") or {})  # type: ignore[call-overload]
    pseudonym = "anon-" + hashlib.sha256(str(worker.get("id", "")).encode()).hexdigest()[:12]
    worker.pop("name", None)
    worker.pop("phone", None)
    worker["id"] = pseudonym
    cleaned = {**doc, "worker": worker}
    for field in ("title", "description"):
        if isinstance(cleaned.get(field), str):
            cleaned[field] = redact_text(str(cleaned[field]))
    cleaned.pop("location", None)
    cleaned.pop("attachments", None)
    return cleaned


async def anonymise_expired(client: Redis, keys: Keys, retention_s: int, batch: int = 200) -> int:
    """Anonymise up to ``batch`` grievances that ended more than ``retention_s`` ago."""
    seconds, micros = await client.time()
    cutoff = int(seconds) * 1000 + int(micros) // 1000 - retention_s * 1000
    ids = await client.zrangebyscore(keys.closed_index, "-inf", cutoff, start=0, num=batch)
    for raw_id in ids:
        gid = as_text(raw_id)
        doc_raw = await client.get(keys.document(gid))
        doc = anonymise_doc(json.loads(doc_raw)) if doc_raw else {}
        async with client.pipeline(transaction=True) as pipe:
            if doc:
                worker_id = str(doc["worker"]["id"])  # type: ignore[index]
                pipe.set(keys.document(gid), json.dumps(doc, ensure_ascii=False))
                pipe.hset(keys.grievance(gid), mapping={"worker_id": worker_id, "anonymised": "1"})
            pipe.zrem(keys.closed_index, gid)
            pipe.zadd(keys.archived_index, {gid: cutoff})
            await pipe.execute()
        log.info("grievance_anonymised", grievance_id=gid)
    return len(ids)
