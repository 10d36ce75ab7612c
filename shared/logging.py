"""structlog set-up: one JSON line per step, PII redacted in every line (SPEC §8).

Exceptions are rendered as dicts without local variables and masked like any other field.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer

from shared.privacy import REDACTED, mask

_PII_KEYS = frozenset(
    {
        "phone",
        "name",
        "worker_name",
        "worker_phone",
        "id_number",
        "contact",
        "email",
        "authorization",
        "api_key",
    }
)
# Values the pipeline itself wrote: nothing to mask, and the timestamp is on every line.
_SAFE_KEYS = frozenset({"timestamp", "level", "service"})
# Frames without local variables: structlog's default records them, unredacted, after the
# redaction step (the request's Authorization header, the body's phone number).
_EXCEPTIONS = structlog.processors.ExceptionRenderer(
    ExceptionDictTransformer(show_locals=False, max_frames=20)
)
# The stdlib logger handed to FastStream's broker (``make_broker``).  Not under
# ``faststream.``: that logger writes its own coloured text and stops propagation.
BROKER_LOGGER = "zhitong.broker"


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
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
    # values (the rendered exception among them) take the recursive walk.
    for key, value in event_dict.items():
        if key in _SAFE_KEYS:
            continue
        if key in _PII_KEYS:
            if value:
                event_dict[key] = REDACTED
        elif type(value) is str:
            event_dict[key] = mask(value)
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
        # Exceptions are rendered before redaction so that their messages are masked too.
        _EXCEPTIONS,
        redact_pii,
    ]
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    structlog.configure(
        processors=[*shared_processors, renderer],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_no)
    _adopt_stream_loggers()
    # Per-message access logs cost throughput and say nothing ops need (FASTSTREAM-NOTES).
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def _adopt_stream_loggers() -> None:
    """Send loggers that print on their own (FastStream's, at import) through the root's JSON.

    A logger with its own stream handler and ``propagate = False`` writes plain text lines
    past our formatter; without the handler and propagating, its records become JSON lines.
    """
    for logger in list(logging.root.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger):
            continue
        streams = [
            h
            for h in logger.handlers
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
        ]
        if streams:
            for handler in streams:
                logger.removeHandler(handler)
            logger.propagate = True


def get_logger(name: str | None = None) -> Any:
    """Return a structlog logger; ``service`` is bound by ``configure_logging``."""
    return structlog.get_logger(name) if name else structlog.get_logger()
