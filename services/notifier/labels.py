"""Time formats per locale, for the templates (reason codes: ``shared.i18n.reason``).

The words themselves live in ``shared/i18n.py`` (one vocabulary for templates, CLI, console).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from shared.i18n import DEFAULT_LOCALE

# Workers and units are in China (no DST): show every time in Beijing time.
BEIJING = timezone(timedelta(hours=8))


def normalise(locale: str | None) -> str:
    """Return a supported locale for ``locale`` (``zh``, ``zh-Hans`` → zh-CN; ``en-GB`` → en)."""
    if not locale:
        return DEFAULT_LOCALE
    lowered = locale.lower()
    if lowered.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


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
