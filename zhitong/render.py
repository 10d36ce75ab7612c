"""Rich tables for the CLI's human output: one grievance, the KPIs, the DLQ."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from shared.events import ACTIVE_STATES, EventType
from shared.i18n import label, reason
from shared.views import GrievanceRow, GrievanceView, UnitRef
from zhitong.dlq import DeadLetter
from zhitong.i18n import Lang, word

# Workers and units are in China (no DST): show times in Beijing time.
BEIJING = timezone(timedelta(hours=8))


def when(value: object) -> str:
    """Return an ISO 8601 time as ``2025-11-24 18:30`` Beijing time; ``-`` when absent."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(BEIJING):%Y-%m-%d %H:%M}"


def _named(unit: UnitRef | None) -> str:
    if unit is None:
        return "-"
    return f"{unit.name} ({unit.id})" if unit.name else unit.id


def status(lang: Lang, row: GrievanceRow) -> str:
    """Return the state in words, marked when a low rating sent it back (重新交办)."""
    state = word(lang, row.state.value)
    if row.reopened and row.state in ACTIVE_STATES:
        return f"{state} · {word(lang, EventType.REOPENED.value)}"
    return state


def _due(lang: Lang, row: GrievanceRow) -> str:
    """Return the deadline running now: response, resolution or the rating window."""
    for kind, moment in (
        ("ack", row.ack_due_at),
        ("resolve", row.resolve_due_at),
        ("rating", row.feedback_closes_at),
    ):
        if moment is not None:
            return f"{label(lang.value, 'deadline', kind)} {when(moment)}"
    return "-"


def unit_words(row: GrievanceRow, units: Mapping[str, UnitRef]) -> dict[str, str]:
    """Return unit id → name for everything a grievance names (its chain first)."""
    names = {u: ref.name for u, ref in units.items() if ref.name}
    names.update({d.id: d.name for d in row.departments if d.name})
    names.update({c.unit: c.name for c in row.chain if c.name})
    return names


def grievance(
    lang: Lang, view: GrievanceView, units: Mapping[str, UnitRef] | None = None
) -> RenderableType:
    """Return one grievance: a field table, then its timeline (units and reasons in words)."""
    locale = lang.value
    names = unit_words(view, units or {})
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    rows: list[tuple[str, object]] = [
        ("tracking_no", view.tracking_no),
        ("id", view.id),
        ("state", status(lang, view)),
        ("category", label(locale, "category", view.category)),
        ("urgency", label(locale, "urgency", view.urgency)),
        ("assignee", _named(view.assignee)),
        ("tier", label(locale, "tier", view.tier)),
        ("departments", "、".join(_named(d) for d in view.departments)),
        ("source", view.source),
        ("submitted_at", when(view.submitted_at)),
        ("ack_due", when(view.ack_due_at)),
        ("resolve_due", when(view.resolve_due_at)),
        (
            "feedback_closes_at",
            when(view.feedback_closes_at),
        ),
        ("overdue", "✔" if view.overdue else None),
        ("rating", view.rating),
        ("description", view.grievance.description if view.grievance else None),
    ]
    for key, value in rows:
        if key == "departments" and not value:
            continue
        facts.add_row(word(lang, key), str(value) if value not in (None, "", "-") else "-")
    events = Table(title=word(lang, "timeline"), title_justify="left")
    for key in ("time", "event", "state", "assignee", "actor", "note"):
        events.add_column(word(lang, key))
    for event in view.timeline:
        actor = event.actor
        note = event.reason or str(event.data.get("note") or "")
        events.add_row(
            when(event.at),
            word(lang, event.type.value),
            word(lang, event.state.value),
            names.get(event.assignee or "", event.assignee or "-"),
            f"{names.get(actor.id, actor.id)} ({label(locale, 'role', actor.role)})"
            if actor
            else "-",
            reason(locale, note, names) or "",
        )
    return Group(facts, events)


def grievances(lang: Lang, rows: Sequence[GrievanceRow], next_cursor: str | None) -> RenderableType:
    """Return a list of grievances as one table (units by name), and how to go on."""
    locale = lang.value
    table = Table()
    for key in (
        "tracking_no",
        "state",
        "category",
        "urgency",
        "tier",
        "assignee",
        "submitted_at",
        "due",
    ):
        table.add_column(word(lang, key))
    for row in rows:
        table.add_row(
            row.tracking_no or row.id,
            status(lang, row),
            label(locale, "category", row.category) or "-",
            label(locale, "urgency", row.urgency) or "-",
            label(locale, "tier", row.tier) or "-",
            (row.assignee.name or row.assignee.id) if row.assignee else "-",
            when(row.submitted_at),
            _due(lang, row) + (f" ({word(lang, 'overdue')})" if row.overdue else ""),
            style="red" if row.overdue else None,
        )
    parts: list[RenderableType] = [table if rows else word(lang, "no_grievances")]
    if next_cursor:
        parts.append(f"{word(lang, 'next_page')}: --cursor {next_cursor}")
    return Group(*parts)


