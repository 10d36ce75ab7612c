"""Small test helpers: poll with a deadline instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    timeout: float = 10.0,  # noqa: ASYNC109 -- a polling deadline, not a cancel scope
    interval: float = 0.02,
) -> T:
    """Return the first truthy result of ``probe``; fail with the last value at the deadline."""
    deadline = time.monotonic() + timeout
    last: T = await probe()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
        await asyncio.sleep(interval)
        last = await probe()
    return last
