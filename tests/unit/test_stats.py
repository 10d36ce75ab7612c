"""KPIs against a hand-computed fixture (pure): the report summed from records."""

from __future__ import annotations

from typing import Any

from shared.stats import summarise

S = 1000  # ms per second
RECORDS = [
    # acked in SLA after 60 s by m-wang, resolved after 600 s, rated 5, closed
    {"state": "closed", "tier": "1", "assignee": "m-wang", "submitted_at": "0",
     "first_acked_at": str(60 * S), "ack_in_sla": "1", "ack_tier": "1", "ack_unit": "m-wang",
     "resolved_at": str(600 * S), "resolved_tier": "1", "resolved_unit": "m-wang",
     "rating": "5", "breaches": "0"},
    # breached at member, acked by branch late (not in SLA) after 300 s, resolved 1200 s,
    # rated 2
    {"state": "resolved", "tier": "2", "assignee": "b-east", "submitted_at": "0",
     "first_acked_at": str(300 * S), "ack_in_sla": "0", "ack_tier": "2", "ack_unit": "b-east",
     "resolved_at": str(1200 * S), "resolved_tier": "2", "resolved_unit": "b-east",
     "rating": "2", "breaches": "1"},
    # at the committee, never acked, overdue
    {"state": "assigned", "tier": "3", "assignee": "c-x", "submitted_at": "0", "breaches": "2",
     "overdue": "1"},
    # freshly assigned, still inside its ack window: response not decided yet
    {"state": "assigned", "tier": "1", "assignee": "m-li", "submitted_at": "0"},
    # withdrawn before any deadline passed: never due, in no response/resolution denominator
    {"state": "withdrawn", "tier": "1", "assignee": "m-li", "submitted_at": "0"},
]  # fmt: skip


def test_overall_rates_match_hand_computation() -> None:
    """1 of 3 responses due in SLA; 2 of 4 owed resolved; 1 of 2 ratings ≥ 4; binned times."""
    overall = summarise(RECORDS)["overall"]
    assert overall["total"] == 5
    assert overall["open"] == 3
    assert overall["overdue"] == 1
    assert overall["breaches"] == 3
    assert overall["response_rate"] == 0.3333
    assert overall["resolution_rate"] == 0.5
    assert overall["satisfaction_rate"] == 0.5
    # nearest rank over bins whose bounds hold 60, 300, 600 and 1200 s exactly
    assert overall["ack_time_s"] == {"median": 60.0, "p90": 300.0}
    assert overall["resolve_time_s"] == {"median": 600.0, "p90": 1200.0}
    assert overall["counts"] == {
        "responded_in_sla": 1,
        "response_due": 3,
        "resolved": 2,
        "resolution_due": 4,
        "satisfied": 1,
        "rated": 2,
    }


def test_per_unit_and_tier() -> None:
    """Responses count for the unit that acknowledged; open/overdue for the current one."""
    result = summarise(RECORDS)
    assert result["by_unit"]["m-wang"]["response_rate"] == 1.0
    assert result["by_unit"]["b-east"]["response_rate"] == 0.0
    assert result["by_unit"]["c-x"]["overdue"] == 1
    assert result["by_tier"]["3"]["open"] == 1
    assert result["by_tier"]["1"]["total"] == 3


def test_a_missed_response_is_decided_by_the_recorded_breach_not_a_clock() -> None:
    """Never acknowledged: not due until the deadline's timer records a breach, then a miss."""
    late = {
        "state": "assigned",
        "tier": "1",
        "assignee": "m-li",
        "submitted_at": "0",
        "ack_due": str(100 * S),
    }
    assert summarise([late])["overall"]["response_rate"] is None
    assert summarise([{**late, "breaches": "1"}])["overall"]["response_rate"] == 0.0


