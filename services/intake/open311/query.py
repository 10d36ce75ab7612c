"""``GET requests``'s filters, read as GeoReport v2 defines them (pure).

- ``service_request_id``: a comma list; when given it overrides every other filter.
- ``service_code``: a comma list (or the parameter repeated); all services when absent.
- ``start_date``/``end_date``: W3C date-times bounding ``requested_datetime`` (both ends
  included, an end to the second with all of that second); the range may not span more
  than 90 days and defaults to the most recent 90.
- ``status``: ``open``, ``closed`` or both (comma list); all when absent.
- At most 1,000 requests are returned, newest first.
Empty parameters count as absent ("Optional Arguments" in the spec).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.intake.open311.catalogue import CODES

MAX_SPAN = timedelta(days=90)
# Outside these no report can be found, and the window's arithmetic would leave the calendar
# (year 10000 was a 500).
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
MAX_RESULTS = 1000
STATUSES = frozenset({"open", "closed"})


class QueryError(ValueError):
    """Raise when a filter cannot be read; the message says which and why."""


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """One ``GET requests`` query, defaults applied."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: frozenset[str] = STATUSES
    start_ms: int = 0
    end_ms: int = 0
    limit: int = MAX_RESULTS


def _listed(values: Sequence[str] | None) -> tuple[str, ...]:
    """Return the items of a comma list that may also be repeated, blanks dropped."""
    items = (part.strip() for value in values or () for part in value.split(","))
    return tuple(dict.fromkeys(item for item in items if item))


def w3c_instant(name: str, value: str) -> datetime:
    """Return a W3C date or date-time as an aware UTC ``datetime``.

    A date alone (``2010-01-01``) is midnight UTC; a time must carry its zone, as the spec
    requires (``Z`` or ``±hh:mm``).
    """
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise QueryError(
            f"{name} must be a W3C date-time such as 2010-01-01T00:00:00Z, not {value!r}"
        ) from exc
    if moment.tzinfo is None:
        if "T" in value:
            raise QueryError(f"{name} must include a time zone (Z or +08:00): {value!r}")
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        moment = LATEST if moment.year > EARLIEST.year else EARLIEST - MAX_SPAN
    if not EARLIEST <= moment < LATEST:
        raise QueryError(f"{name} must fall in 2000-2099 (UTC), not {value!r}")
    return moment


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def window(start: str | None, end: str | None, now: datetime) -> tuple[int, int]:
    """Return the ``requested_datetime`` range in epoch ms, both ends included.

    Neither given: the last 90 days.  One given: 90 days from it (or up to it).  Both: as
    given, refused when reversed or wider than 90 days.
    """
    first = w3c_instant("start_date", start) if start else None
    last = w3c_instant("end_date", end) if end else None
    if first is None:
        last = last or now
        first = last - MAX_SPAN
    elif last is None:
        last = first + MAX_SPAN
    if first > last:
        raise QueryError("start_date must not be after end_date")
    if last - first > MAX_SPAN:
        raise QueryError(f"start_date and end_date may not span more than {MAX_SPAN.days} days")
    # Times are shown to the second: an end given to the second takes in all of that second,
    # so paging back with end_date = the oldest requested_datetime seen loses no report.
    whole_second = end is not None and last.microsecond == 0
    return _ms(first), _ms(last) + (999 if whole_second else 0)


def parse_query(
    *,
    service_request_id: Sequence[str] | None = None,
    service_code: Sequence[str] | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: Sequence[str] | None = None,
    now: datetime | None = None,
) -> RequestQuery:
    """Return the query for the raw parameters, or raise ``QueryError`` saying what is wrong."""
    ids = _listed(service_request_id)
    if ids:
        if len(ids) > MAX_RESULTS:
            raise QueryError(f"at most {MAX_RESULTS} service_request_id values at once")
        return RequestQuery(ids=ids)
    codes = _listed(service_code)
    unknown = [code for code in codes if code not in CODES]
    if unknown:
        raise QueryError(f"unknown service_code: {', '.join(unknown)} (see services.json)")
    statuses = frozenset(_listed(status)) or STATUSES
    if not statuses <= STATUSES:
        wrong = ", ".join(sorted(statuses - STATUSES))
        raise QueryError(f"status must be open and/or closed, not {wrong}")
    start_ms, end_ms = window(start_date or None, end_date or None, now or datetime.now(UTC))
    return RequestQuery(service_codes=codes, statuses=statuses, start_ms=start_ms, end_ms=end_ms)
