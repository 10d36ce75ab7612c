"""``zhitong classify export``: corrections people made become labelled training lines.

Every ``grievance.reclassified`` event names the category and urgency a unit corrected a
grievance to; the grievance's own words (title and description, phone and ID numbers
masked) become one line ``urgency | text`` of the corpus file of that category
(``corpus/classify/<category>.tsv``), the format ``make train`` reads.  The latest
correction of a grievance wins; a line already in the corpus is not written twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from shared import store
from shared.events import EventType
from shared.privacy import mask
from shared.redis.client import as_text
from shared.streams import Keys

CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class Correction:
    """One corrected grievance as a training example."""

    category: str
    urgency: str
    text: str

    def line(self) -> str:
        """Return the corpus line (``urgency | text``)."""
        return f"{self.urgency} | {self.text}"


async def corrections(client: Redis, keys: Keys) -> list[Correction]:
    """Return the latest correction of every reclassified grievance, oldest first."""
    latest: dict[str, tuple[str, str]] = {}
    last = "-"
    while True:
        page = await client.xrange(keys.events, min=last, count=CHUNK) or []
        chunk = page[1:] if last != "-" else page
        if not chunk:
            break
        for _entry_id, fields in chunk:
            event = json.loads(as_text((fields or {}).get(b"payload", b"{}")))
            if event.get("type") == EventType.RECLASSIFIED.value:
                data = event.get("data") or {}
                latest.pop(event["grievance_id"], None)  # keep the order of the latest
                latest[event["grievance_id"]] = (data["category"], data["urgency"])
        last = as_text(chunk[-1][0])
    docs = await store.load_docs(client, keys, list(latest))
    found = []
    for gid, (category, urgency) in latest.items():
        text = _words(docs.get(gid))
        if text:
            found.append(Correction(category, urgency, text))
    return found


def _words(doc: Mapping[str, object] | None) -> str:
    if not doc:
        return ""
    parts = [str(doc.get(k) or "") for k in ("title", "description")]
    text = " ".join(" ".join(p.split()) for p in parts if p)
    return mask(text)


def write(found: list[Correction], corpus: Path) -> int:
    """Append each correction to its category's corpus file unless there; return how many."""
    written = 0
    for correction in found:
        path = corpus / f"{correction.category}.tsv"
        existing = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        if correction.line() in existing:
            continue
        with path.open("a", encoding="utf-8") as out:
            out.write(correction.line() + "\n")
        written += 1
    return written
