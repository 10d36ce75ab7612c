"""Working time on a calendar with a weekend, a holiday week and a make-up working day:
the arithmetic, then every lifecycle path that schedules a deadline (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.router import lifecycle, sla, working_time
from services.router.working_time import Calendar
from shared.config import Config, TierSla, UrgencySla, WorkingHours, load_config
from shared.events import Action, ActionType, Actor, Category, Role, Urgency
from shared.record import Link, Record

A = ActionType
HOUR = 3600
# Mon–Fri 09:00–18:00 at UTC+8; National Day week (Thu 1 – Wed 7 October 2026) off; Saturday
# 10 October made up (调休).
HOURS = WorkingHours(
    holidays=[date(2026, 10, d) for d in range(1, 8)], workdays=[date(2026, 10, 10)]
)
CAL = Calendar.of(HOURS)
BASE = load_config(Path(__file__).resolve().parents[2] / "config" / "demo.yaml")
CHAIN = (
    Link("m-wang", "党员快递员王师傅", "member"),
    Link("b-zto-east", "城东快递网点联合党支部", "branch"),
    Link("c-express", "区快递行业党委", "committee"),
)
WORKER = Actor(id="w-1001", role=Role.WORKER)
MEMBER = Actor(id="m-wang", role=Role.MEMBER)
COMMITTEE = Actor(id="c-express", role=Role.COMMITTEE)


def _at(text: str) -> int:
    """Return epoch ms of a local time at UTC+8 (``2026-11-20 18:30``)."""
    return int(datetime.fromisoformat(f"{text}+08:00").timestamp() * 1000)


def _local(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000 + 8 * HOUR, UTC).strftime("%a %Y-%m-%d %H:%M:%S")


def _config(ack: int, resolve: int, **policy: Any) -> Config:
    """Return the demo config with one ack/resolve pair at every tier, on ``HOURS``."""
    tiers = TierSla(ack=ack, resolve=resolve)
    table = UrgencySla(member=tiers, branch=tiers, committee=tiers)
    update = {"urgency": dict.fromkeys(Urgency, table), "categories": {}, "calendar": HOURS}
    return BASE.model_copy(update={"sla": BASE.sla.model_copy(update={**update, **policy})})


# --- the arithmetic ---


def test_the_snapshot_keeps_holidays_as_runs_and_reads_back_the_same_calendar() -> None:
    """A holiday week is one run in the record; reading the snapshot gives the calendar."""
    raw = CAL.snapshot()
    assert raw["hol"] == [[20727, 20733]]  # 2026-10-01 … 2026-10-07
    assert raw["mk"] == [20736]
    assert Calendar.from_snapshot(raw) == CAL


def test_a_snapshot_from_before_holidays_reads_as_plain_weeks() -> None:
    """A record snapshotted before holidays existed keeps working (no ``hol``/``mk``)."""
    plain = Calendar.from_snapshot({"days": [1, 2, 3, 4, 5], "s": 540, "e": 1080, "off": 480})
    assert plain == Calendar.of(WorkingHours())


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        ("2026-11-20 17:00", 4, "2026-11-23 12:00"),  # Friday → over the weekend
        ("2026-11-24 03:00", 1, "2026-11-24 10:00"),  # before opening
        ("2026-11-19 16:00", 3, "2026-11-20 10:00"),  # overnight
        ("2026-11-20 17:00", 1, "2026-11-20 18:00"),  # exactly to the close
        ("2026-09-30 17:00", 2, "2026-10-08 10:00"),  # over the National Day week
        ("2026-10-09 17:00", 2, "2026-10-10 10:00"),  # into the make-up Saturday
    ],
)
def test_add_counts_only_working_time(start: str, hours: int, due: str) -> None:
    """Nights, weekends and holidays add nothing; a make-up working day counts."""
    assert _local(working_time.add(_at(start), hours * HOUR, CAL)) == _local(_at(due))


@pytest.mark.parametrize(
    ("end", "hours", "start"),
    [
        ("2026-11-20 10:00", 1.5, "2026-11-19 17:30"),
        ("2026-11-23 09:30", 1, "2026-11-20 17:30"),  # back over the weekend
        ("2026-10-08 09:00", 1, "2026-09-30 17:00"),  # back over the holidays
        ("2026-11-21 12:00", 0, "2026-11-20 18:00"),  # a Saturday is Friday's close
    ],
)
def test_before_counts_back_only_working_time(end: str, hours: float, start: str) -> None:
    """The latest instant with that much working time left before ``end``."""
    assert _local(working_time.before(_at(end), hours * HOUR, CAL)) == _local(_at(start))


def test_between_a_friday_evening_and_tuesday_noon_is_twelve_working_hours() -> None:
    """Monday's nine hours and Tuesday's three; the weekend and the evening count nothing."""
    assert working_time.between(_at("2026-11-20 18:30"), _at("2026-11-24 12:00"), CAL) == (
        12 * HOUR * 1000
    )
    assert working_time.between(_at("2026-11-20 18:30"), _at("2026-11-23 08:30"), CAL) == 0


def test_at_work_keeps_a_working_instant_and_moves_another_to_the_next_opening() -> None:
    """Inside hours (the close included) an instant stays; otherwise it is the next opening."""
    for inside in ("2026-11-20 10:00", "2026-11-20 18:00", "2026-10-10 12:00"):
        assert working_time.at_work(_at(inside), CAL) == _at(inside)
    assert working_time.at_work(_at("2026-11-21 10:00"), CAL) == _at("2026-11-23 09:00")
    assert working_time.at_work(_at("2026-10-02 10:00"), CAL) == _at("2026-10-08 09:00")


def test_without_a_calendar_every_duration_is_wall_clock_time() -> None:
    """24×7: add, before and between are plain arithmetic."""
    start = _at("2026-11-21 03:00")
    assert working_time.add(start, 90, None) == start + 90_000
    assert working_time.before(start, 90, None) == start - 90_000
    assert working_time.between(start, start + 5, None) == 5
    assert working_time.at_work(start, None) == start


def _inside(ms: int) -> bool:
    return working_time.at_work(ms, CAL) == ms


INSTANTS = st.integers(_at("2026-09-20 00:00"), _at("2026-12-31 00:00"))
DURATIONS = st.integers(1, 200 * HOUR)


@given(start=INSTANTS, seconds=DURATIONS)
def test_add_before_and_between_agree(start: int, seconds: int) -> None:
    """``between`` measures what ``add`` added; ``before`` walks it back; both land at work."""
    end = working_time.add(start, seconds, CAL)
    assert _inside(end)
    assert working_time.between(start, end, CAL) == seconds * 1000
    back = working_time.before(end, seconds, CAL)
    assert _inside(back)
    assert back >= start
    assert working_time.between(back, end, CAL) == seconds * 1000


# --- the lifecycle on the calendar ---


def _action(kind: ActionType, actor: Actor, **fields: Any) -> Action:
    return Action(
        action_id=f"a-{kind}-{len(fields)}",
        grievance_id="g-1",
        type=kind,
        actor=actor,
        **fields,
    )


def _assigned(config: Config, now: int) -> Record:
    g = Record(
        "g-1",
        {
            "state": "submitted",
            "worker_id": "w-1001",
            "tracking_no": "ZT-1",
            "category": "road_access",
            "urgency": "normal",
            "seq": "0",
            "gen": "0",
        },
    )
    snapshot = sla.snapshot(config.sla, Urgency.NORMAL, Category.ROAD_ACCESS)
    lifecycle.assign(g, CHAIN, snapshot, note="matched", now=now)
    return _stored(g)


def _stored(g: Record) -> Record:
    return Record(g.id, dict(g.fields), g.version + 1)


def _act(g: Record, config: Config, now: str, kind: ActionType, actor: Actor, **f: Any) -> Record:
    decision = lifecycle.act(g, _action(kind, actor, **f), lifecycle.Situation(_at(now), config))
    assert decision.refusal is None, decision.refusal
    return g


def _timers(g: Record) -> dict[str, str]:
    """Return the timers this step scheduled, as local times by kind."""
    return {member.split("|")[1]: _local(due) for member, due in g.timers_added}


def _due(g: Record, name: str) -> str:
    return _local(int(g.num(name)))


def test_a_three_hour_resolve_due_friday_ten_warns_at_half_its_working_time() -> None:
    """Assigned Thu 16:00: due Fri 10:00, and the 50 % warning is Thu 17:30 (not Fri 08:30)."""
    config = _config(ack=HOUR, resolve=3 * HOUR, warning_fraction=0.5)
    g = Record("g-1", {"state": "submitted", "worker_id": "w-1001", "seq": "0", "gen": "0"})
    snapshot = sla.snapshot(config.sla, Urgency.NORMAL, Category.ROAD_ACCESS)
    lifecycle.assign(g, CHAIN, snapshot, note="matched", now=_at("2026-11-19 16:00"))
    assert _due(g, "resolve_due") == _local(_at("2026-11-20 10:00"))
    assert _timers(g) == {
        "ack": _local(_at("2026-11-19 17:00")),
        "wa": _local(_at("2026-11-19 16:30")),
        "res": _local(_at("2026-11-20 10:00")),
        "wr": _local(_at("2026-11-19 17:30")),
    }


def test_a_pause_from_friday_evening_to_monday_morning_keeps_tuesday_noon() -> None:
    """Paused Fri 18:30, answered Mon 08:30: no working time passed, the deadline stays."""
    config = _config(ack=HOUR, resolve=15 * HOUR)
    g = _assigned(config, _at("2026-11-20 15:00"))
    assert _due(g, "resolve_due") == _local(_at("2026-11-24 12:00"))
    g = _stored(_act(g, config, "2026-11-20 16:00", A.ACKNOWLEDGE, MEMBER))
    g = _stored(_act(g, config, "2026-11-20 18:30", A.REQUEST_INFO, MEMBER, note="照片?"))
    assert g.get("paused_remaining") == str(12 * HOUR * 1000)
    g = _act(g, config, "2026-11-23 08:30", A.WORKER_REPLY, WORKER, note="已补充")
    assert _due(g, "resolve_due") == _local(_at("2026-11-24 12:00"))
    assert _timers(g)["res"] == _local(_at("2026-11-24 12:00"))


def test_a_three_second_pause_outside_hours_moves_nothing_and_one_inside_moves_it() -> None:
    """A pause costs only the working time it spans."""
    config = _config(ack=HOUR, resolve=15 * HOUR)
    g = _assigned(config, _at("2026-11-20 15:00"))
    g = _stored(_act(g, config, "2026-11-20 16:00", A.ACKNOWLEDGE, MEMBER))
    g = _stored(_act(g, config, "2026-11-20 18:30:00", A.REQUEST_INFO, MEMBER))
    g = _stored(_act(g, config, "2026-11-20 18:30:03", A.WORKER_REPLY, WORKER))
    assert _due(g, "resolve_due") == _local(_at("2026-11-24 12:00"))
    g = _stored(_act(g, config, "2026-11-23 10:00", A.REQUEST_INFO, MEMBER))
    g = _act(g, config, "2026-11-23 11:30", A.WORKER_REPLY, WORKER)
    assert _due(g, "resolve_due") == _local(_at("2026-11-24 13:30"))


def test_an_escalation_before_the_holiday_week_is_due_after_it() -> None:
    """Escalated Wed 30 Sep 17:00 with a 2 h ack: due Thu 8 Oct 10:00."""
    config = _config(ack=2 * HOUR, resolve=20 * HOUR)
    g = _assigned(config, _at("2026-09-30 10:00"))
    g = _act(g, config, "2026-09-30 17:00", A.ESCALATE, COMMITTEE, reason="需协调")
    assert (g.tier, _due(g, "ack_due")) == (2, _local(_at("2026-10-08 10:00")))
    assert _timers(g)["ack"] == _local(_at("2026-10-08 10:00"))
    assert _timers(g)["wa"] == _local(_at("2026-10-08 09:36"))  # 20 % (24 min) left


def test_a_reopen_on_the_make_up_saturday_counts_it() -> None:
    """Rated 1 on Sat 10 Oct (a working day): the branch's 2 h ack is due that noon."""
    config = _config(ack=2 * HOUR, resolve=20 * HOUR)
    g = _assigned(config, _at("2026-10-09 09:00"))
    g = _stored(_act(g, config, "2026-10-09 17:00", A.RESOLVE, MEMBER, resolution="已处理"))
    g = _act(g, config, "2026-10-10 10:00", A.FEEDBACK, WORKER, rating=1)
    assert (g.state, g.tier, _due(g, "ack_due")) == ("assigned", 2, _local(_at("2026-10-10 12:00")))


