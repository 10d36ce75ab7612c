"""A Jepsen-style checker for SPEC §8: nothing lost, nothing unexpected, nothing doubled.

The input is a **history**: what the system acknowledged to its clients (grievance ids from
202 replies, entry ids XADDed to ``zt:intake``, action ids answered with 202) and what was
read back once everything drained (``zt:events``, ``zt:deliveries``, ``zt:intake.rejected``,
the grievance hashes and their applied-action sets).  The output counts three kinds of
anomaly; a run passes when all three are zero:

* **lost** — acknowledged but without its effect: no grievance record, no
  ``grievance.assigned`` event, a stream entry neither accepted nor rejected, an accepted
  action the router never applied or refused, an event the hash counted but the stream
  lacks, an assigned event nobody was told about, a delivery that never ended;
* **unexpected** — effects nobody asked for: records or events of grievances no client
  submitted, deliveries of events the router never published;
* **duplicated** — one cause, two effects: a grievance assigned twice, an event id seen
  twice, a seq gap or repeat, one (event, recipient, channel) sent twice, one submission
  (stream entry or idempotency key) yielding two grievances, one action applied twice.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from shared.streams import Keys

ASSIGNED = "grievance.assigned"
REFUSED = "action.refused"
ENDED = frozenset({"sent", "failed"})


@dataclass
class Acknowledged:
    """Return what clients were told was accepted (the "ok" operations of the history)."""

    grievances: set[str] = field(default_factory=set)
    stream_entries: set[str] = field(default_factory=set)
    actions: dict[str, str] = field(default_factory=dict)
    # Stream submissions carrying their own idempotency key (source, key): each must yield
    # exactly one grievance however often the XADD was retried.
    keyed_entries: set[tuple[str, str]] = field(default_factory=set)
    # Submissions whose reply never came (connection cut): their grievance may exist.
    indeterminate_keys: set[tuple[str, str]] = field(default_factory=set)

    def merge(self, other: Acknowledged) -> None:
        """Add another load's acknowledgements to these."""
        self.grievances |= other.grievances
        self.stream_entries |= other.stream_entries
        self.actions.update(other.actions)
        self.keyed_entries |= other.keyed_entries
        self.indeterminate_keys |= other.indeterminate_keys

    @property
    def submissions(self) -> int:
        """Return how many submissions were acknowledged, over every path."""
        return len(self.grievances) + len(self.stream_entries) + len(self.keyed_entries)


@dataclass
class Observed:
    """Return everything read back from Redis after the system drained."""

    events: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    rejected: dict[str, list[str]] = field(default_factory=dict)
    records: dict[str, dict[str, str]] = field(default_factory=dict)
    applied_actions: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Verdict:
    """Return the anomalies found, each with a one-line explanation."""

    lost: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.unexpected or self.duplicated)

    def counts(self) -> dict[str, int]:
        return {
            "lost": len(self.lost),
            "unexpected": len(self.unexpected),
            "duplicated": len(self.duplicated),
        }

    def summary(self, limit: int = 10) -> str:
        """Return the counts and the first few anomalies of each kind."""
        lines = [str(self.counts())]
        for kind in ("lost", "unexpected", "duplicated"):
            lines += [f"  {kind}: {item}" for item in getattr(self, kind)[:limit]]
        return "\n".join(lines)


def _doc(record: dict[str, str]) -> dict[str, Any]:
    try:
        doc = json.loads(record.get("doc") or "{}")
    except json.JSONDecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}


def check(acked: Acknowledged, seen: Observed) -> Verdict:
    """Return the verdict on one history."""
    verdict = Verdict()
    known = _check_submissions(acked, seen, verdict)
    _check_events(seen, known, verdict)
    _check_actions(acked, seen, verdict)
    _check_deliveries(seen, verdict)
    return verdict


def _check_submissions(acked: Acknowledged, seen: Observed, verdict: Verdict) -> set[str]:
    """Check grievance records against submissions; return every legitimately known id."""
    by_key = _records_by_key(seen, verdict)
    known = set(acked.grievances)
    for gid in sorted(acked.grievances - seen.records.keys()):
        verdict.lost.append(f"grievance {gid} got a 202 but has no record")
    for entry_id in sorted(acked.stream_entries):
        gids = by_key.get(("stream", f"stream:{entry_id}"), [])
        known.update(gids)
        if len(gids) > 1:
            verdict.duplicated.append(f"stream entry {entry_id} yielded grievances {gids}")
        if not gids and entry_id not in seen.rejected:
            verdict.lost.append(f"stream entry {entry_id} was neither accepted nor rejected")
        if gids and entry_id in seen.rejected:
            verdict.duplicated.append(f"stream entry {entry_id} was accepted and rejected")
    for key in sorted(acked.keyed_entries):
        gids = by_key.get(key, [])
        known.update(gids)
        if not gids:
            verdict.lost.append(f"stream submission with key {key[1]!r} has no grievance")
    for key in acked.indeterminate_keys:
        known.update(by_key.get(key, []))
    for gid in sorted(seen.records.keys() - known):
        verdict.unexpected.append(f"grievance {gid} has a record but nobody submitted it")
    return known


