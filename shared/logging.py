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
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_PII_KEYS = frozenset({"phone", "name", "worker_name", "worker_phone", "id_number", "contact"})
REDACTED = "[redacted]"


def redact_text(text: str) -> str:
    """Return ``text`` with phone and ID numbers replaced."""
    return _ID_NUMBER.sub(REDACTED, _PHONE.sub(REDACTED, text))


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
    for key, value in list(event_dict.items()):
        event_dict[key] = REDACTED if key in _PII_KEYS and value else _redact_value(value)
    return event_dict


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send structlog and stdlib logging (FastStream, uvicorn) to stdout as JSON lines."""
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.dict_tracebacks,
        redact_pii,
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Per-message access logs cost throughput and say nothing ops need (FASTSTREAM-NOTES).
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger; ``service`` is bound by ``configure_logging``."""
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
