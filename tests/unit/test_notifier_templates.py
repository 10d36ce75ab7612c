"""Notification texts per event, audience and locale (services/notifier/templates.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.notifier import templates
from services.notifier.recipients import RULES, Audience, Directory, GrievanceView, Recipient
from services.notifier.recipients import recipients as recipients_of
from services.notifier.templates import render, render_named, template_stem
from shared.config import load_config
from shared.events import Event, EventType

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = Directory.from_config(load_config(ROOT / "config" / "demo.yaml"))
GRIEVANCE = GrievanceView(
    worker_id="w-1001",
    worker_name="刘小哥",
    worker_phone="13800138000",
    tracking_no="ZT-261123-7K3F9QX2",
    category="road_access",
    urgency="high",
    title="小区不让快递车进入",
)
FULL_DATA: dict[str, Any] = {
    "note": "请提供被拦时间和小区名称",
    "resolution": "已与物业协商，开放快递通道",
    "rating": 2,
    "comment": "还是进不去",
    "departments": ["d-traffic-police", "d-street-office"],
    "new_deadline": "2026-11-30T10:00:00Z",
    "warning_for": "ack",
    "reminder": True,
    "duplicate_of": "ZT-261122-AAAA1111",
    "refused_action": "resolve",
}
# A word right after a sentence's or clause's end: two sentences run together.
RUN_ON = re.compile(r"[.!?;:,)][A-Za-z]")


def event(kind: EventType, **fields: Any) -> Event:
    """Return an event of ``kind``: assigned to 王师傅 with both deadlines."""
    base: dict[str, Any] = {
        "event_id": "e1",
        "grievance_id": "g1",
        "seq": 1,
        "type": kind,
        "at": datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
        "state": "assigned",
        "tier": 1,
        "assignee": "m-wang",
        "previous_assignee": "m-li",
        "ack_due_at": datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        "resolve_due_at": datetime(2026, 11, 26, 6, 0, tzinfo=UTC),
        "feedback_closes_at": datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
        "reason": "超时未响应",
        "actor": {"id": "w-1001", "role": "worker"},
        "tracking_no": "ZT-261123-7K3F9QX2",
    }
    return Event.model_validate(base | fields)


def text(ev: Event, audience: Audience, locale: str = "zh-CN", **kw: Any) -> str:
    """Return the rendered text for one audience."""
    recipient = Recipient("r", audience, "街道办事处", ())
    grievance = kw.pop("grievance", GRIEVANCE)
    reveal = kw.pop("reveal_worker", True)
    return render(ev, grievance, DIRECTORY, recipient, locale=locale, reveal_worker=reveal).text


CASES = [(t, a) for t in EventType for a in RULES[t]]


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize(("kind", "audience"), CASES, ids=[f"{t.value}-{a}" for t, a in CASES])
def test_every_event_and_audience_renders(kind: EventType, audience: Audience, locale: str) -> None:
    """Each (event, audience) has its own file in both locales and renders, full or sparse."""
    name = f"{template_stem(kind)}.{audience.value}.j2"
    assert (templates.TEMPLATE_DIR / locale / name).is_file()
    full = text(event(kind, data=FULL_DATA), audience, locale)
    sparse_event = Event(
        event_id="e", grievance_id="g", seq=1, type=kind, at=datetime.now(UTC), state="assigned"
    )
    sparse = text(sparse_event, audience, locale, grievance=GrievanceView())
    for rendered in (full, sparse):
        assert rendered
        assert "{{" not in rendered
        assert "None" not in rendered


def test_failure_notice_renders_in_both_locales() -> None:
    """Oversight's notification-failed notice renders in zh-CN and English."""
    ctx = {
        "tracking_no": "ZT-1",
        "event_type": "grievance.assigned",
        "failed_recipient": "m-wang",
        "channel": "webhook:demo",
        "attempts": 6,
        "error": "HTTP 503",
    }
    assert "通知未能送达m-wang" in render_named("notification_failed", "oversight", "zh-CN", ctx)
    assert "could not reach m-wang" in render_named("notification_failed", "oversight", "en", ctx)


def test_receipt_reads_naturally_in_chinese() -> None:
    """The worker's receipt names the tracking number, the member and the ack deadline."""
    assert text(event(EventType.ASSIGNED), Audience.WORKER) == (
        "您的诉求（编号 ZT-261123-7K3F9QX2）已收到，已转交党员快递员王师傅，"
        "将于11月23日 18:00前响应。请保存编号，用于查询办理进度。"
    )


