"""The read model, the list's index memberships, cursors and CSV cells (pure)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.router.working_time import Calendar
from shared import export, query
from shared.config import WorkingHours, load_config
from shared.indexes import index_writes, memberships
from shared.record import INTERNAL_FIELDS, SLA_FIELDS
from shared.streams import Keys
from shared.views import Stored, grievance_row, grievance_view, unit_names
from tests.conftest import ROOT

KEYS = Keys()
SUBMITTED = 1_764_000_000_000
RESOLVED = SUBMITTED + 3_600_000
# A record as the router leaves it after a reopen and a second resolution at the branch.
FIELDS = {
    "state": "resolved",
    "tracking_no": "ZT-251124-7K3F9QX2",
    "submitted_at": str(SUBMITTED),
    "worker_id": "w-1001",
    "source": "demo-app",
    "category": "road_access",
    "urgency": "normal",
    "anonymous": "0",
    "needs_review": "0",
    "v": "12",
    "gen": "4",
    "seq": "9",
    "timers": "fb fbr",
    **{f"c{t}u": u for t, u in ((1, "m-wang"), (2, "b-zto-east"), (3, "c-express"))},
    "c1n": "党员快递员王师傅", "c2n": "城东快递网点联合党支部", "c3n": "区快递行业党委",
    **{f"c{t}k": k for t, k in ((1, "member"), (2, "branch"), (3, "committee"))},
    "a1": "14400", "r1": "259200", "a2": "86400", "r2": "604800", "a3": "86400",
    "r3": "1209600", "warn": "0.8", "fb": "259200", "od": "86400", "mext": "2", "mreo": "2",
    "tier": "2",
    "assignee": "b-zto-east",
    "assignee_name": "城东快递网点联合党支部",
    "assignee_kind": "branch",
    "assigned_at": str(SUBMITTED + 60_000),
    "acked_at": "",
    "first_acked_at": str(SUBMITTED + 120_000),
    "ack_in_sla": "1",
    "ack_due": "",
    "resolve_due": "",
    "fb_due": str(RESOLVED + 259_200_000),
    "resolved_at": str(RESOLVED),
    "resolved_unit": "b-zto-east",
    "resolved_tier": "2",
    "resolve_in_sla": "1",
    "resolution": "已与物业协调",
    "rating": "1",
    "comment": "没解决",
    "reopen_count": "1",
    "breaches": "0",
    "overdue": "0",
    "notes": "3",
    "ext_count": "1",
    "departments": '["d-traffic-police"]',
}  # fmt: skip
DOC = {
    "id": "01TEST",
    "channel": "http",
    "worker": {"id": "w-1001", "name": "张三", "phone": "13800138000", "industry": "other"},
    "description": "小区保安不让电动车进",
    "classification": {"category_reason": "given", "urgency_reason": "given"},
    "needs_review": False,
}
TIMELINE = [
    {"event_id": "01TEST.1", "grievance_id": "01TEST", "seq": 1, "type": "grievance.assigned",
     "at": "2025-11-24T16:01:00.000Z", "state": "assigned", "tier": 1, "assignee": "m-wang"},
]  # fmt: skip
UNITS = unit_names(load_config(ROOT / "config" / "demo.yaml").directory)


def stored(**fields: str) -> Stored:
    return Stored("01TEST", {**FIELDS, **fields}, DOC, ("01DUP",), TIMELINE)


def keys_of(value: Any) -> set[str]:
    """Return every key of every object in ``value``, however deep."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


def test_the_view_shows_no_storage_internals() -> None:
    """No version, generation, sequence, timer kinds or compact field names in the view."""
    view = grievance_view(stored(), reveal_worker=False, units=UNITS).model_dump(mode="json")
    shown = keys_of({k: v for k, v in view.items() if k != "timeline"})
    compact = {f"c{t}{x}" for t in (1, 2, 3) for x in "unk"}
    stored_only = {"ack_due", "resolve_due", "fb_due", "acked_at", "reopen_count", "ext_count"}
    assert not shown & {*INTERNAL_FIELDS, *SLA_FIELDS, *compact, *stored_only}
    assert "seq" not in view  # only the timeline's events carry their public seq


def test_numbers_are_numbers_times_are_iso_and_flags_booleans() -> None:
    """tier, rating, counts are ints; deadlines are ISO 8601; anonymous is a boolean."""
    view = grievance_view(stored(), reveal_worker=False, units=UNITS).model_dump(mode="json")
    assert (view["tier"], view["rating"], view["reopens"], view["notes"]) == (2, 1, 1, 3)
    assert (view["extensions"], view["breaches"]) == (1, 0)
    assert view["anonymous"] is False
    assert view["acknowledged_in_sla"] is True
    assert view["submitted_at"] == "2025-11-24T16:00:00.000Z"  # as the events carry times
    assert datetime.fromisoformat(view["feedback_closes_at"]) == datetime.fromtimestamp(
        (RESOLVED + 259_200_000) / 1000, UTC
    )
    assert view["ack_due_at"] is None
    sla = view["sla"]
    assert sla["tiers"][0] == {"tier": 1, "ack_s": 14400.0, "resolve_s": 259200.0}
    assert (sla["warning_share"], sla["max_extensions"], sla["max_reopens"]) == (0.8, 2, 2)
    assert sla["feedback_window_s"] == 259200.0
    assert sla["working_calendar"] is None


