"""Rich tables for the CLI's human output: one grievance, the KPIs, the DLQ."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table

from shared.i18n import label
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


def grievance(
    lang: Lang, grievance_id: str, record: Mapping[str, Any], timeline: Sequence[Mapping[str, Any]]
) -> RenderableType:
    """Return one grievance: a field table, then its timeline."""
    locale = lang.value
    doc = record.get("doc") or {}
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    rows: list[tuple[str, object]] = [
        ("id", grievance_id),
        ("tracking_no", record.get("tracking_no")),
        ("state", word(lang, str(record.get("state", "")))),
        ("category", label(locale, "category", record.get("category"))),
        ("urgency", label(locale, "urgency", record.get("urgency"))),
        ("assignee", record.get("assignee")),
        ("tier", label(locale, "tier", record.get("tier"))),
        ("source", record.get("source")),
        ("submitted_at", when(record.get("submitted_at"))),
        ("ack_due", when(record.get("ack_due"))),
        ("resolve_due", when(record.get("resolve_due"))),
        ("description", doc.get("description")),
    ]
    for key, value in rows:
        facts.add_row(word(lang, key), str(value) if value not in (None, "") else "-")
    events = Table(title=word(lang, "timeline"), title_justify="left")
    for key in ("time", "event", "state", "assignee", "actor", "note"):
        events.add_column(word(lang, key))
    for event in timeline:
        actor = event.get("actor") or {}
        note = event.get("reason") or (event.get("data") or {}).get("note") or ""
        events.add_row(
            when(event.get("at")),
            word(lang, str(event.get("type", ""))),
            word(lang, str(event.get("state", ""))),
            str(event.get("assignee") or "-"),
            f"{actor.get('id')} ({actor.get('role')})" if actor else "-",
            label(locale, "reason", note) or "",
        )
    return Group(facts, events)


def _rate(value: object) -> str:
    return f"{float(value) * 100:.1f}%" if isinstance(value, int | float) else "-"


def _times(quantiles: Mapping[str, Any]) -> str:
    def fmt(seconds: object) -> str:
        if not isinstance(seconds, int | float):
            return "-"
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


def _stat_row(bucket: Mapping[str, Any]) -> list[str]:
    return [
        str(bucket["total"]),
        str(bucket["open"]),
        str(bucket["overdue"]),
        str(bucket["breaches"]),
        _rate(bucket["response_rate"]),
        _rate(bucket["resolution_rate"]),
        _rate(bucket["satisfaction_rate"]),
        _times(bucket["ack_time_s"]),
        _times(bucket["resolve_time_s"]),
    ]


def stats(lang: Lang, kpis: Mapping[str, Any]) -> RenderableType:
    """Return the KPIs as three tables: overall, per unit, per tier."""
    tables = []
    scopes: list[tuple[str, Mapping[str, Any]]] = [
        ("overall", {word(lang, "overall"): kpis["overall"]}),
        ("by_unit", kpis["by_unit"]),
        ("by_tier", {label(lang.value, "tier", t) or t: b for t, b in kpis["by_tier"].items()}),
    ]
    for title, buckets in scopes:
        table = Table(title=word(lang, title), title_justify="left")
        table.add_column(word(lang, "scope"))
        for column in _STAT_COLUMNS:
            table.add_column(word(lang, column), justify="right")
        for name, bucket in buckets.items():
            table.add_row(name, *_stat_row(bucket))
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