def _records_by_key(seen: Observed, verdict: Verdict) -> dict[tuple[str, str], list[str]]:
    """Return grievance ids per (source, idempotency key); stream defaults under "stream".

    Intake keys a stream entry without its own key as ``stream:<entry id>``, whatever
    source the payload names, so those are indexed by entry alone.
    """
    by_key: dict[tuple[str, str], list[str]] = defaultdict(list)
    for gid, record in seen.records.items():
        key = _doc(record).get("idempotency_key")
        if key:
            by_key[(record.get("source", ""), key)].append(gid)
    for (_source, key), gids in list(by_key.items()):
        if len(gids) > 1:
            verdict.duplicated.append(f"idempotency key {key!r} yielded grievances {gids}")
        if key.startswith("stream:"):
            by_key[("stream", key)].extend(gids)
    return by_key


def _check_events(seen: Observed, known: set[str], verdict: Verdict) -> None:
    ids = Counter(e.get("event_id") for e in seen.events)
    for event_id, n in sorted(ids.items(), key=lambda kv: str(kv[0])):
        if n > 1:
            verdict.duplicated.append(f"event id {event_id} published {n} times")
    by_grievance: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in seen.events:
        by_grievance[str(event.get("grievance_id"))].append(event)
    for gid in sorted(by_grievance.keys() - known):
        verdict.unexpected.append(f"{len(by_grievance[gid])} event(s) for unknown grievance {gid}")
    for gid in sorted(known & seen.records.keys()):
        events = by_grievance.get(gid, [])
        assigned = sum(1 for e in events if e.get("type") == ASSIGNED)
        if assigned == 0:
            verdict.lost.append(f"grievance {gid} has no {ASSIGNED} event")
        elif assigned > 1:
            verdict.duplicated.append(f"grievance {gid} assigned {assigned} times")
        seqs = [int(e.get("seq", 0)) for e in events]
        if seqs != list(range(1, len(seqs) + 1)):
            verdict.duplicated.append(f"grievance {gid} seqs are {seqs[:20]}, not 1..n in order")
        recorded = int(seen.records[gid].get("seq") or 0)
        if recorded > len(events):
            verdict.lost.append(
                f"grievance {gid} counts {recorded} events but the stream holds {len(events)}"
            )
    refused = Counter(
        (e.get("grievance_id"), (e.get("data") or {}).get("action_id"))
        for e in seen.events
        if e.get("type") == REFUSED
    )
    for (gid, action_id), n in refused.items():
        if n > 1:
            verdict.duplicated.append(f"action {action_id} on {gid} refused {n} times")


def _check_actions(acked: Acknowledged, seen: Observed, verdict: Verdict) -> None:
    for action_id, gid in sorted(acked.actions.items()):
        if action_id not in seen.applied_actions.get(gid, set()):
            verdict.lost.append(f"action {action_id} on {gid} got a 202 but was never handled")


def _check_deliveries(seen: Observed, verdict: Verdict) -> None:
    published = {e.get("event_id") for e in seen.events}
    outcomes: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for record in seen.deliveries:
        key = tuple(str(record.get(f)) for f in ("event_id", "recipient", "channel"))
        outcomes[key].append(str(record.get("status")))
    told: set[str] = set()
    for (event_id, recipient, channel), statuses in sorted(outcomes.items()):
        base_event = event_id.split("/failed/")[0]
        if base_event not in published:
            verdict.unexpected.append(f"delivery of unpublished event {event_id} to {recipient}")
        ended = [s for s in statuses if s in ENDED]
        if len(ended) > 1:
            verdict.duplicated.append(
                f"({event_id}, {recipient}, {channel}) ended {len(ended)} times: {statuses}"
            )
        if not ended:
            verdict.lost.append(f"({event_id}, {recipient}, {channel}) never ended: {statuses}")
        if "sent" in statuses:
            told.add(event_id)
    for event in seen.events:
        if event.get("type") == ASSIGNED and event.get("event_id") not in told:
            verdict.lost.append(f"assigned event {event.get('event_id')} was delivered to nobody")


async def _stream(client: Redis, stream: str) -> list[tuple[str, dict[str, Any]]]:
    entries = []
    last = "-"
    while True:
        batch = await client.xrange(stream, min=last, max="+", count=5000)
        if last != "-":
            batch = batch[1:]
        if not batch:
            return entries
        for entry_id, fields in batch:
            entries.append((entry_id.decode(), json.loads(fields[b"payload"])))
        last = batch[-1][0].decode()


async def observe(client: Redis, keys: Keys | None = None) -> Observed:
    """Return everything the checker needs, read from a drained system."""
    keys = keys or Keys()
    seen = Observed()
    seen.events = [body for _, body in await _stream(client, keys.events)]
    seen.deliveries = [body for _, body in await _stream(client, keys.deliveries)]
    seen.rejected = {
        body["entry_id"]: list(body.get("reasons") or [])
        for _, body in await _stream(client, keys.intake_rejected)
    }
    prefix = keys.grievance("")[: -len("{}")]
    gids = [
        key.decode()[len(prefix) + 1 : -1]
        async for key in client.scan_iter(match=f"{prefix}*", count=1000)
    ]
    async with client.pipeline(transaction=False) as pipe:
        for gid in gids:
            pipe.hgetall(keys.grievance(gid))
            pipe.smembers(keys.applied_actions(gid))
            pipe.get(keys.document(gid))
        replies = await pipe.execute(raise_on_error=False)
    for i, gid in enumerate(gids):
        raw, acts, doc = replies[3 * i : 3 * i + 3]
        if isinstance(raw, Exception):  # not a hash (a test's deliberate poison): no record
            continue
        seen.records[gid] = {k.decode(): v.decode() for k, v in raw.items()}
        if isinstance(doc, bytes):  # the document lives beside the hash
            seen.records[gid]["doc"] = doc.decode()
        seen.applied_actions[gid] = {a.decode() for a in acts}
    return seen
