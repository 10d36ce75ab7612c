"""The KPI counters' definition (pure): contributions, their deltas, time bins, windows."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.kpi import TIME_BOUNDS_S, contribution, fallback_committee, kpi_writes, tally, time_bin
from shared.stats import MAX_WINDOW_DAYS, Window, WindowError, report, window
from shared.streams import Keys

KEYS = Keys()
DAY_MS = 86_400_000

# Records as the lifecycle leaves them, drawn field by field (any combination, on purpose).
_text = st.sampled_from(["", "m-wang", "m-li", "b-east"])
RECORDS = st.fixed_dictionaries(
    {
        "state": st.sampled_from(
            ["submitted", "assigned", "acknowledged", "resolved", "closed", "withdrawn"]
        ),
        "submitted_at": st.integers(0, 3).map(lambda d: str(1_700_000_000_000 + d * DAY_MS)),
    },
    optional={
        "tier": st.sampled_from(["1", "2", "3"]),
        "assignee": _text,
        "first_acked_at": st.integers(1_700_000_000_000, 1_700_900_000_000).map(str),
        "ack_in_sla": st.sampled_from(["0", "1"]),
        "ack_unit": _text,
        "ack_tier": st.sampled_from(["1", "2"]),
        "resolved_at": st.integers(1_700_000_000_000, 1_709_000_000_000).map(str),
        "resolved_unit": _text,
        "resolved_tier": st.sampled_from(["1", "2", "3"]),
        "rating": st.sampled_from(["1", "2", "3", "4", "5"]),
        "breaches": st.sampled_from(["0", "1", "3"]),
        "overdue": st.sampled_from(["0", "1"]),
        "duplicate_of": st.sampled_from(["", "g-1"]),
        "c2k": st.sampled_from(["branch", "fallback"]),
        "c3u": st.sampled_from(["c-x", "fb"]),
        "c3k": st.sampled_from(["committee", "fallback"]),
        "notes": st.sampled_from(["1", "2"]),
    },
)


def _apply(counters: dict[str, Counter[str]], writes: list[tuple[str, str, list[str]]]) -> None:
    for command, key, (name, by) in writes:
        assert command == "HINCRBY"
        counters[key][name] += int(by)


@settings(max_examples=300)
@given(st.lists(RECORDS, min_size=1, max_size=6))
def test_deltas_of_any_history_sum_to_the_contribution_of_its_last_record(
    history: list[dict[str, str]],
) -> None:
    """Each change writes after − before: the counters always equal a recount of the last."""
    counters: dict[str, Counter[str]] = defaultdict(Counter)
    before: dict[str, str] = {}
    for drawn in history:
        after = {**drawn, "submitted_at": history[0]["submitted_at"]}  # fixed at intake
        _apply(counters, kpi_writes(KEYS, before, after))
        before = after
    assert {k: +c for k, c in counters.items() if +c} == tally(KEYS, [before])


def test_a_change_of_no_kpi_field_writes_nothing() -> None:
    """A note or an event changes no counter: no write at all."""
    record = {"state": "assigned", "tier": "1", "assignee": "m-li", "submitted_at": "0"}
    assert kpi_writes(KEYS, record, {**record, "notes": "1", "seq": "4"}) == []


def test_a_new_grievance_counts_overall_and_on_its_submission_day() -> None:
    """Filed 2023-11-14 (UTC): all-time and that day's hash, overall only (no holder yet)."""
    writes = kpi_writes(KEYS, {}, {"state": "submitted", "submitted_at": "1700000000000"})
    assert {key for _, key, _ in writes} == {"zt:kpi:all", "zt:kpi:d:2023-11-14"}
    assert sorted(name for _, key, (name, _) in writes if key == "zt:kpi:all") == [
        "all|open",
        "all|resolution_due",
        "all|state:submitted",
        "all|total",
    ]


def test_time_bins_are_upper_bounds_with_round_sla_values() -> None:
    """A time falls in the first bin whose bound is not below it; SLA values are bounds."""
    assert [time_bin(t) for t in (0, 1, 1.5, 600, 600.5, 14400, 10**9)] == [
        "1", "1", "2", "600", "720", "14400", "inf",
    ]  # fmt: skip
    for sla in (4 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400):
        assert sla in TIME_BOUNDS_S
    wide = [hi / lo for lo, hi in pairwise(TIME_BOUNDS_S) if lo >= 60 and hi <= 90 * 86400]
    assert max(wide) <= 4 / 3


def test_quantiles_are_nearest_rank_bin_bounds() -> None:
    """Acks after 50 s, 10 min and 3 h: median 600 s (rank 2), p90 10,800 s (rank 3)."""
    counters = {"all|ack_le:60": 1, "all|ack_le:600": 1, "all|ack_le:10800": 1}
    assert report(counters)["overall"]["ack_time_s"] == {"median": 600.0, "p90": 10800.0}


def test_fallback_is_counted_for_routed_grievances_only() -> None:
    """No branch: the committee; no committee: '-'; a linked duplicate was not routed."""
    no_branch = {"c2k": "fallback", "c3u": "c-x", "c3k": "committee"}
    assert fallback_committee(no_branch) == "c-x"
    assert fallback_committee({"c3u": "fb", "c3k": "fallback"}) == "-"
    assert fallback_committee({**no_branch, "duplicate_of": "g-1"}) is None
    assert fallback_committee({"c2k": "branch", "c3u": "c-x", "c3k": "committee"}) is None
    assert contribution({"state": "assigned", **no_branch})["fb:c-x|fallback_used"] == 1


def test_windows_are_checked() -> None:
    """[since, until) in days; both or neither; ordered; at most MAX_WINDOW_DAYS long."""
    assert window(None, None) == Window()
    assert window(date(2024, 5, 1), date(2024, 5, 3)).days() == ["2024-05-01", "2024-05-02"]
    longest = window(date(2024, 1, 1), date(2024, 1, 1) + timedelta(days=MAX_WINDOW_DAYS))
    assert len(longest.days()) == MAX_WINDOW_DAYS
    for since, until in (
        (date(2024, 5, 1), None),
        (None, date(2024, 5, 1)),
        (date(2024, 5, 1), date(2024, 5, 1)),
        (date(2024, 5, 1), date(2020, 1, 1)),
        (date(2024, 1, 1), date(2024, 1, 1) + timedelta(days=MAX_WINDOW_DAYS + 1)),
    ):
        with pytest.raises(WindowError):
            window(since, until)


def test_a_record_whose_submission_day_changed_moves_its_contribution() -> None:
    """A submitted_at repaired to another day: out of the old day's hash, into the new one."""
    before = {"state": "assigned", "tier": "1", "assignee": "m-li", "submitted_at": str(DAY_MS)}
    after = {**before, "submitted_at": str(2 * DAY_MS)}
    counters: dict[str, Counter[str]] = defaultdict(Counter)
    _apply(counters, kpi_writes(KEYS, {}, before))
    _apply(counters, kpi_writes(KEYS, before, after))
    assert {k: +c for k, c in counters.items() if +c} == tally(KEYS, [after])
    assert counters["zt:kpi:d:1970-01-02"]["all|total"] == 0
    assert counters["zt:kpi:d:1970-01-03"]["all|total"] == 1
