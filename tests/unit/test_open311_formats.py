"""Open311's pure parts: the list's filters and window, W3C times, and the XML mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest

from services.intake.open311.catalogue import service_definition, service_list
from services.intake.open311.formats import to_xml
from services.intake.open311.query import MAX_RESULTS, QueryError, parse_query, window
from services.intake.open311.views import status_notes, w3c
from shared.events import Category

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_window_defaults_to_the_last_90_days_and_90_from_one_end() -> None:
    """No dates: the last 90 days; a start alone: 90 days on; an end alone: 90 days back."""
    assert window(None, None, NOW) == (_ms(NOW - timedelta(days=90)), _ms(NOW))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert window("2026-01-01T00:00:00Z", None, NOW) == (
        _ms(start),
        _ms(start + timedelta(days=90)),
    )
    first, _ = window(None, "2026-04-01T08:00:00+08:00", NOW)
    assert first == _ms(datetime(2026, 4, 1, tzinfo=UTC) - timedelta(days=90))


def test_an_end_to_the_second_takes_in_that_whole_second() -> None:
    """end_date 12:00:00Z includes 12:00:00.999, so paging by the shown time loses nothing."""
    _, last = window("2026-05-01T00:00:00Z", "2026-05-01T12:00:00Z", NOW)
    assert last == _ms(datetime(2026, 5, 1, 12, tzinfo=UTC)) + 999
    _, exact = window("2026-05-01T00:00:00Z", "2026-05-01T12:00:00.5Z", NOW)
    assert exact == _ms(datetime(2026, 5, 1, 12, 0, 0, 500000, tzinfo=UTC))


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"}, "90 days"),
        ({"start_date": "2026-02-01", "end_date": "2026-01-01"}, "after end_date"),
        ({"start_date": "2026-01-01T00:00:00"}, "time zone"),
        ({"end_date": "last week"}, "W3C"),
        ({"status": ["open,pending"]}, "pending"),
        ({"service_code": ["wages,potholes"]}, "potholes"),
        ({"service_request_id": [",".join(str(i) for i in range(MAX_RESULTS + 1))]}, "at most"),
    ],
)
def test_unreadable_filters_say_what_is_wrong(filters: dict[str, object], says: str) -> None:
    """Each bad filter raises QueryError naming the problem (the route's 400)."""
    with pytest.raises(QueryError, match=says):
        parse_query(now=NOW, **filters)  # type: ignore[arg-type]


def test_ids_override_every_other_filter_and_lists_merge() -> None:
    """service_request_id wins over the rest; repeated and comma lists merge, blanks drop."""
    query = parse_query(service_request_id=["a, b", "a"], status=["bogus"], now=NOW)
    assert query.ids == ("a", "b")
    query = parse_query(service_code=["wages,", "health", ""], status=[""], now=NOW)
    assert query.service_codes == ("wages", "health")
    assert query.statuses == {"open", "closed"}


def test_w3c_times_are_utc_to_the_second() -> None:
    """Stored ISO times (ms, Z or offsets) show as YYYY-MM-DDThh:mm:ssZ; junk shows as None."""
    assert w3c("2026-05-01T12:00:00.123Z") == "2026-05-01T12:00:00Z"
    assert w3c("2026-05-01T20:00:00+08:00") == "2026-05-01T12:00:00Z"
    assert w3c("not a time") is None
    assert w3c(None) is None


def test_status_notes_are_plain_words_with_the_resolution_masked() -> None:
    """A resolved report's notes carry the resolution, phone numbers masked."""
    notes = status_notes("resolved", {"resolution": "已修好，有事打13900139000"})
    assert notes.startswith("已办结 Resolved：已修好")
    assert "13900139000" not in notes
    assert status_notes("assigned", {"resolution": "x"}) == (
        "已转交承办单位 Passed to the responsible unit"
    )


def test_xml_maps_lists_booleans_and_nulls_as_georeport_does() -> None:
    """Lists nest as plural/singular elements, booleans are lower case, null is empty."""
    root = ET.fromstring(to_xml("services", service_list()))
    assert [s.findtext("service_code") for s in root.iter("service")][:1] == ["safety_hazard"]
    assert root.find("service/metadata").text == "true"  # type: ignore[union-attr]
    definition = ET.fromstring(to_xml("service_definition", service_definition(Category.SORTING)))
    codes = [a.findtext("code") for a in definition.iter("attribute")]
    assert codes == ["where_exactly"]
    assert definition.find("attributes/attribute/values") is not None
    created = ET.fromstring(to_xml("service_requests", [{"id": "1", "account_id": None}]))
    assert created.find("request/account_id").text is None  # type: ignore[union-attr]


def test_xml_drops_characters_xml_cannot_carry() -> None:
    """Control characters and lone surrogates in stored text never break the document."""
    text = to_xml("errors", [{"code": 400, "description": "a\x00b\x07c\ud800d<e>&"}])
    assert ET.fromstring(text).findtext("error/description") == "abcd<e>&"
