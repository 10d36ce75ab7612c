"""The grievance record in Redis: its fields, the first record, and changes to commit.

A grievance is one hash (``Keys.grievance``) of short text fields, kept small so Redis
holds it in its compact encoding:

* identity: ``tracking_no``, ``worker_id``, ``source``, ``category``, ``urgency``,
  ``anonymous``, ``submitted_at``;
* the chain, per tier 1–3: ``c<tier>u`` / ``c<tier>n`` / ``c<tier>k`` (unit id, name, kind);
* the SLA snapshot frozen at routing: ``a<tier>`` / ``r<tier>`` (ack / resolve seconds),
  ``warn``, ``fb``, ``od``, ``mext``, ``mreo`` and ``cal`` (the working-time calendar);
* where it stands: ``state``, ``tier``, ``assignee`` (+ ``_name``, ``_kind``), the
  deadlines ``ack_due`` / ``resolve_due`` / ``fb_due`` (epoch ms), ``overdue``, the pending
  timer kinds ``timers`` with their generation ``gen``, the event counter ``seq`` and the
  version ``v`` every commit bumps (the compare-and-set guard);
* what happened: timestamps, counts and the KPI fields (``first_acked_at``, ``ack_in_sla``,
  ``resolved_unit``, …);
* civic duplicates: ``duplicate_of`` / ``original_tracking_no`` while linked to an original
  (kept once closed with it), ``promoted_from`` once promoted after the original's withdrawal;
* review: ``needs_review`` (1 when the classifier was unsure).

``Record`` is a working copy: the lifecycle reads it, ``put``s changes, buffers timers and
events, and ``Commit`` turns all of that into one ``commit_many.lua`` call that applies it only
if nobody committed to the grievance in between.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import msgspec

from shared.events import Grievance
from shared.readside import derived_writes
from shared.redis.client import as_text
from shared.streams import PAYLOAD_FIELD, Keys

# commit_many.lua's ARGV: MessagePack (cmsgpack in Redis), smaller and faster than JSON.
_MSGPACK = msgspec.msgpack.Encoder()

TIERS = (1, 2, 3)
TOP_TIER = 3
# Fields holding epoch milliseconds (the read model shows them as ISO 8601).
TIME_FIELDS = (
    "submitted_at",
    "assigned_at",
    "acked_at",
    "first_acked_at",
    "resolved_at",
    "closed_at",
    "ack_due",
    "resolve_due",
    "fb_due",
    "paused_at",
)
JSON_FIELDS = ("departments", "cal")
SLA_FIELDS = ("a1", "r1", "a2", "r2", "a3", "r3", "warn", "fb", "od", "mext", "mreo")
# Bookkeeping the read model leaves out.
INTERNAL_FIELDS = ("v", "gen", "seq", "timers")


def initial_fields(grievance: Grievance) -> dict[str, str]:
    """Return the first record of an accepted grievance (the one definition of it)."""
    return {
        "state": "submitted",
        "tracking_no": grievance.tracking_no,
        "submitted_at": str(int(grievance.submitted_at.timestamp() * 1000)),
        "worker_id": grievance.worker.id,
        "source": grievance.source,
        "category": grievance.category.value,
        "urgency": grievance.urgency.value,
        "anonymous": str(int(grievance.anonymous)),
        # In the hash (not only the document) so the needs-review index follows it.
        "needs_review": str(int(grievance.needs_review)),
        "seq": "0",
        "gen": "0",
    }


def is_public_report(channel: str, anonymous: bool) -> bool:
    """Return whether the key-less Open311 surface may show a grievance (SPEC §3)."""
    return channel == "open311" and not anonymous


@lru_cache(maxsize=4096)  # a batch's events share their instants (one clock per batch)
def iso(ms: int | str | None) -> str | None:
    """Return epoch milliseconds as ISO 8601 UTC with milliseconds (``None`` when unset)."""
    if ms is None or ms == "":
        return None
    moment = datetime.fromtimestamp(int(ms) / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ms) % 1000:03d}Z"


def timer_member(grievance_id: str, kind: str, gen: int) -> str:
    """Return a timer's member in ``Keys.timers``: ``id|kind|generation``."""
    return f"{grievance_id}|{kind}|{gen}"


def parse_timer(member: str) -> tuple[str, str, int] | None:
    """Return (grievance id, kind, generation) of a timer member, or ``None`` if malformed."""
    gid, sep, rest = member.partition("|")
    kind, sep2, gen = rest.partition("|")
    if not (sep and sep2 and gid and kind and gen.isdigit()):
        return None
    return gid, kind, int(gen)


@dataclass(frozen=True, slots=True)
class Link:
    """One tier of a grievance's chain: the unit, its display name and kind."""

    unit: str
    name: str = ""
    kind: str = ""


