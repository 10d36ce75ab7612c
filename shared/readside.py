"""The read side's writes, derived from a grievance's change: list indexes and KPI counters.

Every writer of a grievance record (intake's ``accept.lua``, the router's ``commit_many.lua``)
calls ``derived_writes`` with the fields before and after its change and commits what it
returns in the same script: an index or a counter can never disagree with the record.
Both parts are pure functions of the two field maps, so a from-scratch recomputation over
stored records yields the same indexes and counters (see ``tests/property``).
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.indexes import index_writes
from shared.kpi import kpi_writes
from shared.streams import Keys

# One write: a Redis command, its key and its arguments (text).
Write = tuple[str, str, list[str]]


def derived_writes(
    keys: Keys, grievance_id: str, before: Mapping[str, str], after: Mapping[str, str]
) -> list[Write]:
    """Return the index and counter writes that move a grievance from ``before`` to ``after``.

    ``before`` is empty for a grievance being created.
    """
    return [
        *index_writes(keys, grievance_id, before, after),
        *kpi_writes(keys, before, after),
    ]
