"""The checker itself, on small hand-made histories: it passes good ones and fails bad ones."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.checker import Acknowledged, Observed, check

pytestmark = pytest.mark.chaos


def _record(seq: int, key: str | None = None, source: str = "demo-app") -> dict[str, str]:
    doc = {"idempotency_key": key} if key else {}
    return {"state": "assigned", "seq": str(seq), "source": source, "doc": json.dumps(doc)}


def _event(gid: str, seq: int, etype: str = "grievance.assigned", **extra: Any) -> dict[str, Any]:
    return {"event_id": f"{gid}.{seq}", "grievance_id": gid, "seq": seq, "type": etype, **extra}


def _sent(event_id: str, recipient: str = "worker:w1", status: str = "sent") -> dict[str, Any]:
    return {"event_id": event_id, "recipient": recipient, "channel": "log", "status": status}


def _good() -> tuple[Acknowledged, Observed]:
    """Return a clean history: one HTTP grievance with an action, one stream grievance."""
    acked = Acknowledged(grievances={"g1"}, stream_entries={"1-0", "2-0"}, actions={"a1": "g1"})
    seen = Observed(
        events=[
            _event("g1", 1),
            _event("g2", 1),
            _event("g1", 2, "grievance.acknowledged"),
        ],
        deliveries=[
            _sent("g1.1"),
            _sent("g1.1", "m-wang", "retrying"),
            _sent("g1.1", "m-wang"),
            _sent("g2.1"),
            _sent("g1.2"),
        ],
        rejected={"2-0": ["worker.id: Field required"]},
        records={"g1": _record(2), "g2": _record(1, "stream:1-0", "kiosk")},
        applied_actions={"g1": {"a1"}, "g2": set()},
    )
    return acked, seen


def test_clean_history_passes() -> None:
    """A history where every acknowledgement has exactly one effect passes with zeros."""
    verdict = check(*_good())
    assert verdict.ok, verdict.summary()
    assert verdict.counts() == {"lost": 0, "unexpected": 0, "duplicated": 0}


def test_acknowledged_grievance_without_record_or_event_is_lost() -> None:
    """A 202 id with no record, and a record with no assigned event, both count as lost."""
    acked, seen = _good()
    acked.grievances |= {"g9"}
    seen.events = [e for e in seen.events if e["grievance_id"] != "g2"]
    seen.records["g2"]["seq"] = "0"  # accepted by intake, never assigned by the router
    seen.deliveries = [d for d in seen.deliveries if d["event_id"] != "g2.1"]
    verdict = check(acked, seen)
    assert not verdict.ok
    assert len(verdict.lost) == 2, verdict.summary()
    assert any("g9" in item and "no record" in item for item in verdict.lost)
    assert any("g2" in item and "no grievance.assigned" in item for item in verdict.lost)


def test_stream_entry_neither_accepted_nor_rejected_is_lost() -> None:
    """An XADDed entry with no grievance and no rejection is lost."""
    acked, seen = _good()
    acked.stream_entries.add("3-0")
    assert [item for item in check(acked, seen).lost if "3-0" in item]


def test_unhandled_action_and_missing_event_and_unended_delivery_are_lost() -> None:
    """An accepted action never handled, a counted-but-missing event, a stuck delivery: lost."""
    acked, seen = _good()
    seen.applied_actions["g1"] = set()
    seen.records["g1"]["seq"] = "3"
    seen.deliveries.append(_sent("g1.2", "m-li", "retrying"))
    verdict = check(acked, seen)
    assert len(verdict.lost) == 3, verdict.summary()


def test_assigned_event_delivered_to_nobody_is_lost() -> None:
    """An assigned event with no sent delivery at all is lost (nobody was told)."""
    acked, seen = _good()
    seen.deliveries = [d for d in seen.deliveries if d["event_id"] != "g2.1"]
    assert [item for item in check(acked, seen).lost if "g2.1" in item]


def test_events_and_records_nobody_submitted_are_unexpected() -> None:
    """A record and events of a grievance no client submitted, and a stray delivery, count."""
    acked, seen = _good()
    seen.records["gx"] = _record(1)
    seen.events.append(_event("gy", 1))
    seen.deliveries.append(_sent("gz.1"))
    verdict = check(acked, seen)
    assert len(verdict.unexpected) == 3, verdict.summary()


def test_indeterminate_submission_that_landed_is_not_unexpected() -> None:
    """A submission whose reply was lost may exist: it is neither lost nor unexpected."""
    acked, seen = _good()
    seen.records["g3"] = _record(1, "k-3")
    seen.events.append(_event("g3", 1))
    seen.deliveries.append(_sent("g3.1"))
    assert not check(acked, seen).ok
    acked.indeterminate_keys.add(("demo-app", "k-3"))
    assert check(acked, seen).ok


def test_double_assignment_duplicate_event_and_seq_gap_are_duplicated() -> None:
    """Two assigned events, one event id twice and a seq gap each count as duplicated."""
    acked, seen = _good()
    seen.events.append(_event("g2", 2))
    seen.records["g2"]["seq"] = "2"
    seen.deliveries.append(_sent("g2.2"))
    verdict = check(acked, seen)
    assert any("assigned 2 times" in item for item in verdict.duplicated), verdict.summary()

    acked, seen = _good()
    seen.events.append(_event("g1", 2, "grievance.acknowledged"))
    verdict = check(acked, seen)
    assert any("published 2 times" in item for item in verdict.duplicated), verdict.summary()

    acked, seen = _good()
    seen.events[2] = _event("g1", 3, "grievance.acknowledged")
    verdict = check(acked, seen)
    assert any("not 1..n" in item for item in verdict.duplicated), verdict.summary()


def test_delivery_sent_twice_is_duplicated() -> None:
    """One (event, recipient, channel) sent twice is a duplicated effect."""
    acked, seen = _good()
    seen.deliveries.append(_sent("g1.1"))
    verdict = check(acked, seen)
    assert len(verdict.duplicated) == 1, verdict.summary()


def test_one_submission_two_grievances_is_duplicated() -> None:
    """One stream entry (or one idempotency key) that yielded two grievances is doubled."""
    acked, seen = _good()
    seen.records["g4"] = _record(1, "stream:1-0", "kiosk")
    seen.events.append(_event("g4", 1))
    seen.deliveries.append(_sent("g4.1"))
    verdict = check(acked, seen)
    assert any("1-0" in item for item in verdict.duplicated), verdict.summary()


def test_action_refused_twice_is_duplicated() -> None:
    """The same action id refused twice (two events for one action) is doubled."""
    acked, seen = _good()
    refusal = {"data": {"action_id": "a2"}}
    seen.events += [
        _event("g1", 3, "action.refused", **refusal),
        _event("g1", 4, "action.refused", **refusal),
    ]
    seen.records["g1"]["seq"] = "4"
    seen.deliveries += [_sent("g1.3"), _sent("g1.4")]
    verdict = check(acked, seen)
    assert verdict.counts() == {"lost": 0, "unexpected": 0, "duplicated": 1}, verdict.summary()


def test_keyed_stream_submission_must_yield_one_grievance() -> None:
    """A keyed XADD with no grievance is lost; two grievances for one key are doubled."""
    acked = Acknowledged(keyed_entries={("kiosk", "k1"), ("kiosk", "k2")})
    seen = Observed(
        records={
            "g1": {
                "state": "assigned",
                "seq": "1",
                "source": "kiosk",
                "doc": json.dumps({"idempotency_key": "k2"}),
            },
            "g2": {
                "state": "assigned",
                "seq": "1",
                "source": "kiosk",
                "doc": json.dumps({"idempotency_key": "k2"}),
            },
        }
    )
    verdict = check(acked, seen)
    assert any("'k1'" in item for item in verdict.lost)
    assert any("'k2'" in item for item in verdict.duplicated)
