"""Working time (pure): every duration of the lifecycle, counted on one calendar.

With a calendar in the SLA policy (``sla.calendar``) a duration counts working time only —
the weekly hours in the calendar's UTC offset, less public holidays, plus make-up working
days (调休) — and without one (24×7) it is wall-clock time.  Every duration the lifecycle
schedules is computed here: the ack and resolve deadlines, their pre-breach warnings, the
time left when the clock pauses for the worker and what it adds back, the feedback window
and its reminder, the overdue repeat.  The Lua scripts only commit the instants.

The calendar is snapshotted onto each grievance when it is routed (the record's ``cal``,
compact JSON: ``snapshot`` writes it, ``Calendar.from_snapshot`` reads it), so a later edit
of the policy does not move an open grievance's deadlines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.config import WorkingHours

DAY_MS = 86_400_000
# How many days any walk over the calendar looks at (about 11 years): a calendar with no
# working day left in it ends the walk there instead of looping.
MAX_DAYS = 4000
_EPOCH = date(1970, 1, 1)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _runs(days: Iterable[int]) -> list[list[int]]:
    """Return day numbers as inclusive runs ``[[first, last], …]`` (a holiday week is one)."""
    runs: list[list[int]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] == day - 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return runs


@dataclass(frozen=True, slots=True)
class Calendar:
    """Weekly working hours at one UTC offset, with holidays and make-up working days.

    Days are local day numbers (days since 1970-01-01 in the calendar's offset).
    """

    days: frozenset[int]  # ISO weekdays at work
    opens_ms: int  # after local midnight
    closes_ms: int
    offset_ms: int  # local time minus UTC
    holidays: frozenset[int] = frozenset()  # off work although their weekday is at work
    workdays: frozenset[int] = frozenset()  # at work although their weekday is not

    @classmethod
    def of(cls, hours: WorkingHours) -> Calendar:
        """Return the calendar of a policy's ``WorkingHours``."""
        return cls(
            frozenset(hours.days),
            _minutes(hours.start) * 60_000,
            _minutes(hours.end) * 60_000,
            hours.utc_offset_minutes * 60_000,
            frozenset((d - _EPOCH).days for d in hours.holidays),
            frozenset((d - _EPOCH).days for d in hours.workdays),
        )

    @classmethod
    def from_snapshot(cls, raw: Mapping[str, Any]) -> Calendar:
        """Return the calendar stored on a grievance (``snapshot``'s format, older ones too)."""
        return cls(
            frozenset(raw["days"]),
            int(raw["s"]) * 60_000,
            int(raw["e"]) * 60_000,
            int(raw["off"]) * 60_000,
            frozenset(d for first, last in raw.get("hol", ()) for d in range(first, last + 1)),
            frozenset(raw.get("mk", ())),
        )

    def snapshot(self) -> dict[str, Any]:
        """Return the calendar as stored on a grievance (holidays as runs of days)."""
        snap: dict[str, Any] = {
            "days": sorted(self.days),
            "s": self.opens_ms // 60_000,
            "e": self.closes_ms // 60_000,
            "off": self.offset_ms // 60_000,
        }
        if self.holidays:
            snap["hol"] = _runs(self.holidays)
        if self.workdays:
            snap["mk"] = sorted(self.workdays)
        return snap

    def day_of(self, ms: int) -> int:
        """Return the local day number of the instant ``ms``."""
        return (ms + self.offset_ms) // DAY_MS

    def works_on(self, day: int) -> bool:
        """Return whether local ``day`` is a working day."""
        if day in self.workdays:
            return True
        weekday = (day + 3) % 7 + 1  # 1970-01-01 was a Thursday (ISO 4)
        return weekday in self.days and day not in self.holidays

    def window(self, day: int) -> tuple[int, int] | None:
        """Return local ``day``'s working hours as epoch ms ``(opens, closes)``, or ``None``."""
        if not self.works_on(day):
            return None
        midnight = day * DAY_MS - self.offset_ms
        return midnight + self.opens_ms, midnight + self.closes_ms


def snapshot(calendar: str | WorkingHours) -> str | None:
    """Return a policy's calendar as the record's ``cal`` field (``None`` = 24×7)."""
    if not isinstance(calendar, WorkingHours):
        return None
    return json.dumps(Calendar.of(calendar).snapshot(), separators=(",", ":"))


def add(start_ms: int, seconds: float, calendar: Calendar | None) -> int:
    """Return the earliest instant with ``seconds`` of working time since ``start_ms``."""
    remaining = round(seconds * 1000)
    if calendar is None:
        return start_ms + remaining
    first = calendar.day_of(start_ms)
    for day in range(first, first + MAX_DAYS):
        window = calendar.window(day)
        if window is None:
            continue
        begins, closes = max(start_ms, window[0]), window[1]
        if begins < closes:
            if remaining <= closes - begins:
                return begins + remaining
            remaining -= closes - begins
    return (first + MAX_DAYS) * DAY_MS - calendar.offset_ms


def before(end_ms: int, seconds: float, calendar: Calendar | None) -> int:
    """Return the latest instant with ``seconds`` of working time left until ``end_ms``."""
    remaining = round(seconds * 1000)
    if calendar is None:
        return end_ms - remaining
    last = calendar.day_of(end_ms)
    for day in range(last, last - MAX_DAYS, -1):
        window = calendar.window(day)
        if window is None:
            continue
        opens, ends = window[0], min(end_ms, window[1])
        if ends > opens:
            if remaining <= ends - opens:
                return ends - remaining
            remaining -= ends - opens
    return (last - MAX_DAYS) * DAY_MS - calendar.offset_ms


def between(start_ms: int, end_ms: int, calendar: Calendar | None) -> int:
    """Return the working time from ``start_ms`` to ``end_ms`` in ms (0 when not ahead)."""
    if end_ms <= start_ms:
        return 0
    if calendar is None:
        return end_ms - start_ms
    first = calendar.day_of(start_ms)
    last = min(calendar.day_of(end_ms), first + MAX_DAYS)
    total = 0
    for day in range(first, last + 1):
        window = calendar.window(day)
        if window is not None:
            total += max(0, min(end_ms, window[1]) - max(start_ms, window[0]))
    return total


def at_work(ms: int, calendar: Calendar | None) -> int:
    """Return ``ms`` if it is within working hours (their close included), else the next
    opening: an instant no working time separates from ``ms``."""
    if calendar is None:
        return ms
    window = calendar.window(calendar.day_of(ms))
    if window is not None and window[0] <= ms <= window[1]:
        return ms
    return add(ms, 0, calendar)
