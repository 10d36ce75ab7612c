"""Quiet hours, rate-limit windows and digests: the pure decisions of notifier pacing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from services.notifier.channels import Job
from services.notifier.pacing import (
    DIGEST_MAX_LINES,
    Held,
    Pace,
    digest_id,
    digest_job,
    pace_for,
    plan,
    quiet_until,
    to_ms,
    window_frees_at,
)
from shared.config import Config, ContactChannel, NotifierPacing, QuietHours, RateLimit

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = QuietHours(start="22:00", end="07:00", timezone="Asia/Shanghai")


def local(hour: int, minute: int = 0, day: int = 24, zone: ZoneInfo = SHANGHAI) -> datetime:
    """Return a November 2025 local time as an aware datetime."""
    return datetime(2025, 11, day, hour, minute, tzinfo=zone)


def job(i: int = 0, **fields: object) -> Job:
    """Return a first-attempt event job for worker w-1 on the log channel."""
    values: dict[str, object] = {
        "job_id": f"msg_{i}",
        "event_id": f"e{i}",
        "grievance_id": "g1",
        "event_type": "action.refused",
        "tracking_no": "ZT-251124-AAAA",
        "recipient": "worker:w-1",
        "audience": "actor",
        "channel": ContactChannel(type="log"),
        "channel_label": "log",
        "locale": "zh-CN",
        "text": "您的“受理”未被执行。",
        "urgency": "normal",
        **fields,
    }
    return Job.model_validate(values)


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (local(3), local(7)),
        (local(23, 30), local(7, day=25)),
        (local(22), local(7, day=25)),
        (local(0), local(7)),
        (local(6, 59), local(7)),
        (local(7), None),
        (local(12), None),
        (local(21, 59), None),
    ],
)
def test_overnight_quiet_hours(now: datetime, until: datetime | None) -> None:
    """22:00–07:00 holds from 22:00 (inclusive) to 07:00 (exclusive), across midnight."""
    assert quiet_until(now, NIGHT) == until


def test_quiet_hours_are_judged_in_the_recipients_zone() -> None:
    """03:00 in Shanghai is 19:00 UTC the day before; the period ends at 07:00 Shanghai."""
    now = datetime(2025, 11, 23, 19, 0, tzinfo=UTC)
    assert quiet_until(now, NIGHT) == datetime(2025, 11, 23, 23, 0, tzinfo=UTC)
    london = QuietHours(start="22:00", end="07:00", timezone="Europe/London")
    assert quiet_until(now, london) is None


def test_daytime_quiet_hours_do_not_wrap() -> None:
    """A 12:00–14:00 period holds only between those times of the same day."""
    lunch = QuietHours(start="12:00", end="14:00", timezone="Asia/Shanghai")
    assert quiet_until(local(13), lunch) == local(14)
    assert quiet_until(local(11, 59), lunch) is None
    assert quiet_until(local(14), lunch) is None


def test_quiet_hours_end_in_local_time_across_a_dst_change() -> None:
    """In New York the night the clocks go back still ends at 07:00 local (12:00 UTC)."""
    ny = QuietHours(start="22:00", end="07:00", timezone="America/New_York")
    now = datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # 01:30 EDT, before the change
    assert quiet_until(now, ny) == datetime(2025, 11, 2, 12, 0, tzinfo=UTC)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/Los_Angeles"]),
)
def test_a_quiet_period_always_ends_within_a_day_at_its_end_time(
    naive: datetime, zone: str
) -> None:
    """Whenever quiet_until answers, it is after now, within 24 h, at the local end time."""
    quiet = QuietHours(start="22:00", end="07:00", timezone=zone)
    now = naive.replace(tzinfo=UTC)
    until = quiet_until(now, quiet)
    if until is not None:
        assert now < until <= now + timedelta(hours=25)  # 25: a DST day is longer
        assert until.astimezone(ZoneInfo(zone)).strftime("%H:%M") == "07:00"


@pytest.mark.parametrize(
    ("sent", "now", "frees"),
    [
        ([], 1000, None),
        ([100, 200], 1000, None),
        ([100, 200, 300], 1000, 1100),
        ([100, 200, 300, 400], 1000, 1200),  # one over (an exempt send counted): two must age
        ([0, 200, 300], 1000, None),  # 0 is exactly one window old: out of it
        ([300, 100, 200], 1000, 1100),
    ],
)
def test_window_frees_when_enough_sends_age_out(
    sent: list[int], now: int, frees: int | None
) -> None:
    """With 3 per 1000 ms, a full window frees when the oldest surplus send leaves it."""
    assert window_frees_at(sent, now, limit=3, window_ms=1000) == frees


def test_a_channel_inherits_overrides_or_turns_off_pacing() -> None:
    """A channel without settings inherits the defaults; its own win; `off` turns one off."""
    every = RateLimit(max=5, window=600)
    defaults = NotifierPacing(quiet_hours=NIGHT, rate_limit=every)
    assert pace_for(ContactChannel(type="log"), defaults) == Pace(NIGHT, every)
    own = RateLimit(max=2, window=60)
    channel = ContactChannel(type="log", quiet_hours=False, rate_limit=own)
    assert pace_for(channel, defaults) == Pace(None, own)
    assert pace_for(ContactChannel(type="log"), NotifierPacing()) == Pace()


def test_only_first_attempts_of_event_messages_are_paced() -> None:
    """Retries, failure notices, digests and unpaced channels go out without asking Redis."""
    pace, now = Pace(NIGHT), local(3)
    assert plan(job(), pace, now) is not None
    assert plan(job(attempt=1), pace, now) is None
    assert plan(job(kind="failure_notice"), pace, now) is None
    assert plan(job(kind="digest"), pace, now) is None
    assert plan(job(), Pace(), now) is None


def test_a_critical_message_passes_quiet_hours_but_still_counts() -> None:
    """Critical urgency is exempt from quiet hours, not held behind others, and counted."""
    assert plan(job(urgency="critical"), Pace(NIGHT), local(3)) is None
    rate = RateLimit(max=5, window=600)
    counted = plan(job(urgency="critical"), Pace(NIGHT, rate), local(3))
    assert counted is not None
    assert (counted.quiet_until_ms, counted.join, counted.limit, counted.enforce) == (
        0,
        False,
        5,
        True,
    )
    normal = plan(job(), Pace(NIGHT, rate), local(3))
    assert normal is not None
    assert normal.quiet_until_ms == to_ms(local(7))
    assert normal.join
    assert normal.window_ms == 600_000


def test_digest_id_is_derived_from_what_it_covers() -> None:
    """The same bucket and jobs give the same digest id; any other cover gives another."""
    assert digest_id("b", ["msg_1", "msg_2"]) == digest_id("b", ["msg_1", "msg_2"])
    assert digest_id("b", ["msg_1", "msg_2"]) != digest_id("b", ["msg_1"])
    assert digest_id("b", ["msg_1"]) != digest_id("c", ["msg_1"])


def test_quiet_hours_digest_lists_each_message_with_its_tracking_number() -> None:
    """A zh-CN digest names the quiet period and one line per grievance with its number."""
    held = [
        Held(
            job(1, tracking_no="ZT-1", event_type="grievance.assigned", text="已收到"),
            "quiet_hours",
        ),
        Held(
            job(2, tracking_no="ZT-2", event_type="grievance.resolved", text="已办结"),
            "quiet_hours",
        ),
    ]
    digest = digest_job("worker:w-1|log", held, local(7), Pace(NIGHT))
    assert digest.text.splitlines() == [
        "免打扰时段（22:00–07:00）内为您暂存了 2 条通知，汇总如下：",
        "1. 编号 ZT-1：已收到",
        "2. 编号 ZT-2：已办结",
    ]
    assert digest.kind == "digest"
    assert digest.event_type == "notification.digest"
    assert digest.job_id == digest.event_id == digest_id("worker:w-1|log", ["msg_1", "msg_2"])
    items = digest.data["digest"]["items"]
    assert [i["delivery_id"] for i in items] == ["msg_1", "msg_2"]
    assert digest.data["digest"]["count"] == 2
    assert digest.tracking_no is None  # two grievances


def test_rate_limit_summary_counts_repeats_in_english() -> None:
    """45 refusals on one grievance become one counted line; the data lists all 45."""
    held = [Held(job(i, locale="en", text=f"refused {i}"), "rate_limit") for i in range(45)]
    digest = digest_job("worker:w-1|log", held, local(12), Pace(None, RateLimit(max=5, window=60)))
    assert digest.text.splitlines() == [
        "You had many notifications; 45 are combined here:",
        "1. Grievance ZT-251124-AAAA (45 messages like this): refused 44",
    ]
    assert len(digest.data["digest"]["items"]) == 45
    assert digest.tracking_no == "ZT-251124-AAAA"
    assert digest.grievance_id == "g1"


def test_a_long_digest_is_cut_to_sms_size_and_says_how_many_more() -> None:
    """Past the line limit, the digest counts what it does not list one by one."""
    n = DIGEST_MAX_LINES + 5
    held = [Held(job(i, tracking_no=f"ZT-{i}", text="x" * 200), "rate_limit") for i in range(n)]
    lines = digest_job("b", held, local(12), Pace()).text.splitlines()
    assert len(lines) == DIGEST_MAX_LINES + 2
    assert lines[-1] == "另有 5 条未逐条列出。"
    assert lines[1].endswith("…")
    assert len(lines[1]) < 80


def test_pacing_config_reads_from_yaml_and_explains_mistakes() -> None:
    """The YAML's defaults and per-channel overrides parse; bad times and zones are refused."""
    raw = yaml.safe_load(
        """
        directory: {fallback: {id: f, name: F}, oversight: {id: o, name: O}}
        notifier:
          quiet_hours: {start: "22:30", end: "06:30", timezone: Asia/Urumqi}
          rate_limit: {max: 10, window: 1h}
        channels:
          worker: [{type: log, quiet_hours: off, rate_limit: {max: 3, window: 10m}}]
        """
    )
    config = Config.model_validate(raw)
    assert config.notifier.quiet_hours == QuietHours(
        start="22:30", end="06:30", timezone="Asia/Urumqi"
    )
    assert config.notifier.rate_limit == RateLimit(max=10, window=3600)
    (worker,) = config.channels.worker
    assert worker.quiet_hours is False
    assert worker.rate_limit == RateLimit(max=3, window=600)
    for bad, words in [
        ({"start": "25:00"}, "not a time of day"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"start": "07:00", "end": "07:00"}, "start != end"),
    ]:
        with pytest.raises(ValidationError, match=words):
            QuietHours.model_validate(bad)