def test_receipt_in_english() -> None:
    """The English receipt carries the same facts with a Beijing-time deadline."""
    assert text(event(EventType.ASSIGNED), Audience.WORKER, "en") == (
        "We received your grievance (no. ZT-261123-7K3F9QX2) and passed it to 党员快递员王师傅, "
        "who will respond by 23 Nov 18:00 (UTC+8). Keep this number to follow its progress."
    )


def test_assignee_sees_the_case_and_deadlines() -> None:
    """The member gets category, urgency, title, the worker's contact and both deadlines."""
    assert text(event(EventType.ASSIGNED), Audience.ASSIGNEE) == (
        "【新诉求】编号 ZT-261123-7K3F9QX2｜通行受阻｜紧急｜小区不让快递车进入。"
        "来自刘小哥（电话 13800138000）。\n请于11月23日 18:00前响应，11月26日 14:00前办结。"
    )


def test_anonymous_worker_is_never_revealed_to_assignees() -> None:
    """An anonymous grievance shows no name or phone to any unit audience."""
    anonymous = replace(GRIEVANCE, anonymous=True)
    for kind, audience in CASES:
        if audience in (Audience.WORKER, Audience.ACTOR):
            continue
        rendered = text(event(kind, data=FULL_DATA), audience, grievance=anonymous)
        assert "刘小哥" not in rendered
        assert "13800138000" not in rendered
    assert "匿名从业人员" in text(event(EventType.ASSIGNED), Audience.ASSIGNEE, grievance=anonymous)


def test_log_rendering_hides_the_worker() -> None:
    """With reveal_worker off (the log channel) even a named worker stays unnamed."""
    rendered = text(event(EventType.ASSIGNED), Audience.ASSIGNEE, reveal_worker=False)
    assert "刘小哥" not in rendered
    assert "13800138000" not in rendered


def test_resolution_asks_for_a_rating_and_explains_how() -> None:
    """On resolution the worker reads the outcome and how to rate it 1–5."""
    rendered = text(event(EventType.RESOLVED, data=FULL_DATA), Audience.WORKER)
    assert "办理结果：已与物业协商，开放快递通道" in rendered
    assert "请直接回复数字 1–5 为本次办理打分" in rendered
    assert "评价截止：11月26日 18:00" in rendered


def test_first_rating_request_states_its_deadline_in_both_locales() -> None:
    """The resolved message, the worker's first rating request, names when rating closes."""
    resolved = event(EventType.RESOLVED, state="resolved", data={"resolution": "已开放通道"})
    assert text(resolved, Audience.WORKER).endswith("评价截止：11月26日 18:00。")
    assert text(resolved, Audience.WORKER, "en").endswith(
        "a rating of 2 or less reopens it. Rating closes 26 Nov 18:00 (UTC+8)."
    )


@pytest.mark.parametrize("reminder", [True, False])
def test_english_rating_request_keeps_its_sentences_apart(reminder: bool) -> None:
    """The English rating request ends its first sentence before the rating instructions."""
    ask = event(EventType.FEEDBACK_REQUESTED, data={"reminder": reminder})
    first, how = text(ask, Audience.WORKER, "en").split("\n")
    assert first.endswith("before 26 Nov 18:00 (UTC+8)." if not reminder else "(UTC+8).")
    assert how.startswith("Reply with a number from 1 to 5")


@pytest.mark.parametrize(("kind", "audience"), CASES, ids=[f"{t.value}-{a}" for t, a in CASES])
@pytest.mark.parametrize("reminder", [True, False])
def test_no_english_text_runs_two_sentences_together(
    kind: EventType, audience: Audience, reminder: bool
) -> None:
    """No English message has a word glued to the previous sentence's full stop."""
    for data in ({**FULL_DATA, "reminder": reminder}, {"reminder": reminder}):
        rendered = text(event(kind, data=data), audience, "en")
        assert not RUN_ON.search(rendered), rendered


def test_feedback_reminder_says_when_the_window_closes() -> None:
    """The reminder before the feedback window closes names the closing time."""
    rendered = text(event(EventType.FEEDBACK_REQUESTED, data=FULL_DATA), Audience.WORKER)
    assert rendered.startswith("提醒：您的诉求（编号 ZT-261123-7K3F9QX2）还未评价")
    assert "11月26日 18:00截止" in rendered


