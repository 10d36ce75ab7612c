"""Identifiers: time-sortable URL-safe grievance ids and short human tracking numbers."""

from __future__ import annotations

import secrets
from datetime import datetime

from ulid import ULID

# Crockford base32 without I, L, O, U: nothing a worker can misread on a receipt.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_grievance_id() -> str:
    """Return a new ULID (26 chars, sorts by creation time, URL-safe)."""
    return str(ULID())


def new_action_id() -> str:
    return str(ULID())


def tracking_no(at: datetime) -> str:
    """Return e.g. ``ZT-261123-7K3F9QX2``: the day plus 40 random bits.

    Uniqueness is enforced where it is stored (the tracking index); a clash is retried.
    """
    # 40 random bits in one read, 5 bits per character (was one system call per character).
    bits = int.from_bytes(secrets.token_bytes(5), "big")
    suffix = "".join(_ALPHABET[(bits >> shift) & 31] for shift in range(35, -1, -5))
    return f"ZT-{at:%y%m%d}-{suffix}"
