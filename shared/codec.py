"""The ``payload`` codec: every stream entry is plain JSON in one field (SPEC §3)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from redis.typing import EncodableT, FieldT

from shared.streams import PAYLOAD_FIELD

_PAYLOAD_KEY = PAYLOAD_FIELD.encode()


class PayloadError(ValueError):
    """Raise when a stream entry has no readable ``payload`` JSON object."""


def encode(body: BaseModel | dict[str, Any]) -> bytes:
    """Return the JSON bytes for a ``payload`` field (UTF-8, Chinese kept readable)."""
    if isinstance(body, BaseModel):
        return body.model_dump_json(exclude_none=True).encode()
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def fields(body: BaseModel | dict[str, Any]) -> dict[FieldT, EncodableT]:
    """Return the field mapping to pass to ``XADD``."""
    return {PAYLOAD_FIELD: encode(body)}


def decode(entry_fields: dict[bytes, bytes] | dict[str, Any]) -> dict[str, Any]:
    """Return the JSON object in an entry's ``payload`` field or raise ``PayloadError``."""
    raw = entry_fields.get(_PAYLOAD_KEY)  # type: ignore[call-overload]
    if raw is None:
        raw = entry_fields.get(PAYLOAD_FIELD)  # type: ignore[call-overload]
    if raw is None:
        present = sorted(
            k.decode(errors="replace") if isinstance(k, bytes) else str(k) for k in entry_fields
        )
        raise PayloadError(f"entry has no '{PAYLOAD_FIELD}' field (fields: {present})")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        body = json.loads(text)
    except UnicodeDecodeError as exc:
        raise PayloadError(f"'{PAYLOAD_FIELD}' is not UTF-8: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"'{PAYLOAD_FIELD}' is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if not isinstance(body, dict):
        raise PayloadError(f"'{PAYLOAD_FIELD}' must be a JSON object, got {type(body).__name__}")
    return body


def payload_bytes(entry_fields: dict[bytes, bytes]) -> bytes:
    """Return the raw ``payload`` bytes of an entry (for pydantic's fast JSON validation)."""
    raw = entry_fields.get(_PAYLOAD_KEY)
    if raw is None:
        decode(entry_fields)  # raises the explanatory PayloadError
        raise PayloadError(f"entry has no '{PAYLOAD_FIELD}' field")
    return raw


def raw_fields_text(entry_fields: dict[bytes, bytes]) -> dict[str, str]:
    """Return an entry's fields as text, for rejection and DLQ records."""
    return {
        k.decode(errors="replace"): v.decode(errors="replace") for k, v in entry_fields.items()
    }
