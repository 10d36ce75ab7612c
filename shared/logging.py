"""structlog set-up: one JSON line per step, PII redacted in every line (SPEC §8)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

# Mainland mobile numbers, resident ID numbers (18 chars, last may be X) and
# bank-card-like digit runs.  Digits inside longer runs (ids, timestamps) are left alone.
_PHONE = r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)"
_ID_NUMBER = r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"
# One pass over each string; most log values have no 11-digit run and fail fast.
_PII = re.compile(f"{_ID_NUMBER}|{_PHONE}")
_DIGIT_RUN = re.compile(r"\d{11}")
_PII_KEYS = frozenset({"phone", "name", "worker_name", "worker_phone", "id_number", "contact"})
REDACTED = "[redacted]"


def redact_text(text: str) -> str:
    """Return ``text`` with phone and ID numbers replaced."""
    if len(text) < 11 or not _DIGIT_RUN.search(text):
        return text
    return _PII.sub(REDACTED, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if k in _PII_KEYS and v else _redact_value(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def redact_pii(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Return the event dict with PII keys blanked and numbers masked in every string."""
    # Hot path (one call per log line): plain strings are checked in place, only nested
    # values take the recursive walk.
    for key, value in event_dict.items():
        if key in _PII_KEYS:
            if value:
                event_dict[key] = REDACTED
        elif type(value) is str:
            event_dict[key] = redact_text(value)
        elif isinstance(value, Mapping | list | tuple):
            event_dict[key] = _redact_value(value)
    return event_dict


def configure_logging(service: str, level: str = "INFO") -> None:
    """Write our logs and stdlib's (FastStream, uvicorn) to stdout as JSON lines.

    Our own lines take structlog's native path (a filtering bound logger writing straight
    to stdout, ~10× cheaper than routing through stdlib logging); foreign stdlib records
    are rendered by the same processors through ``ProcessorFormatter``.
    """
    level_no = logging.getLevelNamesMapping()[level.upper()]
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_pii,
    ]
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    structlog.configure(
        processors=[*shared_processors, structlog.processors.dict_tracebacks, renderer],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared_processors, structlog.processors.dict_tracebacks],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_no)
    # Per-message access logs cost throughput and say nothing ops need (FASTSTREAM-NOTES).
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str | None = None) -> Any:
    """Return a structlog logger; ``service`` is bound by ``configure_logging``."""
    return structlog.get_logger(name) if name else structlog.get_logger()
