"""Time formats per locale and the router's reason codes in words, for the templates.

The words themselves live in ``shared/i18n.py`` (one vocabulary for templates, CLI, console).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from shared.i18n import DEFAULT_LOCALE, label

# Workers and units are in China (no DST): show every time in Beijing time.
BEIJING = timezone(timedelta(hours=8))

_RATING_REASON = re.compile(r"rating (\d)")


def normalise(locale: str | None) -> str:
    """Return a supported locale for ``locale`` (``zh``, ``zh-Hans`` → zh-CN; ``en-GB`` → en)."""
    if not locale:
        return DEFAULT_LOCALE
    lowered = locale.lower()
    if lowered.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def reason(locale: str, text: str | None) -> str | None:
    """Return a router reason code in words (``ack_overdue`` → 超时未响应); free text as is."""
    if not text:
        return None
    match = _RATING_REASON.fullmatch(text)
    if match:
        return (label(locale, "reason", "rating") or "").format(n=match.group(1))
    return label(locale, "reason", text)


@lru_cache(maxsize=4096)  # a batch's events share deadlines and instants per locale
def when(locale: str, moment: datetime | str | None) -> str | None:
    """Return a deadline as people read it: ``11月24日 18:30`` / ``24 Nov 18:30 (UTC+8)``."""
    if moment is None or moment == "":
        return None
    if isinstance(moment, str):
        try:
            parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment  # show what the router sent rather than nothing
    else:
        parsed = moment
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        local = parsed.astimezone(BEIJING)
    except OverflowError:  # 9999-12-31T23:59Z has no UTC+8 day: show it as sent
        return parsed.isoformat()
    if locale == "en":
        return f"{local:%d %b %H:%M} (UTC+8)"
    return f"{local.month}月{local.day}日 {local:%H:%M}"
