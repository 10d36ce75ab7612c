"""The list's rows as CSV, for audit export (SPEC §3): one line per ``GrievanceRow``.

The CSV starts with a UTF-8 byte-order mark so spreadsheet programs read Chinese text right,
and no cell can run as a formula: a text beginning with ``= + - @``, a tab or a carriage
return is prefixed with ``'`` (OWASP's CSV-injection rule).  The worker's name and phone
are never exported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from shared.views import GrievanceRow, iso_time

BOM = "\ufeff"
MEDIA_TYPE = "text/csv; charset=utf-8"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# Column → where its value is in the row (a dotted path; a list gives its items joined by ";").
COLUMNS: dict[str, str] = {
    "id": "id",
    "tracking_no": "tracking_no",
    "submitted_at": "submitted_at",
    "state": "state",
    "reopened": "reopened",
    "tier": "tier",
    "assignee": "assignee.id",
    "assignee_name": "assignee.name",
    "category": "category",
    "urgency": "urgency",
    "needs_review": "needs_review",
    "overdue": "overdue",
    "channel": "channel",
    "source": "source",
    "worker_id": "grievance.worker.id",
    "anonymous": "anonymous",
    "ack_due_at": "ack_due_at",
    "resolve_due_at": "resolve_due_at",
    "feedback_closes_at": "feedback_closes_at",
    "awaiting_rating": "awaiting_rating",
    "acknowledged_at": "acknowledged_at",
    "resolved_at": "resolved_at",
    "closed_at": "closed_at",
    "resolved_by": "resolved_by.id",
    "rating": "rating",
    "breaches": "breaches",
    "reopens": "reopens",
    "extensions": "extensions",
    "notes": "notes",
    "duplicate_of": "duplicate_of",
    "departments": "departments.id",
    "title": "grievance.title",
    "description": "grievance.description",
    "resolution": "resolution",
}


def _get(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, list):
            return ";".join(cell(_get(item, part)) for item in value)
        value = getattr(value, part, None)
    return value


def cell(value: Any) -> str:
    """Return one CSV cell: ISO 8601 times, ``true``/``false``, formula-safe text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso_time(value)
    text = str(value.value if hasattr(value, "value") else value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(rows: Iterable[GrievanceRow], *, header: bool = True) -> str:
    """Return ``rows`` as CSV text (a header line first, BOM included, unless ``header``
    is false: the continuation of an export)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        out.write(BOM)
        writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([cell(_get(row, path)) for path in COLUMNS.values()])
    return out.getvalue()