def test_the_feedback_window_and_its_reminder_count_working_time() -> None:
    """Resolved Fri 17:00 with a 2 h window: it closes Mon 10:00, reminder at 80 % (09:36)."""
    config = _config(ack=HOUR, resolve=20 * HOUR, feedback_window=2 * HOUR)
    g = _assigned(config, _at("2026-11-20 09:00"))
    g = _act(g, config, "2026-11-20 17:00", A.RESOLVE, MEMBER, resolution="已处理")
    assert _due(g, "fb_due") == _local(_at("2026-11-23 10:00"))
    assert _timers(g) == {
        "fb": _local(_at("2026-11-23 10:00")),
        "fbr": _local(_at("2026-11-23 09:36")),
    }


def test_an_extension_to_a_saturday_is_due_at_monday_opening_and_warns_in_hours() -> None:
    """A deadline asked for outside hours is the next opening; the event says both."""
    config = _config(ack=HOUR, resolve=3 * HOUR, warning_fraction=0.5)
    saturday = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 10:00 local
    g = _assigned(config, _at("2026-11-19 16:00"))
    g = _act(g, config, "2026-11-19 16:30", A.EXTEND, MEMBER, reason="延期", new_deadline=saturday)
    assert _due(g, "resolve_due") == _local(_at("2026-11-23 09:00"))
    assert _timers(g) == {
        "res": _local(_at("2026-11-23 09:00")),
        "wr": _local(_at("2026-11-20 16:30")),  # 1.5 working hours before Monday 09:00
    }
    (event,) = g.events
    assert event["data"]["new_deadline"] == "2026-11-23T01:00:00.000Z"
    assert event["data"]["requested_deadline"] == "2026-11-21T02:00:00.000Z"


