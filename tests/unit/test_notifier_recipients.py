"""Who hears about each event (services/notifier/recipients.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.notifier.recipients import RULES, Audience, Directory, GrievanceView, recipients
from shared.config import Config, load_config
from shared.events import Event, EventType


@pytest.fixture(name="directory", scope="module")
def fixture_directory() -> Directory:
    """Return the demo directory."""
    config: Config = load_config(Path(__file__).resolve().parents[2] / "config" / "demo.yaml")
    return Directory.from_config(config)


GRIEVANCE = GrievanceView(
    worker_id="w-1001",
    worker_name="刘小哥",
    worker_phone="13800138000",
    locale="en",
    tracking_no="ZT-261123-7K3F9QX2",
    category="wages",
    urgency="normal",
)


def event(kind: EventType, **fields: Any) -> Event:
    """Return an event of ``kind`` with sensible defaults."""
    base: dict[str, Any] = {
        "event_id": "e1",
        "grievance_id": "g1",
        "seq": 1,
        "type": kind,
        "at": datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
        "state": "assigned",
        "tier": 1,
        "assignee": "m-wang",
    }
    return Event.model_validate(base | fields)


def test_every_event_type_has_a_rule() -> None:
    """No event type is forgotten: each one reaches at least one audience."""
    assert set(RULES) == set(EventType)
    assert all(RULES[t] for t in EventType)


def test_assigned_reaches_worker_and_new_assignee(directory: Directory) -> None:
    """A new grievance tells the worker (receipt) and the member it went to."""
    found = recipients(event(EventType.ASSIGNED), GRIEVANCE, directory)
    assert [(r.id, r.audience) for r in found] == [
        ("worker:w-1001", Audience.WORKER),
        ("m-wang", Audience.ASSIGNEE),
    ]


def test_worker_channels_use_the_grievance_locale(directory: Directory) -> None:
    """The worker is reached on config.channels.worker in the grievance's own locale."""
    worker = recipients(event(EventType.ASSIGNED), GRIEVANCE, directory)[0]
    assert [c.type for c in worker.channels] == ["log", "webhook"]
    assert {c.locale for c in worker.channels} == {"en"}
    assert worker.address == "13800138000"


def test_escalation_tells_the_previous_assignee(directory: Directory) -> None:
    """On escalation the worker, the branch above and the member it left all hear."""
    esc = event(EventType.ESCALATED, assignee="b-zto-east", previous_assignee="m-wang", tier=2)
    assert [(r.id, r.audience) for r in recipients(esc, GRIEVANCE, directory)] == [
        ("worker:w-1001", Audience.WORKER),
        ("b-zto-east", Audience.ASSIGNEE),
        ("m-wang", Audience.PREVIOUS),
    ]


def test_reopen_at_the_same_unit_is_one_message(directory: Directory) -> None:
    """A reopen that stays with the same unit does not also send a 'previous' notice."""
    ev = event(EventType.REOPENED, assignee="c-express", previous_assignee="c-express")
    assert [r.id for r in recipients(ev, GRIEVANCE, directory)] == ["worker:w-1001", "c-express"]


def test_overdue_reaches_oversight(directory: Directory) -> None:
    """An overdue grievance is reported to oversight and to its assignee."""
    ev = event(EventType.OVERDUE, assignee="c-express", tier=3)
    found = recipients(ev, GRIEVANCE, directory)
    assert [(r.id, r.audience) for r in found] == [
        ("u-oversight", Audience.OVERSIGHT),
        ("c-express", Audience.ASSIGNEE),
    ]


def test_referral_reaches_each_department(directory: Directory) -> None:
    """A referral reaches every joint-meeting department named in data.departments."""
    ev = event(
        EventType.REFERRED, assignee="c-express", data={"departments": ["d-hrss", "d-union"]}
    )
    assert [r.id for r in recipients(ev, GRIEVANCE, directory)] == [
        "worker:w-1001",
        "d-hrss",
        "d-union",
    ]


def test_refused_worker_action_goes_back_to_the_worker(directory: Directory) -> None:
    """A worker whose action was refused is told, on the worker channels."""
    ev = event(EventType.ACTION_REFUSED, actor={"id": "w-1001", "role": "worker"})
    found = recipients(ev, GRIEVANCE, directory)
    assert [(r.id, r.audience) for r in found] == [("worker:w-1001", Audience.ACTOR)]


def test_refused_unit_action_goes_back_to_the_unit(directory: Directory) -> None:
    """A member whose action was refused is told on the member's channels."""
    ev = event(EventType.ACTION_REFUSED, actor={"id": "m-li", "role": "member"})
    assert [r.id for r in recipients(ev, GRIEVANCE, directory)] == ["m-li"]


def test_unknown_units_are_skipped(directory: Directory) -> None:
    """An assignee the directory does not know yields no recipient instead of an error."""
    ev = event(EventType.ASSIGNED, assignee="m-unknown")
    assert [r.id for r in recipients(ev, GRIEVANCE, directory)] == ["worker:w-1001"]


def test_missing_grievance_still_reaches_units(directory: Directory) -> None:
    """Without a stored grievance the worker cannot be reached, but assignees still are."""
    assert [r.id for r in recipients(event(EventType.ASSIGNED), GrievanceView(), directory)] == [
        "m-wang"
    ]


def test_view_reads_a_stored_document() -> None:
    """The grievance view takes worker, anonymity and locale from the stored document."""
    view = GrievanceView.from_doc(
        {"worker": {"id": "w9", "name": "赵"}, "anonymous": True, "locale": "zh-CN"}
    )
    assert (view.worker_id, view.worker_name, view.anonymous, view.locale) == (
        "w9",
        "赵",
        True,
        "zh-CN",
    )


def test_first_feedback_request_is_folded_into_the_resolution(directory: Directory) -> None:
    """The worker is asked to rate once (with the resolution); only the reminder repeats it."""
    first = event(EventType.FEEDBACK_REQUESTED, state="resolved")
    reminder = event(EventType.FEEDBACK_REQUESTED, state="resolved", data={"reminder": True})
    assert recipients(first, GRIEVANCE, directory) == []
    assert [r.id for r in recipients(reminder, GRIEVANCE, directory)] == ["worker:w-1001"]
