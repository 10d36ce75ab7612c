"""KPI arithmetic of GET /v1/stats (pure)."""

from __future__ import annotations

from services.intake.stats import kpis, report

NOW = 10_000_000


def record(**fields: object) -> dict[str, str]:
    """Return router hash fields as text, submitted at t=0."""
    return {"submitted_at": "0", "state": "assigned", **{k: str(v) for k, v in fields.items()}}


def test_empty_population_has_null_rates() -> None:
    """With nothing measured the rates are null, not 0%."""
    block = kpis([], NOW)
    assert block["total"] == 0
    assert block["response_rate"] is None
    assert block["ack_time_s"] == {"median": None, "p90": None}


def test_rates_times_and_counts() -> None:
    """Response, resolution and satisfaction rates, medians, breaches and overdue add up."""
    records = [
        record(first_acked_at=60_000, ack_in_sla=1, resolved_at=600_000, state="closed", rating=5),
        record(
            first_acked_at=120_000, ack_in_sla=0, resolved_at=900_000, state="resolved", rating=2
        ),
        record(ack_due=NOW - 1, breaches=1, overdue=1),
        record(ack_due=NOW + 1),
    ]
    block = kpis(records, NOW)
    assert block["total"] == 4
    assert block["response_rate"] == round(1 / 3, 4)
    assert block["resolution_rate"] == 0.5
    assert block["satisfaction_rate"] == 0.5
    assert block["ack_time_s"] == {"median": 60.0, "p90": 120.0}
    assert block["resolve_time_s"]["p90"] == 900.0
    assert (block["breaches"], block["open"], block["overdue"]) == (1, 2, 1)


def test_report_groups_by_unit_and_tier() -> None:
    """Per-unit uses the resolving unit, else the current assignee; per-tier likewise."""
    records = [
        record(assignee="m-wang", tier=1),
        record(assignee="b-zto-east", tier=2, resolved_unit="b-zto-east", resolved_tier=2),
        record(assignee="m-wang", tier=1),
    ]
    result = report(records, NOW)
    assert result["by_unit"]["m-wang"]["total"] == 2
    assert result["by_tier"]["2"]["resolution_rate"] == 0.0
    assert result["overall"]["total"] == 3