def test_the_overdue_repeat_counts_working_time() -> None:
    """A committee breach Fri 17:30 with a 1 h repeat: the next alarm is Mon 09:30."""
    config = _config(ack=HOUR, resolve=20 * HOUR, overdue_repeat=HOUR)
    g = _assigned(config, _at("2026-11-20 09:00"))
    for _ in range(2):
        g = _stored(_act(g, config, "2026-11-20 10:00", A.ESCALATE, COMMITTEE, reason="升级"))
    assert lifecycle.fire(g, "ack", _at("2026-11-20 17:30")) is not None
    assert _timers(g) == {"od": _local(_at("2026-11-23 09:30"))}
    g = _stored(g)
    assert lifecycle.fire(g, "od", _at("2026-11-23 09:30")) is not None
    assert _timers(g) == {"od": _local(_at("2026-11-23 10:30"))}


# Every action any unit or the worker may take, with the fields it needs.
_STEPS: list[tuple[ActionType, Actor, dict[str, Any]]] = [
    (A.ACKNOWLEDGE, COMMITTEE, {}),
    (A.REQUEST_INFO, COMMITTEE, {}),
    (A.WORKER_REPLY, WORKER, {}),
    (A.ESCALATE, COMMITTEE, {"reason": "升级"}),
    (A.EXTEND, COMMITTEE, {"reason": "延期"}),
    (A.RESOLVE, COMMITTEE, {"resolution": "已处理"}),
    (A.FEEDBACK, WORKER, {"rating": 1}),
    (A.RECLASSIFY, COMMITTEE, {"reason": "改类", "urgency": Urgency.CRITICAL}),
]
_TIMER_KINDS = list(lifecycle.TIMER_KINDS)


