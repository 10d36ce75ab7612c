"""Secondary indexes of grievances for the list endpoint (SPEC §3)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.streams import Keys


def index_writes(
    keys: Keys, grievance_id: str, before: Mapping[str, str], after: Mapping[str, str]
) -> list[tuple[str, str, list[str]]]:
    """Return the index writes that move a grievance from ``before`` to ``after``."""
    return []
