"""The delivery horizon: how long and how often one delivery is retried (no I/O).

A delivery is retried with capped exponential backoff and equal jitter until its horizon —
the time since its first attempt — has passed; only then is it given up (``failed``, to
``zt:dlq``).  The last wait is cut short so that one final attempt falls at the horizon.
Each level may set ``base``, ``cap`` and ``horizon``; a field left out is inherited:
the ``ZHITONG_RETRY_*`` settings, ``channels.retry.default``, ``channels.retry.<type>``,
then the endpoint's own ``retry``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace

from shared.config import Channels, ContactChannel, RetryPolicy
from shared.settings import NotifierSettings


def backoff_s(
    attempt: int, base: float, cap: float, rng: Callable[[], float] = random.random
) -> float:
    """Return the wait before retry ``attempt + 1``: exponential, capped, equal jitter."""
    delay = min(cap, base * 2.0 ** max(0, attempt - 1))
    # Equal jitter keeps at least half the backoff while spreading a burst of failures.
    return delay / 2 + rng() * delay / 2


@dataclass(frozen=True, slots=True)
class Schedule:
    """One channel's retry schedule, in seconds."""

    base_s: float
    cap_s: float
    horizon_s: float

    def next_delay(
        self,
        attempt: int,
        elapsed_s: float,
        retry_after_s: float | None = None,
        rng: Callable[[], float] = random.random,
    ) -> float | None:
        """Return the wait before the next attempt, or ``None`` once the horizon has passed.

        A receiver's ``Retry-After`` is honoured up to the cap, so a far-off date cannot
        park a delivery beyond what its schedule allows.
        """
        left = self.horizon_s - elapsed_s
        if left <= 0:
            return None
        delay = backoff_s(attempt, self.base_s, self.cap_s, rng)
        if retry_after_s is not None:
            delay = min(self.cap_s, max(delay, retry_after_s))
        return min(delay, left)

    def override(self, policy: RetryPolicy) -> Schedule:
        """Return this schedule with the fields ``policy`` sets replaced."""
        return replace(
            self,
            base_s=self.base_s if policy.base is None else policy.base,
            cap_s=self.cap_s if policy.cap is None else policy.cap,
            horizon_s=self.horizon_s if policy.horizon is None else policy.horizon,
        )


class Schedules:
    """Retry schedule of each contact channel, resolved once per endpoint."""

    def __init__(self, settings: NotifierSettings, channels: Channels) -> None:
        self._channels = channels
        self._default = Schedule(
            settings.retry_base_s, settings.retry_max_s, settings.retry_horizon_s
        ).override(channels.retry.default)
        retry = channels.retry
        self._by_type = {"webhook": retry.webhook, "gateway": retry.gateway, "log": retry.log}
        self._resolved: dict[tuple[str, str | None], Schedule] = {}

    def for_channel(self, channel: ContactChannel) -> Schedule:
        """Return the schedule for ``channel``: its endpoint's, else its type's, else default."""
        key = (channel.type, channel.endpoint)
        schedule = self._resolved.get(key)
        if schedule is None:
            schedule = self._default.override(self._by_type[channel.type])
            endpoint = self._endpoint_policy(channel)
            if endpoint is not None:
                schedule = schedule.override(endpoint)
            self._resolved[key] = schedule
        return schedule

    def _endpoint_policy(self, channel: ContactChannel) -> RetryPolicy | None:
        name = channel.endpoint or ""
        if channel.type == "webhook" and name in self._channels.webhooks:
            return self._channels.webhooks[name].retry
        if channel.type == "gateway" and name in self._channels.gateways:
            return self._channels.gateways[name].retry
        return None
