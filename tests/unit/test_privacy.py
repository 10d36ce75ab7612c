"""The one masking function: every phone and ID format masked, ordinary numbers kept."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
import structlog

from services.notifier.recipients import Audience
from shared.events import EventType
from shared.logging import configure_logging, get_logger
from shared.privacy import REDACTED, mask, pseudonym, pseudonym_secret
from tests.unit.test_notifier_templates import GRIEVANCE, event, text

MASKED = [
    "13800138000",
    "138 0013 8001",
    "138-0013-8002",
    "138.0013.8010",
    "１３８００１３８００３",
    "１３８ ００１３ ８００４",
    "+86 138 0013 8005",
    "+8613800138006",
    "008613800138007",
    "0571-87654321",
    "010-12345678",
    "(0571)87654321",
    "057187654321",
    "11010519491231002X",
    "11010519491231002x",
    "110105194912310021",
    "110105 19491231 002X",
    "110105491231002",
    "110105 491231 002",
    "１１０１０５１９４９１２３１００２Ｘ",
    "zhang.san+gig@example.com.cn",
    "Bearer zt-demo-key",
]
KEPT = [
    "ZT-261123-7K3F9QX2",
    "01JC8ZK3QW7N5X2M4R6T8V0B1D",
    "2024-01-15T10:30:00Z",
    "2024-01-15 10:30:00.123456+00:00",
    "1700000000000-0",
    "1700000000",
    "3500元",
    "工资3500元，欠了2个月，共7000元",
    "¥12,800.00",
    "订单号 78901234567890",
    "运单号 YT1234567890123",
    "12345678",
    "2024年1月15日下午3点",
    "第138号",
    "w-1001",
    "a@b",
]


@pytest.mark.parametrize("number", MASKED)
def test_every_format_is_masked_inside_chinese_text(number: str) -> None:
    """Each phone / landline / ID / e-mail format is masked alone and inside a sentence."""
    assert mask(number).replace("Bearer ", "") == REDACTED
    sentence = f"我的联系方式：{number}，谢谢"
    assert number.removeprefix("Bearer ") not in mask(sentence)
    assert mask(sentence).startswith("我的联系方式：")
    assert mask(sentence).endswith("，谢谢")


@pytest.mark.parametrize("text", KEPT)
def test_tracking_numbers_times_and_amounts_survive(text: str) -> None:
    """Tracking numbers, ids, timestamps and amounts are not personal data: left as they are."""
    assert mask(text) == text


def test_several_numbers_in_one_text_are_all_masked() -> None:
    """Two phones and an ID in one text: three masks, the rest kept."""
    text = "张三 138 0013 8001 / 0571-87654321，身份证110105194912310021，欠薪3500元"
    assert mask(text) == f"张三 {REDACTED} / {REDACTED}，身份证{REDACTED}，欠薪3500元"


def test_pseudonyms_are_keyed_and_stable() -> None:
    """The same id and secret give the same pseudonym; another secret gives another one."""
    assert pseudonym("s" * 16, "w-1") == pseudonym("s" * 16, "w-1")
    assert pseudonym("s" * 16, "w-1") != pseudonym("t" * 16, "w-1")
    assert pseudonym_secret("configured-secret", ["a"]) == "configured-secret"
    assert pseudonym_secret(None, ["a"]) != pseudonym_secret(None, ["b"])


@pytest.fixture(name="log_lines")
def fixture_log_lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Return the buffer the configured JSON logger writes to."""
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stdout", buffer)
    configure_logging("test")
    yield buffer
    structlog.reset_defaults()


def test_exception_lines_hold_no_locals_keys_or_phones(log_lines: io.StringIO) -> None:
    """A logged exception shows its frames without locals; key and phone are masked."""
    authorization = "Bearer zt-demo-key"
    phone = "138 0013 8001"

    def fail(headers: dict[str, str], body: str) -> None:
        raise ValueError(f"cannot file {body} for {headers['authorization']}")

    try:
        fail({"authorization": authorization}, f"电话{phone}")
    except ValueError:
        get_logger("t").exception("request_failed", note=f"call {phone}", phone="13800138000")
    (line,) = log_lines.getvalue().splitlines()
    record = json.loads(line)
    assert "zt-demo-key" not in line
    assert "0013" not in line
    assert "13800138000" not in line
    frames = record["exception"][0]["frames"]
    assert frames
    assert all("locals" not in frame for frame in frames)


def test_notifications_mask_texts_for_those_who_may_not_see_the_worker() -> None:
    """An anonymous worker's note reaches the assignee masked; the worker's own reply is not."""
    phone = "138 0013 8001"
    anonymous = replace(GRIEVANCE, anonymous=True, title=f"电话{phone}")
    note = event(EventType.NOTE_ADDED, data={"note": f"请回电 {phone}"})
    masked = text(note, Audience.ASSIGNEE, grievance=anonymous)
    assert "0013" not in masked
    assert REDACTED in masked
    assert phone in text(note, Audience.ASSIGNEE)  # named worker, assignee may call back
    resolved = event(EventType.RESOLVED, data={"resolution": f"已回电 {phone}"})
    assert phone in text(resolved, Audience.WORKER, grievance=anonymous)