def test_empty_is_not_a_division_by_zero() -> None:
    """No grievances: rates are null, not errors."""
    overall = summarise([])["overall"]
    assert overall["response_rate"] is None
    assert overall["ack_time_s"] == {"median": None, "p90": None}


def _withdrawn(**fields: str) -> dict[str, str]:
    record = {"state": "withdrawn", "tier": "1", "assignee": "m-li", "submitted_at": "0"}
    return {**record, **fields}


def test_withdrawn_before_its_deadline_is_not_a_miss() -> None:
    """Withdrawn with no breach: no response or resolution was due, the holder is not at 0%."""
    result = summarise([_withdrawn()])
    assert result["overall"]["response_rate"] is None
    assert result["overall"]["resolution_rate"] is None
    assert result["by_unit"]["m-li"]["response_rate"] is None


def test_withdrawn_after_its_ack_deadline_passed_is_a_miss() -> None:
    """Withdrawn after an unanswered ack deadline (a breach recorded): a missed response."""
    result = summarise([_withdrawn(tier="2", assignee="b-east", breaches="1")])
    assert result["overall"]["response_rate"] == 0.0
    assert result["overall"]["resolution_rate"] == 0.0
    assert result["by_unit"]["b-east"]["response_rate"] == 0.0


def test_duplicate_is_in_no_response_or_resolution_denominator() -> None:
    """A linked duplicate, open or closed with its original, leaves the rates to the original."""
    closed = {
        "state": "closed",
        "tier": "1",
        "submitted_at": "0",
        "duplicate_of": "g-1",
        "resolved_at": str(60 * S),
    }
    linked = {"state": "submitted", "submitted_at": "0", "duplicate_of": "g-1", "ack_due": "1"}
    overall = summarise([closed, linked])["overall"]
    assert overall["total"] == 2
    assert overall["response_rate"] is None
    assert overall["resolution_rate"] is None


def test_rating_and_resolution_are_credited_to_the_resolver() -> None:
    """Member resolved, rated 1, reopened to the branch: the member holds the sample."""
    reopened = {
        "state": "assigned",
        "tier": "2",
        "assignee": "b-east",
        "submitted_at": "0",
        "first_acked_at": str(60 * S),
        "ack_in_sla": "1",
        "ack_tier": "1",
        "ack_unit": "m-wang",
        "resolved_at": str(600 * S),
        "resolved_tier": "1",
        "resolved_unit": "m-wang",
        "rating": "1",
    }
    result = summarise([reopened])
    member, branch = result["by_unit"]["m-wang"], result["by_unit"]["b-east"]
    assert (member["satisfaction_rate"], member["resolution_rate"]) == (0.0, 1.0)
    assert (branch["satisfaction_rate"], branch["resolution_rate"]) == (None, None)
    assert (branch["open"], result["by_tier"]["1"]["satisfaction_rate"]) == (1, 0.0)


def test_names_states_and_fallback_used_per_committee() -> None:
    """Units carry their directory names; states are counted; fallback routes per committee."""
    # fmt: off
    no_branch = {"state": "assigned", "tier": "2", "assignee": "fb", "submitted_at": "0",
                 "c2k": "fallback", "c3u": "c-x", "c3k": "committee"}
    no_committee = {"state": "closed", "tier": "3", "assignee": "fb", "submitted_at": "0",
                    "c3u": "fb", "c3k": "fallback"}
    routed = {"state": "assigned", "tier": "1", "assignee": "m-li", "submitted_at": "0",
              "c2k": "branch", "c3u": "c-x", "c3k": "committee"}
    # fmt: on
    result = summarise([no_branch, no_committee, routed], {"c-x": "东区委员会", "m-li": "李"})
    assert result["by_unit"]["m-li"]["name"] == "李"
    assert result["by_unit"]["fb"]["name"] is None  # not in the names given
    assert result["by_state"] == {"assigned": 2, "closed": 1}
    assert result["fallback_used"] == {
        "-": {"name": None, "count": 1},
        "c-x": {"name": "东区委员会", "count": 1},
    }