@dataclass
class Record:
    """A working copy of one grievance hash, with the changes made to it so far."""

    id: str
    fields: dict[str, str]
    version: int = 0
    # The fields as read (empty for a record not stored yet): the read side derives its
    # index and KPI-counter writes from the difference (``shared/readside.py``).
    base: dict[str, str] = field(default_factory=dict)
    changed: dict[str, str] = field(default_factory=dict)
    timers_added: list[tuple[str, int]] = field(default_factory=list)
    timers_removed: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    # Writes beside the hash that belong to the same commit: [command, key ref, args…] where
    # the key ref is ("open",), ("ended",) or ("dups", grievance id) (see ``Commit.add``).
    extra: list[list[Any]] = field(default_factory=list)

    @classmethod
    def from_hash(cls, grievance_id: str, raw: Mapping[Any, Any]) -> Record:
        """Return the record of an HGETALL reply (bytes or text)."""
        # Inline bytes decoding: a batch of due timers decodes ~40 fields per grievance.
        fields = {
            (k.decode() if type(k) is bytes else as_text(k)): (
                v.decode() if type(v) is bytes else as_text(v)
            )
            for k, v in raw.items()
        }
        return cls(grievance_id, fields, int(fields.get("v") or 0), dict(fields))

    def get(self, name: str) -> str:
        """Return a field as text ('' when unset)."""
        return self.fields.get(name, "")

    def num(self, name: str, default: float = 0) -> float:
        """Return a numeric field (``default`` when unset)."""
        value = self.fields.get(name, "")
        return float(value) if value != "" else default

    def ms(self, name: str) -> int | None:
        """Return an epoch-ms field, or ``None`` when unset."""
        value = self.fields.get(name, "")
        return int(value) if value != "" else None

    def put(self, name: str, value: object) -> None:
        """Set a field (numbers and text alike are stored as text)."""
        text = (
            value
            if isinstance(value, str)
            else str(int(value) if isinstance(value, bool) else value)
        )
        self.fields[name] = text
        self.changed[name] = text

    # --- where it stands ---
    @property
    def state(self) -> str:
        return self.get("state")

    @property
    def tier(self) -> int:
        return int(self.num("tier"))

    @property
    def gen(self) -> int:
        return int(self.num("gen"))

    @property
    def seq(self) -> int:
        return int(self.num("seq"))

    @property
    def kinds(self) -> list[str]:
        """Return the kinds of the timers pending, in the order they were set."""
        return self.get("timers").split()

    def link(self, tier: int) -> Link:
        """Return the chain's unit at ``tier``."""
        return Link(self.get(f"c{tier}u"), self.get(f"c{tier}n"), self.get(f"c{tier}k"))

    def set_link(self, tier: int, link: Link) -> None:
        """Set the chain's unit at ``tier``."""
        self.put(f"c{tier}u", link.unit)
        self.put(f"c{tier}n", link.name)
        self.put(f"c{tier}k", link.kind)

    def calendar(self) -> dict[str, Any] | None:
        """Return the working-time calendar of the SLA snapshot (``None`` = 24×7)."""
        raw = self.get("cal")
        return json.loads(raw) if raw else None

    # --- timers ---
    def timer_pending(self, kind: str) -> bool:
        """Return whether a timer of ``kind`` is pending."""
        return kind in self.kinds

    def timer_add(self, kind: str, due_ms: int) -> None:
        """Schedule a timer of ``kind`` at ``due_ms`` in the current generation."""
        self.timers_added.append((timer_member(self.id, kind, self.gen), due_ms))
        self.put("timers", " ".join([*self.kinds, kind]))

    def timer_forget(self, kind: str) -> bool:
        """Forget a pending timer (it fired, or is dropped); return whether it was there."""
        kinds = self.kinds
        if kind not in kinds:
            return False
        kinds.remove(kind)
        self.put("timers", " ".join(kinds))
        return True

    def timer_drop(self, kind: str) -> None:
        """Cancel one pending timer; the others and the generation stay."""
        if self.timer_forget(kind):
            member = timer_member(self.id, kind, self.gen)
            self._unschedule(member)

    def timers_clear(self) -> None:
        """Cancel every pending timer and start a new generation (old timers are stale)."""
        for kind in self.kinds:
            self._unschedule(timer_member(self.id, kind, self.gen))
        self.put("timers", "")
        self.put("gen", self.gen + 1)

    def _unschedule(self, member: str) -> None:
        # A timer set earlier in this same change is only buffered: drop it from the buffer.
        buffered = [t for t in self.timers_added if t[0] == member]
        if buffered:
            self.timers_added = [t for t in self.timers_added if t[0] != member]
        else:
            self.timers_removed.append(member)

    # --- events ---
    def emit(self, etype: str, now_ms: int, **event: Any) -> str:
        """Record an event (next ``seq``); return its id ``<grievance id>.<seq>``."""
        seq = self.seq + 1
        self.put("seq", seq)
        body: dict[str, Any] = {"seq": seq, "type": etype, "at": iso(now_ms), "state": self.state}
        if self.tier > 0:
            body["tier"] = self.tier
        if self.get("assignee"):
            body["assignee"] = self.get("assignee")
        for name, key in (
            ("ack_due_at", "ack_due"),
            ("resolve_due_at", "resolve_due"),
            ("feedback_closes_at", "fb_due"),
        ):
            if self.get(key):
                body[name] = iso(self.get(key))
        for name, value in event.items():
            if value is not None and name != "data":
                body[name] = value
        data = {k: v for k, v in (event.get("data") or {}).items() if v is not None}
        if self.get("assignee_name"):
            data["assignee_name"] = self.get("assignee_name")
        body["data"] = data
        self.events.append(body)
        return f"{self.id}.{seq}"


