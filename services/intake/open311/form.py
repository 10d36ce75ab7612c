"""``POST requests``: read a GeoReport report (form or JSON) and make it a grievance.

The fields are GeoReport's; the service definition's attributes come as
``attribute[code]=value`` (``attribute[code][]`` for several values) or, in a JSON body,
as an ``attribute`` object.  ``where_exactly`` joins the address; ``photo_url`` joins the
photos after ``media_url``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from services.intake.open311.catalogue import (
    ATTRIBUTES,
    CODES,
    PHOTO_URL,
    WHERE_EXACTLY,
    attribute_codes,
    service_name,
)
from shared import codec
from shared.events import MAX_IDEMPOTENCY_KEY, Category, GrievanceIn
from shared.privacy import pseudonym

MAX_FORM_FIELDS = 50
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


class FormError(ValueError):
    """Raise when a report cannot be read; the message is the reporter's error text."""


@dataclass(slots=True)
class Report:
    """GeoReport report as posted: plain fields and attribute values."""

    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        """Return a field's value, an empty one counting as absent (GeoReport's rule)."""
        return self.fields.get(name) or None


def _from_pairs(pairs: list[tuple[str, str]]) -> Report:
    report = Report()
    for name, value in pairs:
        match = _ATTRIBUTE.match(name)
        if match:
            report.attributes.setdefault(match[1], []).append(value)
        else:
            report.fields[name] = value
    return report


def _from_json(data: dict[str, Any]) -> Report:
    raw = data.pop("attribute", None) or {}
    if not isinstance(raw, dict):
        raise FormError("attribute must be an object of attribute codes to values")
    attributes = {
        str(code): [str(v) for v in value] if isinstance(value, list) else [str(value)]
        for code, value in raw.items()
        if value is not None
    }
    fields = {k: str(v) for k, v in data.items() if v is not None}
    return Report(fields, attributes)


def read_report(raw: bytes, content_type: str) -> Report:
    """Return the report in a request body (form-encoded or JSON), or raise ``FormError``."""
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    try:
        text = raw.decode("utf-8")
        if media == "application/json":
            # codec.loads refuses recursion bombs (``[[[[…``) before json would overflow.
            data = codec.loads(text or "{}")
            if not isinstance(data, dict):
                raise FormError("body must be a JSON object")
            return _from_json(data)
        pairs = parse_qsl(text, keep_blank_values=False, max_num_fields=MAX_FORM_FIELDS)
        return _from_pairs(pairs)
    except FormError:
        raise
    except ValueError as exc:  # UnicodeDecodeError, JSONDecodeError, PayloadError
        raise FormError(f"unreadable body: {exc}") from exc


def idempotency_key(value: str | None) -> str | None:
    """Return the ``Idempotency-Key`` header's value, or raise ``FormError`` if unusable."""
    if value is None:
        return None
    if not value.strip() or len(value) > MAX_IDEMPOTENCY_KEY:
        raise FormError(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    return value


def check(report: Report) -> None:
    """Raise ``FormError`` for what GeoReport itself requires (location, known attributes).

    An unknown ``service_code`` is not checked here: the door answers it with a 404.
    """
    if not (report.get("lat") and report.get("long")) and not report.get("address_string"):
        raise FormError("a location is required: lat and long, or address_string")
    code = report.get("service_code")
    declared = set(attribute_codes(Category(code))) if code in CODES else set(ATTRIBUTES)
    unknown = sorted(set(report.attributes) - declared)
    if unknown:
        where = f"service '{code}'" if code else "any service"
        raise FormError(f"attribute {', '.join(unknown)} is not defined for {where}")
    several = [c for c, values in report.attributes.items() if len(values) > 1]
    if several:
        raise FormError(f"attribute {', '.join(sorted(several))} takes one value")


def _address(report: Report) -> str | None:
    exactly = (report.attributes.get(WHERE_EXACTLY) or [""])[0].strip()
    address = report.get("address_string")
    if address and exactly:
        return f"{address}（{exactly}）"
    return address or exactly or None


def to_grievance(report: Report, secret: str) -> GrievanceIn:
    """Return the grievance for a checked report (raises ``ValidationError``)."""
    # A reporter without an account is still one person per device/email/phone; the id is
    # keyed with the deployment's secret, so it cannot be reversed by hashing phone numbers.
    contact = report.get("email") or report.get("phone") or ""
    alias = pseudonym(secret, contact, prefix="open311:") if contact else ""
    worker_id = report.get("account_id") or report.get("device_id") or alias or "open311:public"
    name = " ".join(p for p in (report.get("first_name"), report.get("last_name")) if p) or None
    location: dict[str, Any] = {"address": _address(report)}
    if "lat" in report.fields or "long" in report.fields:
        location.update(lat=report.fields.get("lat"), lon=report.fields.get("long"))
    photos = [report.get("media_url"), *report.attributes.get(PHOTO_URL, [])]
    code = report.get("service_code")
    body: dict[str, Any] = {
        "worker": {"id": worker_id, "name": name, "phone": report.get("phone")},
        "category": code,
        "description": report.get("description") or service_name(code or ""),
        "location": {k: v for k, v in location.items() if v is not None},
        "attachments": [url for url in photos if url],
    }
    return GrievanceIn.model_validate(body)