MAY_1, MAY_2 = 1714554000000, 1714640400000  # 2024-05-01 09:00 and 2024-05-02 09:00 UTC
CHAIN = {"c2k": "branch", "c3u": "c-express", "c3k": "committee"}
MIN, HOUR = 60 * S, 3600 * S
# The README's worked example ("KPIs: what counts, and who is credited"), field by field.
README = {
    "A": {**CHAIN, "state": "closed", "tier": "1", "assignee": "m-wang",
          "submitted_at": str(MAY_1), "first_acked_at": str(MAY_1 + 10 * MIN),
          "ack_in_sla": "1", "ack_unit": "m-wang", "ack_tier": "1",
          "resolved_at": str(MAY_1 + 2 * HOUR), "resolved_unit": "m-wang",
          "resolved_tier": "1", "rating": "5"},
    "B": {**CHAIN, "state": "withdrawn", "tier": "1", "assignee": "m-li",
          "submitted_at": str(MAY_1)},
    "C": {**CHAIN, "state": "assigned", "tier": "2", "assignee": "b-zto-east",
          "submitted_at": str(MAY_1), "first_acked_at": str(MAY_1 + HOUR), "ack_in_sla": "1",
          "ack_unit": "m-li", "ack_tier": "1", "resolved_at": str(MAY_1 + HOUR),
          "resolved_unit": "m-li", "resolved_tier": "1", "rating": "1", "reopen_count": "1"},
    "D": {**CHAIN, "state": "withdrawn", "tier": "2", "assignee": "b-zto-east",
          "submitted_at": str(MAY_2), "breaches": "1"},
    "E": {**CHAIN, "c2k": "fallback", "state": "acknowledged", "tier": "2",
          "assignee": "u-liangxin", "submitted_at": str(MAY_2),
          "first_acked_at": str(MAY_2 + 30 * MIN), "ack_in_sla": "1",
          "ack_unit": "u-liangxin", "ack_tier": "2"},
}  # fmt: skip


def _rates(kpis: dict[str, Any]) -> tuple[Any, ...]:
    return (kpis["response_rate"], kpis["resolution_rate"], kpis["satisfaction_rate"])


def test_the_readme_worked_example() -> None:
    """The README's figures: overall, per unit, per tier, fallback use and both days."""
    result = summarise(README.values(), {"c-express": "区快递行业党委"})
    overall = result["overall"]
    assert (overall["total"], overall["open"], overall["breaches"]) == (5, 2, 1)
    assert _rates(overall) == (0.75, 0.5, 0.5)
    assert overall["ack_time_s"] == {"median": 1800.0, "p90": 3600.0}
    assert overall["resolve_time_s"] == {"median": 3600.0, "p90": 7200.0}
    units = result["by_unit"]
    assert _rates(units["m-wang"]) == (1.0, 1.0, 1.0)
    assert _rates(units["m-li"]) == (1.0, 1.0, 0.0)
    assert _rates(units["b-zto-east"]) == (0.0, 0.0, None)
    assert (units["b-zto-east"]["total"], units["b-zto-east"]["open"]) == (2, 1)
    assert _rates(units["u-liangxin"]) == (1.0, 0.0, None)
    assert _rates(result["by_tier"]["1"]) == (1.0, 1.0, 0.5)
    assert _rates(result["by_tier"]["2"]) == (0.5, 0.0, None)
    assert result["fallback_used"] == {"c-express": {"name": "区快递行业党委", "count": 1}}
    day_1 = summarise(r for r in README.values() if r["submitted_at"] == str(MAY_1))
    day_2 = summarise(r for r in README.values() if r["submitted_at"] == str(MAY_2))
    assert _rates(day_1["overall"]) == (1.0, 1.0, 0.5)
    assert _rates(day_2["overall"]) == (0.5, 0.0, None)
