"""Words and time formats per locale that templates share (zh-CN first, then English)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")

# Workers and units are in China (no DST): show every time in Beijing time.
BEIJING = timezone(timedelta(hours=8))

_ZH: Mapping[str, Mapping[str, str]] = {
    "category": {
        "wages": "工资报酬", "social_insurance": "社会保险", "rest_leave": "休息休假",
        "equal_employment": "平等就业", "accommodation": "住宿", "insurance_claim": "货损理赔",
        "road_access": "通行受阻", "sorting": "分拣", "schooling": "子女入学",
        "membership": "党员关系迁转", "health": "健康诊疗", "legal_aid": "法律援助",
        "platform_rules": "平台规则", "safety_hazard": "安全隐患",
        "public_facility": "公共设施", "sanitation": "环境卫生", "traffic_order": "交通秩序",
        "other": "其他",
    },
    "urgency": {"low": "一般", "normal": "普通", "high": "紧急", "critical": "特急"},
    "tier": {"1": "党员", "2": "党支部", "3": "行业党委"},
    "deadline": {"ack": "响应", "resolve": "办结"},
    "anonymous": {"worker": "匿名从业人员", "named": "从业人员"},
    "unit": {"assignee": "承办单位", "previous": "原承办单位"},
    "reason": {
        "ack_overdue": "超时未响应", "resolve_overdue": "超时未办结",
        "ack_due_soon": "响应时限将到", "resolve_due_soon": "办结时限将到",
        "feedback_window_expired": "评价期内未评价", "reminder": "评价提醒",
        "still_overdue": "仍未办结", "rated": "已评价", "rating": "评 {n} 分",
    },
    "refusal": {
        "not_permitted": "您无权以此身份执行该操作", "not_now": "诉求当前的状态不允许该操作",
        "not_accepted": "所填内容不符合要求或超出限制",
    },
    "action": {
        "acknowledge": "受理", "request_info": "补充材料", "worker_reply": "回复",
        "add_note": "备注", "escalate": "升级", "reassign": "改派", "refer": "提交联席会议",
        "extend": "延期", "resolve": "办结", "feedback": "评价", "withdraw": "撤回",
        "reclassify": "更正分类",
    },
}  # fmt: skip

_EN: Mapping[str, Mapping[str, str]] = {
    "category": {
        "wages": "wages", "social_insurance": "social insurance", "rest_leave": "rest and leave",
        "equal_employment": "equal employment", "accommodation": "accommodation",
        "insurance_claim": "insurance claim", "road_access": "road access",
        "sorting": "sorting", "schooling": "schooling", "membership": "membership transfer",
        "health": "health", "legal_aid": "legal aid", "platform_rules": "platform rules",
        "safety_hazard": "safety hazard", "public_facility": "public facility",
        "sanitation": "sanitation", "traffic_order": "traffic order", "other": "other",
    },
    "urgency": {"low": "low", "normal": "normal", "high": "high", "critical": "critical"},
    "tier": {"1": "party member", "2": "branch", "3": "industry committee"},
    "deadline": {"ack": "response", "resolve": "resolution"},
    "anonymous": {"worker": "an anonymous worker", "named": "a worker"},
    "unit": {"assignee": "the responsible unit", "previous": "the previous unit"},
    "reason": {
        "ack_overdue": "no response in time", "resolve_overdue": "not resolved in time",
        "ack_due_soon": "response due soon", "resolve_due_soon": "resolution due soon",
        "feedback_window_expired": "no rating within the feedback window",
        "reminder": "rating reminder", "still_overdue": "still overdue", "rated": "rated",
        "rating": "rated {n}",
    },
    "refusal": {
        "not_permitted": "you may not take it in this role",
        "not_now": "the grievance's state does not allow it now",
        "not_accepted": "what was sent is incomplete or over a limit",
    },
    "action": {
        "acknowledge": "acknowledge", "request_info": "request information",
        "worker_reply": "reply", "add_note": "add a note", "escalate": "escalate",
        "reassign": "reassign", "refer": "refer", "extend": "extend", "resolve": "resolve",
        "feedback": "feedback", "withdraw": "withdraw", "reclassify": "reclassify",
    },
}  # fmt: skip

_TABLES = {"zh-CN": _ZH, "en": _EN}
_RATING_REASON = re.compile(r"rating (\d)")


def normalise(locale: str | None) -> str:
    """Return a supported locale for ``locale`` (``zh``, ``zh-Hans`` → zh-CN; ``en-GB`` → en)."""
    if not locale:
        return DEFAULT_LOCALE
    lowered = locale.lower()
    if lowered.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def label(locale: str, table: str, key: object) -> str | None:
    """Return the word for ``key`` in ``table``; the raw key when there is no word for it."""
    if key is None:
        return None
    text = str(key.value if hasattr(key, "value") else key)
    words = _TABLES.get(locale, _ZH).get(table, {})
    return words.get(text) or _ZH.get(table, {}).get(text) or text


def reason(locale: str, text: str | None) -> str | None:
    """Return a router reason code in words (``ack_overdue`` → 超时未响应); free text as is."""
    if not text:
        return None
    match = _RATING_REASON.fullmatch(text)
    if match:
        return (label(locale, "reason", "rating") or "").format(n=match.group(1))
    return label(locale, "reason", text)


@lru_cache(maxsize=4096)  # a batch's events share deadlines and instants per locale
def when(locale: str, moment: datetime | str | None) -> str | None:
    """Return a deadline as people read it: ``11月24日 18:30`` / ``24 Nov 18:30 (UTC+8)``."""
    if moment is None or moment == "":
        return None
    if isinstance(moment, str):
        try:
            parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment  # show what the router sent rather than nothing
    else:
        parsed = moment
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        local = parsed.astimezone(BEIJING)
    except OverflowError:  # 9999-12-31T23:59Z has no UTC+8 day: show it as sent
        return parsed.isoformat()
    if locale == "en":
        return f"{local:%d %b %H:%M} (UTC+8)"
    return f"{local.month}月{local.day}日 {local:%H:%M}"