def test_extension_tells_the_worker_the_new_date() -> None:
    """An extension is visible to the worker with the new deadline and the reason."""
    rendered = text(
        event(EventType.EXTENDED, reason="需协调交警部门", data=FULL_DATA), Audience.WORKER
    )
    assert rendered == (
        "您的诉求（编号 ZT-261123-7K3F9QX2）办理期限延长至11月30日 18:00，"
        "原因：需协调交警部门。我们会持续跟进。"
    )


def test_worker_sequence_reads_as_a_story() -> None:
    """Receipt → acknowledged → resolved → feedback → closed reads well for the worker."""
    worker = DIRECTORY.worker(GRIEVANCE)
    assert worker is not None
    steps = [
        event(EventType.ASSIGNED),
        event(EventType.ACKNOWLEDGED, state="acknowledged"),
        event(EventType.RESOLVED, state="resolved", data={"resolution": "已开放快递通道"}),
        event(EventType.CLOSED, state="closed", data={"rating": 5}),
    ]
    seen = []
    for ev in steps:
        (found,) = [
            r for r in recipients_of(ev, GRIEVANCE, DIRECTORY) if r.audience is Audience.WORKER
        ]
        seen.append(
            render(ev, GRIEVANCE, DIRECTORY, found, locale="zh-CN", reveal_worker=True).text
        )
    receipt = "您的诉求（编号 ZT-261123-7K3F9QX2）"
    assert seen[1] == f"{receipt}已由党员快递员王师傅受理，将于11月26日 14:00前办结。"
    assert seen[2].startswith(f"{receipt}已由党员快递员王师傅办结。\n办理结果：已开放快递通道")
    assert seen[3] == f"{receipt}已结案，感谢您的评价（5 分）。如有新的困难，欢迎随时反映。"


@pytest.fixture(name="sparse_templates")
def fixture_sparse_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Return a template folder where only zh-CN has the file."""
    (tmp_path / "zh-CN").mkdir()
    (tmp_path / "en").mkdir()
    (tmp_path / "zh-CN" / "assigned.worker.j2").write_text("收到 {{ tracking_no }}", "utf-8")
    monkeypatch.setattr(templates, "TEMPLATE_DIR", tmp_path)
    templates.environment.cache_clear()
    yield tmp_path
    templates.environment.cache_clear()


@pytest.mark.usefixtures("sparse_templates")
def test_missing_translation_falls_back_to_chinese() -> None:
    """A template missing in English is rendered from zh-CN rather than not sent."""
    assert render_named("assigned", "worker", "en", {"tracking_no": "ZT-1"}) == "收到 ZT-1"


@pytest.mark.usefixtures("sparse_templates")
def test_missing_everywhere_is_a_clear_error() -> None:
    """A template missing in every locale raises TemplateMissingError naming the file."""
    with pytest.raises(templates.TemplateMissingError, match=r"closed\.worker\.j2"):
        render_named("closed", "worker", "en", {})


def test_router_reason_codes_read_as_words() -> None:
    """Reason codes from the router (ack_overdue, 'rating 1') are shown in words."""
    esc = event(EventType.ESCALATED, reason="ack_overdue", assignee="b-zto-east")
    assert "（原因：超时未响应）" in text(esc, Audience.PREVIOUS)
    assert "(reason: no response in time)" in text(esc, Audience.PREVIOUS, "en")
    closed = event(EventType.CLOSED, reason="feedback_window_expired")
    assert "已结案（评价期内未评价）" in text(closed, Audience.WORKER)


def test_a_refusal_reads_in_the_recipients_language_not_the_routers() -> None:
    """The router's English reason stays out of the zh-CN text; the kind is said in Chinese."""
    refused = event(
        EventType.ACTION_REFUSED,
        reason="only the worker who filed the grievance may withdraw",
        data={"refused_action": "withdraw", "refusal_kind": "not_permitted"},
    )
    zh = text(refused, Audience.ACTOR)
    assert zh == (
        "您的“撤回”未被执行（诉求编号 ZT-261123-7K3F9QX2）：您无权以此身份执行该操作。"
        "如有疑问，请联系承办单位。"
    )
    assert not any("a" <= ch.lower() <= "z" for ch in zh.replace("ZT-261123-7K3F9QX2", ""))
    en = text(refused, Audience.ACTOR, locale="en")
    assert "you may not take it in this role (only the worker who filed" in en
