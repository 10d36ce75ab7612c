"""The ``payload`` codec: every stream entry is plain JSON in one field (SPEC §3)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from redis.typing import EncodableT, FieldT

from shared.streams import PAYLOAD_FIELD

_PAYLOAD_KEY = PAYLOAD_FIELD.encode()
# No message of ours nests deeper than a handful of levels; a deeper one is an attack on
# the parser (a recursion bomb), refused before it is parsed.
MAX_DEPTH = 32
_OPENERS = frozenset(b"[{")
_CLOSERS = frozenset(b"]}")


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


def check_depth(raw: bytes | str, limit: int = MAX_DEPTH) -> None:
    """Raise ``PayloadError`` when JSON text nests arrays/objects deeper than ``limit``."""
    data = raw.encode() if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= limit:
        return  # the common case: too few brackets to be too deep, no scan needed
    depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in _OPENERS:
            depth += 1
            if depth > limit:
                raise PayloadError(f"JSON nests deeper than {limit} levels")
        elif byte in _CLOSERS:
            depth -= 1


def loads(raw: bytes | str) -> Any:
    """Return parsed JSON, refusing recursion bombs with ``PayloadError`` (never RecursionError)."""
    check_depth(raw)
    try:
        return json.loads(raw)
    except RecursionError as exc:  # belt and braces: the depth check should have caught it
        raise PayloadError(f"JSON nests too deeply to parse (limit {MAX_DEPTH})") from exc


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
        body = loads(text)
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
    check_depth(raw)
    return raw


def raw_fields_text(entry_fields: dict[bytes, bytes]) -> dict[str, str]:
    """Return an entry's fields as text, for rejection and DLQ records."""
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in entry_fields.items()}
