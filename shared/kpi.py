"""KPI counters kept incrementally at every change of a grievance (SPEC §7)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.streams import Keys


def kpi_writes(
    keys: Keys, before: Mapping[str, str], after: Mapping[str, str]
) -> list[tuple[str, str, list[str]]]:
    """Return the counter writes that move a grievance's KPI contribution to ``after``."""
    return []