def _rate(value: object) -> str:
    return f"{float(value) * 100:.1f}%" if isinstance(value, int | float) else "-"


def _times(quantiles: Mapping[str, Any]) -> str:
    def fmt(seconds: object) -> str:
        if not isinstance(seconds, int | float):
            return "-"
        if seconds < 60:
            return f"{seconds:.0f}s"
        if seconds < 3600:
            return f"{seconds / 60:.0f}m"
        return f"{seconds / 3600:.1f}h"

    return f"{fmt(quantiles.get('median'))} / {fmt(quantiles.get('p90'))}"


_STAT_COLUMNS = (
    "total",
    "open",
    "overdue",
    "breaches",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "ack_time",
    "resolve_time",
)


# Each rate beside the counts it divides, so a reader can check it by hand.
_RATE_COUNTS = {
    "response_rate": ("responded_in_sla", "response_due"),
    "resolution_rate": ("resolved", "resolution_due"),
    "satisfaction_rate": ("satisfied", "rated"),
}


def _stat_row(bucket: Mapping[str, Any]) -> list[str]:
    counts = bucket.get("counts") or {}
    rates = []
    for rate, (numerator, denominator) in _RATE_COUNTS.items():
        shown = _rate(bucket[rate])
        if counts.get(denominator):
            shown += f" ({counts.get(numerator, 0)}/{counts[denominator]})"
        rates.append(shown)
    return [
        str(bucket["total"]),
        str(bucket["open"]),
        str(bucket["overdue"]),
        str(bucket["breaches"]),
        *rates,
        _times(bucket["ack_time_s"]),
        _times(bucket["resolve_time_s"]),
    ]


def stats(lang: Lang, kpis: Mapping[str, Any]) -> RenderableType:
    """Return the KPIs: the window, then overall, per unit (by name), per tier, by state and
    the fallback-used count per committee (a directory-gap signal)."""
    span = kpis.get("window") or {}
    since, until = span.get("since"), span.get("until")
    heading = f"{word(lang, 'window')} [{since}, {until}) UTC" if since else word(lang, "all_time")
    tables: list[RenderableType] = [Text(heading, style="bold")]
    scopes: list[tuple[str, Mapping[str, Any]]] = [
        ("overall", {word(lang, "overall"): kpis["overall"]}),
        (
            "by_unit",
            {_named(UnitRef(id=u, name=b.get("name"))): b for u, b in kpis["by_unit"].items()},
        ),
        ("by_tier", {label(lang.value, "tier", t) or t: b for t, b in kpis["by_tier"].items()}),
    ]
    for title, buckets in scopes:
        table = Table(title=word(lang, title), title_justify="left")
        table.add_column(word(lang, "scope"), no_wrap=True)
        for column in _STAT_COLUMNS:
            table.add_column(word(lang, column), justify="right")
        for name, bucket in buckets.items():
            table.add_row(name, *_stat_row(bucket))
        tables.append(table)
    states = [(word(lang, st), n) for st, n in (kpis.get("by_state") or {}).items()]
    fallbacks = [
        (_named(UnitRef(id=c, name=f.get("name"))), f.get("count", 0))
        for c, f in (kpis.get("fallback_used") or {}).items()
    ]
    for title, rows in (("by_state", states), ("fallback_used", fallbacks)):
        if rows:
            table = Table(title=word(lang, title), title_justify="left")
            table.add_column(word(lang, "scope"))
            table.add_column(word(lang, "count"), justify="right")
            for name, count in rows:
                table.add_row(name, str(count))
            tables.append(table)
    return Group(*tables)


def dead_letters(lang: Lang, letters: Sequence[DeadLetter]) -> RenderableType:
    """Return the DLQ as a table: id, kind, stream, original entry, error, deliveries."""
    table = Table()
    table.add_column("id", no_wrap=True)
    for key in ("kind", "stream", "entry", "error", "deliveries"):
        table.add_column(word(lang, key))
    for letter in letters:
        record = letter.record
        deliveries = record.get("deliveries", record.get("attempts", "-"))
        table.add_row(
            letter.id,
            letter.kind,
            letter.stream or "-",
            str(record.get("entry_id") or record.get("event_id") or "-"),
            str(record.get("error") or "-")[:120],
            str(deliveries),
        )
    return table
