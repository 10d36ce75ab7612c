"""Error formatting shared by the HTTP 422 body and zt:intake.rejected records (pure)."""

from __future__ import annotations

from services.intake.validation import (
    field_path,
    format_errors,
    parse_stream_grievance,
    reasons,
)


def test_field_path_reads_like_code() -> None:
    """Nested fields and list items print as worker.id and attachments[2]."""
    assert field_path(["worker", "id"]) == "worker.id"
    assert field_path(["attachments", 2]) == "attachments[2]"
    assert field_path([]) == "(body)"


def test_every_error_is_reported_with_allowed_values_and_no_input() -> None:
    """All errors come back at once; enums list allowed values; inputs are not echoed."""
    parsed = parse_stream_grievance(
        {
            "worker": {"name": "王五", "phone": "13700137000", "industry": "mining"},
            "urgency": "asap",
            "description": "",
        }
    )
    assert isinstance(parsed, list)
    by_field = {e["field"]: e for e in parsed}
    assert set(by_field) == {"worker.id", "worker.industry", "urgency", "description", "source"}
    assert "food_delivery" in by_field["worker.industry"]["allowed"]
    assert "13700137000" not in str(parsed)
    lines = reasons(parsed)
    assert "worker.id: Field required" in lines
    assert any(line.startswith("urgency: Input should be 'low'") for line in lines)


def test_request_prefix_is_kept_in_loc_but_not_in_field() -> None:
    """FastAPI's 'body' prefix stays in loc (HTTP contract) and leaves the field path."""
    [error] = format_errors(
        [{"loc": ("body", "worker", "id"), "msg": "Field required", "type": "missing"}]
    )
    assert error == {
        "loc": ["body", "worker", "id"],
        "field": "worker.id",
        "msg": "Field required",
        "type": "missing",
    }


def test_valid_stream_payload_parses() -> None:
    """A valid payload returns the model, not errors."""
    parsed = parse_stream_grievance(
        {"source": "hotline", "worker": {"id": "w1"}, "description": "工资拖欠"}
    )
    assert not isinstance(parsed, list)
    assert parsed.source == "hotline"
