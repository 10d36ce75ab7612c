"""Losing a race to commit: retry on fresh records after a short, growing, random pause.

A commit that lost a race (another replica or a timer committed to the grievance first)
retries on fresh records, after a short random pause that grows with each loss (so racing
replicas spread out); past ``MAX_ATTEMPTS`` the step gives up rather than spinning: an
entry is left pending (the reclaimer retries it later), a timer to its lease's end.
"""

from __future__ import annotations

import asyncio
import random

MAX_ATTEMPTS = 32
BACKOFF_S = 0.001


class ContendedError(RuntimeError):
    """Raised when a grievance changed under every attempt to commit a step."""


async def lost_race(attempt: int) -> None:
    """Pause before attempt number ``attempt`` (1, 2, …) of a step that lost a race."""
    await asyncio.sleep(random.uniform(0, BACKOFF_S * 2 ** min(attempt, 6)))  # noqa: S311