@settings(max_examples=150, deadline=None)
@given(
    start=INSTANTS,
    steps=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(range(len(_STEPS))), st.sampled_from(_TIMER_KINDS)),
            st.integers(1, 60 * HOUR),
            st.integers(1, 200 * HOUR),
        ),
        max_size=25,
    ),
)
def test_every_path_schedules_every_deadline_inside_working_hours(
    start: int, steps: list[tuple[int | str, int, int]]
) -> None:
    """Whatever is done when (weekends and holidays included), every deadline and timer the
    lifecycle sets is a working instant."""
    config = _config(ack=2 * HOUR, resolve=7 * HOUR, feedback_window=5 * HOUR)
    g = _assigned(config, start)
    now = start
    for step, wait_s, extend_s in steps:
        now += wait_s * 1000
        if isinstance(step, str):
            if g.timer_pending(step):
                lifecycle.fire(g, step, now)
        else:
            kind, actor, fields = _STEPS[step]
            if kind is A.EXTEND:
                asked = (g.ms("resolve_due") or now) / 1000 + extend_s
                fields = {**fields, "new_deadline": datetime.fromtimestamp(asked, UTC)}
            lifecycle.act(g, _action(kind, actor, **fields), lifecycle.Situation(now, config))
        for member, due in g.timers_added:
            assert _inside(due), f"{member} at {_local(due)}"
        for name in ("ack_due", "resolve_due", "fb_due"):
            if g.get(name):
                assert _inside(int(g.num(name))), f"{name} at {_due(g, name)}"
        g = _stored(g)
