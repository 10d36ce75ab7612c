"""Background polling loops: drain while there is work, idle briefly, survive Redis outages."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from shared.logging import get_logger

log = get_logger(__name__)

# How long a loop waits before it tries again while Redis is unreachable.
OUTAGE_BACKOFF_S = 1.0


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less when ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def poll(
    stop: asyncio.Event,
    step: Callable[[], Awaitable[int]],
    *,
    full: int,
    idle_s: float,
    failed: str,
    jitter: bool = False,
) -> None:
    """Run ``step`` until ``stop`` is set: again at once after a full batch, else after ``idle_s``.

    ``step`` returns how much it took; ``full`` is its batch size.  While Redis is
    unreachable the loop logs ``failed`` and retries after ``OUTAGE_BACKOFF_S``; ``jitter``
    spreads replicas' idle waits so they do not poll in lock-step.
    """
    while not stop.is_set():
        try:
            taken = await step()
        except (RedisError, OSError) as exc:
            log.warning(failed, error=f"{type(exc).__name__}: {exc}")
            await pause(stop, OUTAGE_BACKOFF_S)
            continue
        if taken < full:
            spread = 0.5 + random.random() if jitter else 1.0  # noqa: S311 -- not security
            await pause(stop, idle_s * spread)
