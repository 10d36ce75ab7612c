"""Render notification texts from Jinja2 files: ``templates/<locale>/<event>.<audience>.j2``.

zh-CN is the source language; a template missing in another locale falls back to zh-CN so
a new event type never goes out silent.  Templates get a flat, pre-formatted context (dates
already in the reader's words), so they stay plain sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateNotFound

from services.notifier import labels
from services.notifier.recipients import Audience, Directory, GrievanceView, Recipient
from shared.events import Event, EventType
from shared.i18n import DEFAULT_LOCALE, label, reason
from shared.privacy import mask

TEMPLATE_DIR = Path(__file__).parent / "templates"
SUMMARY_CHARS = 60


class TemplateMissingError(LookupError):
    """Raise when neither the locale nor zh-CN has a template for an event and audience."""


@cache
def environment() -> Environment:
    """Return the shared Jinja environment (plain text: no HTML escaping)."""
    return Environment(  # noqa: S701 — texts go to SMS/IM/JSON, never into HTML
        loader=FileSystemLoader(TEMPLATE_DIR),
        undefined=StrictUndefined,  # a typo in a template fails the template test
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # templates ship with the code: no stat() per render
    )


@cache
def _template(env: Environment, locale: str, name: str) -> Template:
    """Return ``<locale>/<name>`` or its zh-CN fallback, looked up once per process."""
    try:
        return env.select_template([f"{locale}/{name}", f"{DEFAULT_LOCALE}/{name}"])
    except TemplateNotFound as exc:
        raise TemplateMissingError(f"no template {name} in {locale} or zh-CN") from exc


def template_stem(event_type: EventType | str) -> str:
    """Return the file stem for an event type: ``grievance.assigned`` → ``assigned``."""
    text = str(event_type.value if isinstance(event_type, EventType) else event_type)
    return text.removeprefix("grievance.").replace(".", "_")


def render_named(stem: str, audience: str, locale: str, context: dict[str, Any]) -> str:
    """Return the text of ``<stem>.<audience>.j2`` in ``locale`` (zh-CN when missing)."""
    loc = labels.normalise(locale)
    template = _template(environment(), loc, f"{stem}.{audience}.j2")
    lines = (line.strip() for line in template.render(**context).splitlines())
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True, slots=True)
class Rendered:
    """One rendered message: its text and the locale it was written in."""

    text: str
    locale: str


def render(
    event: Event,
    grievance: GrievanceView,
    directory: Directory,
    recipient: Recipient,
    *,
    locale: str,
    reveal_worker: bool,
) -> Rendered:
    """Return the message for ``recipient``; ``reveal_worker=False`` hides name and phone."""
    loc = labels.normalise(locale)
    context = event_context(
        event, grievance, directory, recipient, locale=loc, reveal_worker=reveal_worker
    )
    return Rendered(render_named(template_stem(event.type), recipient.audience, loc, context), loc)


def event_context(
    event: Event,
    grievance: GrievanceView,
    directory: Directory,
    recipient: Recipient,
    *,
    locale: str,
    reveal_worker: bool,
) -> dict[str, Any]:
    """Return every name a template may use; absent facts are ``None``, never missing."""
    data = event.data
    departments = [directory.name_of(str(d)) or str(d) for d in data.get("departments") or []]
    # Free texts quote the worker; whoever may not see the worker reads them masked.
    private = recipient.audience is not Audience.WORKER and not _shows_worker(
        grievance, recipient, reveal_worker
    )
    text = mask_text if private else _as_is
    sep = "、" if locale == DEFAULT_LOCALE else ", "
    return {
        "audience": recipient.audience.value,
        "recipient_name": recipient.name,
        "tracking_no": event.tracking_no or grievance.tracking_no or event.grievance_id,
        "grievance_id": event.grievance_id,
        "state": event.state.value,
        "tier": label(locale, "tier", event.tier),
        "assignee_name": data.get("assignee_name")
        or directory.name_of(event.assignee)
        or label(locale, "unit", "assignee"),
        "previous_name": directory.name_of(event.previous_assignee),
        "ack_due": labels.when(locale, event.ack_due_at),
        "resolve_due": labels.when(locale, event.resolve_due_at),
        "at": labels.when(locale, event.at),
        "reason": reason(locale, event.reason),
        "note": text(data.get("note")),
        "resolution": text(data.get("resolution")),
        "rating": data.get("rating"),
        "comment": text(data.get("comment")),
        "departments": sep.join(departments) or None,
        "new_deadline": labels.when(locale, data.get("new_deadline")),
        "warning_for": label(locale, "deadline", data.get("warning_for")),
        "warning_due": labels.when(
            locale, event.ack_due_at if data.get("warning_for") == "ack" else event.resolve_due_at
        ),
        "reminder": bool(data.get("reminder")),
        "feedback_closes_at": labels.when(locale, event.feedback_closes_at),
        "duplicate_of": data.get("duplicate_of"),
        "refused_action": label(locale, "action", data.get("refused_action")),
        "refusal": label(locale, "refusal", data.get("refusal_kind")),
        # A reclassification carries the corrected values; the submitted document the old.
        "category": label(locale, "category", data.get("category") or grievance.category),
        "urgency": label(locale, "urgency", data.get("urgency") or grievance.urgency),
        "deadline_moved": bool(data.get("deadline_moved")),
        "summary": text(_summary(grievance)),
        **_worker_identity(grievance, recipient, locale, reveal_worker),
    }


def _summary(grievance: GrievanceView) -> str | None:
    text = grievance.title or grievance.description
    if not text:
        return None
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def mask_text(value: object) -> str | None:
    """Return a free text with phone, ID numbers and e-mail masked (``None`` stays)."""
    return mask(str(value)) if value is not None else None


def _as_is(value: object) -> Any:
    return value


def _shows_worker(grievance: GrievanceView, recipient: Recipient, reveal_worker: bool) -> bool:
    # Only assignees ever see who the worker is, and only when the worker did not ask to
    # stay anonymous and the channel is not the development log (which must hold no PII).
    return (
        reveal_worker
        and not grievance.anonymous
        and recipient.audience is not Audience.WORKER
        and recipient.audience is not Audience.ACTOR
    )


def _worker_identity(
    grievance: GrievanceView, recipient: Recipient, locale: str, reveal_worker: bool
) -> dict[str, str | None]:
    show = _shows_worker(grievance, recipient, reveal_worker)
    fallback = label(locale, "anonymous", "worker" if grievance.anonymous else "named")
    return {
        "worker": (grievance.worker_name if show and grievance.worker_name else fallback),
        "worker_phone": grievance.worker_phone if show else None,
    }
