"""SLA snapshot and working-time arithmetic (pure)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from pydantic import ValidationError

from services.router import sla
from shared.config import SlaPolicy, WorkingHours, parse_duration
from shared.events import Category, Urgency


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("4h", 14400), ("3d", 259200), ("1d12h", 129600), (90, 90)],
)
def test_durations_parse(text: object, seconds: int) -> None:
    """Durations read from seconds up to days."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "0s", -5, "", True])
def test_bad_durations_are_explained(bad: object) -> None:
    """A bad duration is a clear error, not zero."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_default_normal_policy_matches_spec() -> None:
    """Member 4h/3d, branch 1d/7d ("限时一周办结"), committee 1d/14d."""
    snap = sla.snapshot(SlaPolicy(), Urgency.NORMAL, Category.WAGES)
    hour, day = 3600, 86400
    tiers = [(snap[f"a{t}"], snap[f"r{t}"]) for t in (1, 2, 3)]
    assert tiers == [(4 * hour, 3 * day), (day, 7 * day), (day, 14 * day)]
    assert snap["warn"] == 0.8
    assert "cal" not in snap


def test_category_override_wins() -> None:
    """A per-category override replaces the urgency table for that category only."""
    policy = SlaPolicy.model_validate(
        {
            "categories": {
                "safety_hazard": {
                    "critical": {
                        "member": {"ack": "15m", "resolve": "4h"},
                        "branch": {"ack": "30m", "resolve": "8h"},
                        "committee": {"ack": "1h", "resolve": "1d"},
                    }
                }
            }
        }
    )
    hazard = sla.snapshot(policy, Urgency.CRITICAL, Category.SAFETY_HAZARD)
    wages = sla.snapshot(policy, Urgency.CRITICAL, Category.WAGES)
    assert (hazard["a1"], hazard["r1"]) == (900, 14400)
    assert (wages["a1"], wages["r1"]) == (3600, 86400)


def test_warning_fraction_is_bounded() -> None:
    """A warning fraction outside (0, 1) is rejected."""
    with pytest.raises(ValidationError):
        SlaPolicy(warning_fraction=1.5)


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


CAL = sla.calendar_snapshot(WorkingHours())  # Mon–Fri 09:00–18:00 at UTC+8


def test_24x7_adds_wall_time() -> None:
    """Without a calendar a duration is wall-clock time."""
    start = _ms("2026-11-20T17:00:00+08:00")
    assert sla.add_working_ms(start, 4 * 3600, None) == start + 4 * 3600 * 1000


def test_working_time_skips_the_night_and_weekend() -> None:
    """4 working hours from Friday 17:00 end on Monday 12:00 (UTC+8)."""
    start = _ms("2026-11-20T17:00:00+08:00")  # a Friday
    assert sla.add_working_ms(start, 4 * 3600, CAL) == _ms("2026-11-23T12:00:00+08:00")


def test_working_time_starts_at_opening_hour() -> None:
    """A grievance filed at 03:00 on a Tuesday starts its clock at 09:00."""
    start = _ms("2026-11-24T03:00:00+08:00")
    assert sla.add_working_ms(start, 3600, CAL) == _ms("2026-11-24T10:00:00+08:00")


def test_calendar_snapshot_is_stored() -> None:
    """The calendar travels with the snapshot so later policy edits do not move deadlines."""
    snap = sla.snapshot(SlaPolicy(calendar=WorkingHours()), Urgency.NORMAL, Category.WAGES)
    assert json.loads(snap["cal"]) == {"days": [1, 2, 3, 4, 5], "s": 540, "e": 1080, "off": 480}
