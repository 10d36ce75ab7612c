"""The CLI's words for people, zh-CN first, then English (``--lang``): ``shared/i18n.py``."""

from __future__ import annotations

from enum import StrEnum

from shared.i18n import TABLES


class Lang(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


def word(lang: Lang, key: str) -> str:
    """Return the word for ``key`` (a state, an event type or a field) in ``lang``."""
    words = TABLES[lang.value]
    for table in ("state", "event", "field"):
        found = words.get(table, {}).get(key)
        if found:
            return found
    if lang is Lang.ZH_CN:
        return key
    return key.removeprefix("grievance.").replace("_", " ")
