"""The one masking function for personal data in free text (SPEC §8, issue 11).

Log lines, notification texts to audiences that may not see the worker, retention's
anonymised texts and keyed pseudonyms all come from here, so a format that is masked in one
place is masked in every place.  Covered: mainland mobile numbers (with or without +86,
grouped by spaces, dashes or dots, full-width digits), landline numbers with an area code,
15- and 18-digit resident ID numbers (with or without spaces), e-mail addresses and bearer
credentials.  Tracking numbers, timestamps, amounts and other short digit runs survive.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

REDACTED = "[redacted]"

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map one-to-one onto ASCII, so
# a match in the folded text has the same span in the original.
_FOLD = {**{cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}, 0x3000: 0x20}
_SEP = r"[ \-.·]?"
_NO_DIGIT_BEFORE = r"(?<![0-9A-Za-z])"
_NO_DIGIT_AFTER = r"(?![0-9])"
_MOBILE = rf"(?:(?:\+|00)?86{_SEP})?1[3-9][0-9]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}"
_LANDLINE = r"\(?0[1-9][0-9]{1,2}\)?[ \-]?[1-9][0-9]{6,7}"
# 18 digits (last may be X) in 6-8-4 with optional spaces; 15-digit (pre-1999) ids in 6-6-3
# must carry a plausible birth date (YYMMDD) so that other 15-digit runs survive.
_ID18 = r"[1-9][0-9]{5} ?[0-9]{8} ?[0-9]{3}[0-9Xx]"
_ID15 = r"[1-9][0-9]{5} ?[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]) ?[0-9]{3}"
_NUMBERS = re.compile(
    rf"{_NO_DIGIT_BEFORE}(?:{_ID18}(?![0-9A-Za-z])|(?:{_ID15}|{_MOBILE}|{_LANDLINE}){_NO_DIGIT_AFTER})"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_BEARER = re.compile(r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/=\-]+)")
# Cheap pre-check: every masked form has three digits in a row, an @ or a credential.
_CANDIDATE = re.compile(r"[0-9０-９]{3}|[@＠]|(?i:bearer|basic)")


def mask(text: str) -> str:
    """Return ``text`` with phone, ID numbers, e-mail addresses and credentials replaced."""
    if len(text) < 7 or not _CANDIDATE.search(text):
        return text
    folded = text.translate(_FOLD)
    spans = [m.span() for m in _NUMBERS.finditer(folded)]
    spans += [m.span() for m in _EMAIL.finditer(folded)]
    spans += [m.span(1) for m in _BEARER.finditer(folded)]
    if not spans:
        return text
    parts: list[str] = []
    at = 0
    for start, end in sorted(spans):
        if start < at:  # overlapping matches: the earlier one already covers it
            at = max(at, end)
            continue
        parts.append(text[at:start])
        parts.append(REDACTED)
        at = end
    parts.append(text[at:])
    return "".join(parts)


def pseudonym(secret: str, value: str, *, prefix: str = "anon-", length: int = 16) -> str:
    """Return a keyed, stable pseudonym for ``value`` (HMAC-SHA256 with ``secret``).

    Unlike a bare hash, it cannot be reversed by hashing every candidate phone number
    without the secret.
    """
    digest = hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()
    return prefix + digest[:length]


def pseudonym_secret(configured: str | None, private_material: Iterable[str]) -> str:
    """Return the configured pseudonym secret, else one derived from private config values.

    The fallback (the API keys' hashes, which live only in the private config) keeps
    pseudonyms keyed when an operator forgot the setting; set ``pseudonym_secret`` so that
    rotating a key does not change every pseudonym.
    """
    if configured:
        return configured
    material = "\n".join(sorted(private_material)) or "zhitong"
    return hashlib.sha256(material.encode()).hexdigest()
