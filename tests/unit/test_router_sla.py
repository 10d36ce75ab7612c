"""SLA snapshot and working-time arithmetic (pure)."""

from __future__ import annotations

import json

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


def test_calendar_snapshot_is_stored() -> None:
    """The calendar travels with the snapshot so later policy edits do not move deadlines."""
    snap = sla.snapshot(SlaPolicy(calendar=WorkingHours()), Urgency.NORMAL, Category.WAGES)
    assert json.loads(snap["cal"]) == {"days": [1, 2, 3, 4, 5], "s": 540, "e": 1080, "off": 480}


@pytest.mark.parametrize(
    ("hours", "error"),
    [
        ({"start": "18:00", "end": "09:00"}, "start < end"),
        ({"start": "9am"}, "time of day"),
        ({"days": []}, "at least 1"),
        ({"days": [0]}, "greater than or equal to 1"),
        ({"holidays": ["2026-10-10"], "workdays": ["2026-10-10"]}, "both holidays and workdays"),
    ],
)
def test_a_calendar_that_cannot_be_worked_is_refused(hours: dict[str, object], error: str) -> None:
    """A calendar without working hours, or contradicting itself, is a clear error."""
    with pytest.raises(ValidationError, match=error):
        WorkingHours.model_validate(hours)
