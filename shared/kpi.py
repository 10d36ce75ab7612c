"""KPI counters kept at every change of a grievance (SPEC §7): the one definition.

A grievance's **contribution** is a pure function of its hash fields: a few counters, each
named ``<scope>|<counter>``, where a scope is ``all``, a unit ``u:<id>``, a tier ``t:<n>``
or, for the fallback-used signal, a committee ``fb:<id>``:

* ``total``, ``open``, ``overdue`` and ``breaches`` count for whoever holds it now, its
  unit and tier (a grievance not routed yet has neither: it counts overall);
* a response is credited to the unit and tier that first acknowledged (``ack_unit`` /
  ``ack_tier``): ``response_due`` +1, ``responded_in_sla`` +1 when ``ack_in_sla``, and its
  time in an ``ack_le:<s>`` bin.  Never acknowledged, it is due — a miss charged to the
  holder — once a deadline passed, which the record says by a recorded breach (the timer
  that fires at the deadline records it; nothing here reads a clock);
* a resolution, its time (``res_le:<s>``) and the rating of it are credited to the unit and
  tier that resolved (``resolved_unit`` / ``resolved_tier``), even after a reopen; never
  resolved, it is owed by the holder (``resolution_due``) unless it was withdrawn before any
  deadline passed;
* a duplicate linked to an original has no clock of its own: it is in no response or
  resolution count (its original carries that work);
* ``all|state:<state>`` counts grievances by state, and ``fb:<committee>|fallback_used``
  those routed to the fallback unit because no branch (``fb:-``: no committee) matched.

Contributions are kept twice: in the all-time hash and in the hash of the grievance's
submission day (UTC, the day of its tracking number), so a window is a cohort — the KPIs of
the grievances submitted in it.  ``kpi_writes`` turns a change into HINCRBYs of
contribution(after) − contribution(before), committed in the same script as the change
(``shared/readside.py``); ``tally`` sums contributions over stored records, so a
recomputation from scratch yields the same counters.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from shared.events import OPEN_STATES
from shared.streams import Keys

# The record fields a contribution reads (nothing else changes a KPI).
KPI_FIELDS = (
    "state",
    "tier",
    "assignee",
    "submitted_at",
    "first_acked_at",
    "ack_in_sla",
    "ack_tier",
    "ack_unit",
    "resolved_at",
    "resolved_tier",
    "resolved_unit",
    "rating",
    "breaches",
    "overdue",
    "duplicate_of",
    "c2k",
    "c3u",
    "c3k",
)
ALL = "all"
NONE = "-"  # a unit or tier the record does not name (a record older than the field)
SATISFIED_FROM = 4  # ratings of 4 and 5 are satisfied

_MIN, _HOUR, _DAY = 60, 3600, 86400
# Upper bounds (seconds) of the time bins: a time t falls in the first bin with t <= bound,
# beyond the last in ``inf``.  Round durations, so the SLA values (4 h, 1 d, 3 d, 7 d, …)
# are bounds; from 1 minute to 90 days no bound exceeds the one below it by more than 1/3.
TIME_BOUNDS_S: tuple[int, ...] = (
    1, 2, 5, 10, 15, 20, 30, 45,
    *(int(m * _MIN) for m in (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50)),
    *(int(h * _HOUR) for h in (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 12, 15, 18, 21)),
    *(
        int(d * _DAY)
        for d in (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 21, 25, 30, 40, 50,
                  60, 75, 90, 120, 180, 365)
    ),
)  # fmt: skip
OVERFLOW = "inf"
ACK_BIN, RESOLVE_BIN = "ack_le:", "res_le:"


def time_bin(seconds: float) -> str:
    """Return the label of the bin holding a duration: its upper bound in seconds."""
    index = bisect.bisect_left(TIME_BOUNDS_S, seconds)
    return str(TIME_BOUNDS_S[index]) if index < len(TIME_BOUNDS_S) else OVERFLOW


def unit_scope(unit: str) -> str:
    return f"u:{unit}"


def tier_scope(tier: str) -> str:
    return f"t:{tier}"


def fallback_scope(committee: str) -> str:
    return f"fb:{committee}"


def _int(value: str | None) -> int:
    try:
        return int(value) if value else 0
    except ValueError:  # a malformed field must not stop the commit that carries it
        return 0


def _elapsed_s(rec: Mapping[str, str], field: str) -> float:
    return (_int(rec.get(field)) - _int(rec.get("submitted_at"))) / 1000


def fallback_committee(rec: Mapping[str, str]) -> str | None:
    """Return the committee of a grievance routed to the fallback unit (``-``: none matched).

    ``None`` when its chain has no fallback unit, or it is a linked duplicate (not routed).
    """
    if rec.get("duplicate_of") or "fallback" not in (rec.get("c2k"), rec.get("c3k")):
        return None
    if rec.get("c3k") == "committee":
        return rec.get("c3u") or NONE
    return NONE


def contribution(rec: Mapping[str, str]) -> Counter[str]:
    """Return what one grievance adds to the counters: ``<scope>|<counter>`` → count."""
    add: Counter[str] = Counter()
    state = rec.get("state") or NONE
    add[f"{ALL}|state:{state}"] += 1
    unit, tier = rec.get("assignee"), rec.get("tier")
    holder = [ALL, *([unit_scope(unit)] if unit else []), *([tier_scope(tier)] if tier else [])]
    is_open = state in OPEN_STATES
    breaches = _int(rec.get("breaches"))
    for scope in holder:
        add[f"{scope}|total"] += 1
        if is_open:
            add[f"{scope}|open"] += 1
            if rec.get("overdue") == "1":
                add[f"{scope}|overdue"] += 1
        if breaches:
            add[f"{scope}|breaches"] += breaches
    if not rec.get("duplicate_of"):  # else the original's clock and work stand for it
        _count_work(rec, holder, breaches > 0, add)
    committee = fallback_committee(rec)
    if committee is not None:
        add[f"{fallback_scope(committee)}|fallback_used"] += 1
    return add


def _count_work(rec: Mapping[str, str], holder: list[str], missed: bool, add: Counter[str]) -> None:
    """Add the response, resolution and rating of a grievance that has a clock of its own."""
    if rec.get("first_acked_at"):
        ack_bin = ACK_BIN + time_bin(_elapsed_s(rec, "first_acked_at"))
        ack = (rec.get("ack_unit") or NONE, rec.get("ack_tier") or NONE)
        for scope in (ALL, unit_scope(ack[0]), tier_scope(ack[1])):
            add[f"{scope}|response_due"] += 1
            add[f"{scope}|{ack_bin}"] += 1
            if rec.get("ack_in_sla") == "1":
                add[f"{scope}|responded_in_sla"] += 1
    elif missed:
        for scope in holder:
            add[f"{scope}|response_due"] += 1
    resolver = (
        rec.get("resolved_unit") or rec.get("assignee") or NONE,
        rec.get("resolved_tier") or rec.get("tier") or NONE,
    )
    credited = (ALL, unit_scope(resolver[0]), tier_scope(resolver[1]))
    if rec.get("resolved_at"):
        res_bin = RESOLVE_BIN + time_bin(_elapsed_s(rec, "resolved_at"))
        for scope in credited:
            add[f"{scope}|resolution_due"] += 1
            add[f"{scope}|resolved"] += 1
            add[f"{scope}|{res_bin}"] += 1
    elif rec.get("state") != "withdrawn" or missed:
        for scope in holder:
            add[f"{scope}|resolution_due"] += 1
    if rec.get("rating"):
        for scope in credited:
            add[f"{scope}|rated"] += 1
            if _int(rec.get("rating")) >= SATISFIED_FROM:
                add[f"{scope}|satisfied"] += 1


def submission_day(rec: Mapping[str, str]) -> str | None:
    """Return the UTC day (``YYYY-MM-DD``) a grievance was submitted, ``None`` if unknown."""
    ms = _int(rec.get("submitted_at"))
    if not ms:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):  # a time no calendar holds: all-time only
        return None


def bucket_keys(keys: Keys, rec: Mapping[str, str]) -> list[str]:
    """Return the counter hashes a grievance counts in: all-time and its submission day."""
    day = submission_day(rec)
    return [keys.kpi_all] if day is None else [keys.kpi_all, keys.kpi_day(day)]


def _relevant(rec: Mapping[str, str]) -> tuple[str | None, ...]:
    return tuple(rec.get(f) for f in KPI_FIELDS)


def kpi_writes(
    keys: Keys, before: Mapping[str, str], after: Mapping[str, str]
) -> list[tuple[str, str, list[str]]]:
    """Return the HINCRBYs that move a grievance's contribution from ``before`` to ``after``."""
    if before and _relevant(before) == _relevant(after):
        return []  # a note, a timer warning, an event: no KPI field changed
    old = contribution(before) if before else Counter()
    new = contribution(after)
    targets = bucket_keys(keys, after)
    if before and bucket_keys(keys, before) != targets:  # never: submitted_at is fixed
        return _moved(keys, old, before, new, targets)
    new.subtract(old)
    changed = sorted((name, count) for name, count in new.items() if count)
    return [("HINCRBY", key, [name, str(count)]) for key in targets for name, count in changed]


def _moved(
    keys: Keys, old: Counter[str], before: Mapping[str, str], new: Counter[str], targets: list[str]
) -> list[tuple[str, str, list[str]]]:
    """Return the writes of a contribution that also changes hashes (another day)."""
    deltas: dict[str, Counter[str]] = defaultdict(Counter)
    for key in bucket_keys(keys, before):
        deltas[key].subtract(old)
    for key in targets:
        deltas[key].update(new)
    return [
        ("HINCRBY", key, [name, str(count)])
        for key, counts in deltas.items()
        for name, count in sorted(counts.items())
        if count
    ]


def tally(keys: Keys, records: Iterable[Mapping[str, str]]) -> dict[str, Counter[str]]:
    """Return every counter hash as the sum of the contributions of ``records`` (no zeros)."""
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for rec in records:
        share = contribution(rec)
        for key in bucket_keys(keys, rec):
            totals[key].update(share)
    return {key: +counts for key, counts in totals.items()}
