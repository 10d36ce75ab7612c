"""Turn validation failures into errors that say exactly what is wrong (pure).

Both doors share one shape: HTTP answers ``422 {"detail": [FieldError…]}`` and the stream
writes the same errors (plus one readable line per error) to ``zt:intake.rejected``.  The
submitted value is never echoed back: it may be a worker's name or phone number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from shared.events import StreamGrievanceIn

FieldError = dict[str, Any]

_QUOTED = re.compile(r"'([^']*)'")
# Request-level prefixes FastAPI puts before the field path.
_REQUEST_PARTS = frozenset({"body", "query", "path", "header"})


def field_path(loc: Sequence[str | int]) -> str:
    """Return ``worker.id`` or ``attachments[2]`` for a pydantic ``loc``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(body)"


def _allowed(error: Mapping[str, Any]) -> list[str] | None:
    expected = (error.get("ctx") or {}).get("expected")
    if error.get("type") not in {"enum", "literal_error"} or not isinstance(expected, str):
        return None
    return _QUOTED.findall(expected) or None


def format_errors(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """Return JSON-safe field errors: ``loc``, ``field``, ``msg``, ``type`` and ``allowed``."""
    formatted: list[FieldError] = []
    for error in errors:
        loc = [p if isinstance(p, int) else str(p) for p in error.get("loc", ())]
        inner = loc[1:] if loc and loc[0] in _REQUEST_PARTS else loc
        item: FieldError = {
            "loc": loc,
            "field": field_path(inner),
            "msg": _message(error),
            "type": str(error.get("type", "value_error")),
        }
        if (allowed := _allowed(error)) is not None:
            item["allowed"] = allowed
        formatted.append(item)
    return formatted


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    msg = str(error.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        return "Unknown field (not part of the grievance schema; check the spelling)"
    if kind == "json_invalid":
        detail = (error.get("ctx") or {}).get("error")
        return f"Body is not valid JSON: {detail}" if detail else "Body is not valid JSON"
    return msg


def reasons(errors: Iterable[FieldError]) -> list[str]:
    """Return one line per error, e.g. ``"worker.id: Field required"``."""
    lines = []
    for error in errors:
        line = f"{error['field']}: {error['msg']}"
        if "allowed" in error and "Input should be" not in error["msg"]:
            line += f" (allowed: {', '.join(error['allowed'])})"
        lines.append(line)
    return lines


def parse_stream_grievance(body: Mapping[str, Any]) -> StreamGrievanceIn | list[FieldError]:
    """Return the validated stream grievance, or every error found in it."""
    try:
        return StreamGrievanceIn.model_validate(body)
    except ValidationError as exc:
        return format_errors(exc.errors(include_url=False, include_input=False))


def payload_error(reason: str) -> list[FieldError]:
    """Return the error list for an entry whose ``payload`` could not be read at all."""
    return [{"loc": ["payload"], "field": "payload", "msg": reason, "type": "payload_invalid"}]