def test_units_are_named_and_the_rating_window_and_reopen_are_visible() -> None:
    """The assignee, chain, departments and resolver carry names; reopened; window open."""
    row = grievance_row(stored(), reveal_worker=False, units=UNITS)
    assert row.assignee is not None
    assert (row.assignee.id, row.assignee.name, row.assignee.kind) == (
        "b-zto-east",
        "城东快递网点联合党支部",
        "branch",
    )
    assert next((c.tier, c.unit, c.kind) for c in row.chain) == (1, "m-wang", "member")
    assert [(d.id, d.name) for d in row.departments] == [("d-traffic-police", "公安交警大队")]
    assert row.resolved_by is not None
    assert row.resolved_by.name == "城东快递网点联合党支部"
    assert row.reopened
    assert row.awaiting_rating
    assert row.duplicates == ["01DUP"]
    closed = grievance_row(stored(state="closed", fb_due=""), reveal_worker=False)
    assert not closed.awaiting_rating
    assert closed.feedback_closes_at is None


def test_name_and_phone_only_when_revealed() -> None:
    """The submitting app sees the worker's name and phone; nobody else does."""
    hidden = grievance_view(stored(), reveal_worker=False)
    assert hidden.grievance is not None
    assert (hidden.grievance.worker.name, hidden.grievance.worker.phone) == (None, None)
    assert "张三" not in hidden.model_dump_json()
    shown = grievance_view(stored(), reveal_worker=True)
    assert shown.grievance is not None
    assert shown.grievance.worker.name == "张三"


def test_a_time_no_calendar_holds_reads_as_unknown() -> None:
    """A corrupt stored deadline never makes the grievance unreadable."""
    row = grievance_row(
        stored(resolve_due="253402387139000", ack_due="-1e+17"), reveal_worker=False
    )
    assert (row.resolve_due_at, row.ack_due_at) == (None, None)


_FIELD_VALUES = {
    "state": st.sampled_from(["submitted", "assigned", "resolved", "closed"]),
    "category": st.sampled_from(["wages", "road_access"]),
    "urgency": st.sampled_from(["low", "high"]),
    "worker_id": st.sampled_from(["w-1", "w-2"]),
    "overdue": st.sampled_from(["0", "1"]),
    "needs_review": st.sampled_from(["0", "1", ""]),
    "c1u": st.sampled_from(["", "m-wang", "m-li"]),
    "c2u": st.sampled_from(["", "b-zto-east"]),
    "assignee": st.sampled_from(["", "m-wang", "b-zto-east", "u-liangxin"]),
    "departments": st.sampled_from(["", '["d-hrss"]', '["d-hrss","d-union"]', "not json"]),
}
_RECORDS = st.fixed_dictionaries(
    {"submitted_at": st.just("1764000000000"), "source": st.just("app")},
    optional=_FIELD_VALUES,
)


@given(st.lists(_RECORDS, min_size=1, max_size=8))
def test_index_writes_replayed_give_the_memberships_of_the_last_record(
    versions: list[dict[str, str]],
) -> None:
    """Applying each change's diff to empty indexes always ends at a recomputation."""
    indexes: dict[str, dict[str, str]] = {}
    before: dict[str, str] = {}
    for after in versions:
        for command, key, args in index_writes(KEYS, "g1", before, after):
            if command == "ZADD":
                indexes.setdefault(key, {})[args[1]] = args[0]
            elif command == "ZREM":
                indexes[key].pop(args[0])
        before = after
    assert {k: v for k, v in indexes.items() if v} == {
        key: {"g1": score} for key, score in memberships(KEYS, versions[-1]).items()
    }


@given(st.integers(min_value=0, max_value=2**53), st.text(min_size=1))
def test_a_cursor_names_its_position(score: int, gid: str) -> None:
    """Every position survives its cursor; the cursor is URL-safe."""
    cursor = query.encode_cursor((score, gid))
    assert query.decode_cursor(cursor) == (score, gid)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("cursor", ["", "!!!", "bm90LWEtY3Vyc29y", "MTIzfA", "eHx5"])
def test_a_cursor_not_ours_is_refused(cursor: str) -> None:
    """Garbage, no separator, an empty id or a non-numeric score: ValueError."""
    with pytest.raises(ValueError, match="cursor"):
        query.decode_cursor(cursor)


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+86 138", "'+86 138"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("小区=物业", "小区=物业"),
    ],
)
def test_csv_cells_never_start_a_formula(text: str, cell: str) -> None:
    """A text a spreadsheet would run is prefixed with a quote; others are as they are."""
    assert export.cell(text) == cell


def test_csv_rows_carry_the_list_columns() -> None:
    """Header first (after the BOM), one line per row, lists joined, no worker name."""
    rows = [grievance_row(stored(), reveal_worker=True, units=UNITS)]
    text = export.to_csv(rows)
    assert text.startswith(export.BOM)
    (line,) = csv.DictReader(io.StringIO(text.removeprefix(export.BOM)))
    assert list(line) == list(export.COLUMNS)
    assert line["assignee_name"] == "城东快递网点联合党支部"
    assert line["departments"] == "d-traffic-police"
    assert (line["reopened"], line["rating"], line["worker_id"]) == ("true", "1", "w-1001")
    assert "张三" not in text
    assert json.dumps(line, ensure_ascii=False).count("13800138000") == 0


def test_the_working_calendar_shows_its_holidays_and_make_up_days() -> None:
    """The snapshot's calendar, stored as day numbers, reads as the dates configured."""
    hours = WorkingHours(
        holidays=[date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 5)],
        workdays=[date(2026, 10, 10)],
    )
    snapshot = json.dumps(Calendar.of(hours).snapshot())
    view = grievance_row(stored(cal=snapshot), reveal_worker=False)
    assert view.sla is not None
    calendar = view.sla.working_calendar
    assert calendar is not None
    assert calendar.holidays == [date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 5)]
    assert calendar.workdays == [date(2026, 10, 10)]
    assert (calendar.start_minute, calendar.end_minute) == (9 * 60, 18 * 60)