@dataclass
class Commit:
    """One atomic change over one or more grievances: checks first, then every write.

    ``commit_many.lua`` applies it only if each grievance's version is still the one read (and
    the action id is new, and each claimed timer is still due): nothing is half applied.
    """

    keys: Keys
    key_list: list[str] = field(default_factory=list)
    checks: list[list[Any]] = field(default_factory=list)
    ops: list[list[Any]] = field(default_factory=list)
    # The records whose changes it carries (told to the router's metrics once applied).
    records: list[Record] = field(default_factory=list)
    # The KPI counter deltas (key, field, delta): applied last, after ``ops``; a batch of
    # commits sums them (``commit_many.lua``).
    counters: list[tuple[str, str, str]] = field(default_factory=list)

    def key(self, name: str) -> int:
        """Return the 1-based KEYS index of ``name`` (added once)."""
        if name not in self.key_list:
            self.key_list.append(name)
        return self.key_list.index(name) + 1

    def expect(self, record: Record, *, new: bool = False) -> None:
        """Apply only if ``record`` is unchanged since read (``new``: it must not exist)."""
        self.checks.append(
            ["v", self.key(self.keys.grievance(record.id)), -1 if new else record.version]
        )

    def dedupe(self, record: Record, action_id: str) -> None:
        """Apply only once per action id (a redelivered action changes nothing)."""
        self.checks.append(
            ["new_member", self.key(self.keys.applied_actions(record.id)), action_id]
        )

    def claim(self, members: Iterable[str]) -> None:
        """Apply only if every timer member is still scheduled (one replica takes each)."""
        for member in members:
            self.checks.append(["claim", self.key(self.keys.timers), member])

    def op(self, command: str, key: str, *args: Any) -> None:
        """Append one write (a whitelisted Redis command on ``key``)."""
        # Text only: a Lua number would reach Redis in floating-point notation.
        self.ops.append([command, self.key(key), *(a if type(a) is str else str(a) for a in args)])

    def add(self, record: Record) -> None:
        """Append every change of ``record``: hash, timers, events, timeline, extras."""
        self.records.append(record)
        keys = self.keys
        gkey = keys.grievance(record.id)
        if record.changed:
            flat = [x for pair in record.changed.items() for x in pair]
            self.op("HSET", gkey, *flat)
            for command, key, args in derived_writes(keys, record.id, record.base, record.fields):
                if command == "HINCRBY":
                    self.counters.append((key, args[0], args[1]))
                else:
                    self.op(command, key, *args)
        self.op("HINCRBY", gkey, "v", 1)
        if record.timers_removed:
            self.op("ZREM", keys.timers, *record.timers_removed)
        if record.timers_added:
            self.op("ZADD", keys.timers, *[x for m, due in record.timers_added for x in (due, m)])
        tracking = record.get("tracking_no")
        for event in record.events:
            head = {
                "event_id": f"{record.id}.{event['seq']}",
                "grievance_id": record.id,
                "tracking_no": tracking,
            }
            self.op("XADD", keys.events, "*", PAYLOAD_FIELD, _json({**head, **event}))
            # The timeline leaves out what it can derive (shared/store.py adds it back).
            self.op("RPUSH", keys.timeline(record.id), _json(event))
        for command, ref, *args in record.extra:
            self.op(command, self._extra_key(ref), *args)

    def _extra_key(self, ref: tuple[str, ...]) -> str:
        name, *rest = ref
        if name == "open":
            return self.keys.open_index
        if name == "ended":
            return self.keys.ended_index
        if name == "dups":
            return self.keys.duplicates(rest[0])
        raise ValueError(f"unknown key ref {ref!r}")


def batch_call(commits: Sequence[Commit]) -> tuple[list[str], list[bytes]]:
    """Return the KEYS and ARGV of the ``commit_many.lua`` call that applies ``commits``.

    Each commit stays all or nothing on its own; most changes of a batch move the counters
    alike (every ack breach of a unit's tier-1 grievances of one day), so each distinct set
    of deltas is sent once and the changes name it.
    """
    index: dict[str, int] = {}
    sets: dict[tuple[tuple[str, str, str], ...], int] = {}
    changes = []
    for commit in commits:
        key_map = [index.setdefault(k, len(index) + 1) for k in commit.key_list]
        deltas = tuple(commit.counters)
        changes.append([key_map, commit.checks, commit.ops, sets.setdefault(deltas, len(sets) + 1)])
    counters = [
        [[index.setdefault(k, len(index) + 1), name, n] for k, name, n in deltas] for deltas in sets
    ]
    return list(index), [_MSGPACK.encode([changes, counters])]


_encoder = msgspec.json.Encoder()


def _json(value: Any) -> str:
    # The same text as json.dumps(ensure_ascii=False, separators=(",", ":")), ~7x faster.
    return _encoder.encode(value).decode()
