"""The delivery horizon: backoff, the cut at the horizon, Retry-After, the config levels."""

from __future__ import annotations

from typing import Any

import pytest

from services.notifier.horizon import Schedule, Schedules, backoff_s
from shared.config import Channels, ContactChannel
from shared.settings import NotifierSettings

MAX = 1.0  # an rng that always draws the top of the jitter range


def test_backoff_doubles_with_jitter_and_caps() -> None:
    """Backoff doubles per attempt, keeps at least half of it, and never passes the cap."""
    assert [backoff_s(a, 1.0, 300.0, rng=lambda: 0.0) for a in (1, 2, 3, 4)] == [0.5, 1, 2, 4]
    assert [backoff_s(a, 1.0, 300.0, rng=lambda: MAX) for a in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff_s(20, 1.0, 300.0, rng=lambda: MAX) == 300.0


def test_default_schedule_keeps_trying_for_a_day() -> None:
    """With the default settings a delivery is retried for 24 h, not given up after 6 tries."""
    schedule = Schedules(NotifierSettings(), Channels()).for_channel(ContactChannel(type="webhook"))
    assert schedule.horizon_s >= 86400
    elapsed, attempt = 0.0, 1
    while (delay := schedule.next_delay(attempt, elapsed, rng=lambda: MAX)) is not None:
        elapsed += delay
        attempt += 1
    assert elapsed == pytest.approx(86400)
    assert attempt > 100  # a capped backoff: about one try per cap interval once it is reached


def test_last_wait_is_cut_to_end_at_the_horizon_then_it_gives_up() -> None:
    """The wait that would cross the horizon ends at it; after that there is no next try."""
    schedule = Schedule(base_s=1.0, cap_s=60.0, horizon_s=10.0)
    assert schedule.next_delay(5, elapsed_s=7.0, rng=lambda: MAX) == 3.0
    assert schedule.next_delay(6, elapsed_s=10.0) is None
    assert schedule.next_delay(1, elapsed_s=11.0) is None


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    """Retry-After lengthens a wait, but never beyond the schedule's cap."""
    schedule = Schedule(base_s=1.0, cap_s=30.0, horizon_s=3600.0)
    assert schedule.next_delay(1, 0.0, retry_after_s=12.0, rng=lambda: MAX) == 12.0
    assert schedule.next_delay(1, 0.0, retry_after_s=86400.0, rng=lambda: MAX) == 30.0


def _channels(**raw: Any) -> Channels:
    return Channels.model_validate(raw)


def test_policy_levels_override_field_by_field() -> None:
    """Settings, then channels.retry.default, the channel type, the endpoint: each field apart."""
    settings = NotifierSettings(retry_base_s=2.0, retry_max_s=100.0, retry_horizon_s=3600.0)
    channels = _channels(
        retry={"default": {"horizon": "2d"}, "gateway": {"base": "30s"}},
        webhooks={"fast": {"url": "http://rx", "secrets": ["s"], "retry": {"cap": 0.5}}},
        gateways={"sms": {"url": "http://sms", "retry": {"horizon": "6h"}}},
    )
    schedules = Schedules(settings, channels)
    fast = schedules.for_channel(ContactChannel(type="webhook", endpoint="fast"))
    sms = schedules.for_channel(ContactChannel(type="gateway", endpoint="sms"))
    log = schedules.for_channel(ContactChannel(type="log"))
    assert fast == Schedule(base_s=2.0, cap_s=0.5, horizon_s=172800.0)
    assert sms == Schedule(base_s=30.0, cap_s=100.0, horizon_s=21600.0)
    assert log == Schedule(base_s=2.0, cap_s=100.0, horizon_s=172800.0)


@pytest.mark.parametrize("bad", [0, -1, "soon", True])
def test_a_retry_duration_must_be_positive(bad: object) -> None:
    """A zero, negative or unreadable duration in channels.retry is a config error."""
    with pytest.raises(ValueError, match="duration"):
        _channels(retry={"webhook": {"horizon": bad}})
