"""The words people read, in one place: zh-CN first, then English.

Templates (the notifier), the CLI and the console name the same things the same way: a
grievance's **编号** is its tracking number (what the worker is told and quotes), its
internal id is **内部 ID**; states, events, categories, tiers and reasons each have one word
per locale.  ``label`` falls back to Chinese, then to the key itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

DEFAULT_LOCALE = "zh-CN"

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
    "deadline": {"ack": "响应", "resolve": "办结", "rating": "评价"},
    "anonymous": {"worker": "匿名从业人员", "named": "从业人员"},
    "unit": {"assignee": "承办单位", "previous": "原承办单位"},
    "role": {
        "worker": "从业人员", "member": "党员", "branch": "党支部", "committee": "行业党委",
        "department": "联席部门", "oversight": "监督单位", "system": "系统",
    },
    "reason": {
        "ack_overdue": "超时未响应", "resolve_overdue": "超时未办结",
        "ack_due_soon": "响应时限将到", "resolve_due_soon": "办结时限将到",
        "feedback_window_expired": "评价期内未评价", "reminder": "评价提醒",
        "still_overdue": "仍未办结", "rated": "已评价", "rating": "评 {n} 分",
        "matched_branch": "匹配到{unit}", "manual": "人工升级",
        "no committee matched; fallback unit": "未匹配到行业党委，由兜底单位承办",
        "no branch matched; fallback unit": "未匹配到党支部，由兜底单位承办",
        "branch has no members": "党支部暂无党员，由党支部承办",
        "nearby open report": "附近已有同类在办诉求，关联办理",
        "nearby report linked": "附近的同类诉求已关联到本诉求",
        "original_resolved": "原诉求已办结", "original_ended": "原诉求{state}，单独办理",
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
    "state": {
        "submitted": "已提交", "assigned": "已分派", "acknowledged": "已受理",
        "awaiting_worker": "待补充材料", "resolved": "已办结", "closed": "已关闭",
        "rejected": "已驳回", "withdrawn": "已撤回",
    },
    "event": {
        "grievance.assigned": "分派", "grievance.acknowledged": "受理",
        "grievance.info_requested": "要求补充材料", "grievance.worker_replied": "从业人员回复",
        "grievance.note_added": "备注", "grievance.sla_warning": "时限预警",
        "grievance.escalated": "升级", "grievance.reassigned": "改派",
        "grievance.referred": "提交联席会议", "grievance.extended": "延期",
        "grievance.resolved": "办结", "grievance.feedback_requested": "邀请评价",
        "grievance.reopened": "重新交办", "grievance.reclassified": "更正分类",
        "grievance.closed": "关闭", "grievance.rejected": "驳回",
        "grievance.withdrawn": "撤回", "grievance.overdue": "超时",
        "grievance.duplicate_linked": "关联重复诉求", "action.refused": "操作被拒绝",
    },
    "field": {
        "id": "内部 ID", "tracking_no": "编号", "state": "状态", "category": "类别",
        "urgency": "紧急程度", "tier": "层级", "assignee": "承办单位", "submitted_at": "提交时间",
        "ack_due": "响应时限", "resolve_due": "办结时限", "source": "来源",
        "description": "诉求内容", "timeline": "处理记录", "time": "时间", "event": "事项",
        "actor": "操作人", "note": "说明", "scope": "范围", "overall": "总体",
        "by_unit": "按承办单位", "by_tier": "按层级", "total": "总数", "open": "在办",
        "overdue": "超时", "breaches": "超时次数", "response_rate": "响应率",
        "resolution_rate": "办结率", "satisfaction_rate": "满意率",
        "ack_time": "响应用时 中位/P90", "resolve_time": "办结用时 中位/P90", "unit": "单位",
        "kind": "类型", "stream": "来源流", "entry": "条目", "error": "错误",
        "deliveries": "投递次数", "dlq_empty": "死信队列为空", "not_found": "找不到诉求",
        "feedback_closes_at": "评价截止", "rating": "评分", "due": "当前时限",
        "next_page": "下一页", "no_grievances": "没有符合条件的诉求", "departments": "联席部门",
        "by_state": "按状态", "count": "件数", "fallback_used": "兜底承办（未匹配到网点）",
        "committee": "行业党委", "all_time": "全部时间", "window": "提交日期",
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
    "deadline": {"ack": "response", "resolve": "resolution", "rating": "rating"},
    "anonymous": {"worker": "an anonymous worker", "named": "a worker"},
    "unit": {"assignee": "the responsible unit", "previous": "the previous unit"},
    "role": {
        "worker": "worker", "member": "party member", "branch": "branch",
        "committee": "industry committee", "department": "department",
        "oversight": "oversight", "system": "system",
    },
    "reason": {
        "ack_overdue": "no response in time", "resolve_overdue": "not resolved in time",
        "ack_due_soon": "response due soon", "resolve_due_soon": "resolution due soon",
        "feedback_window_expired": "no rating within the feedback window",
        "reminder": "rating reminder", "still_overdue": "still overdue", "rated": "rated",
        "rating": "rated {n}", "matched_branch": "matched {unit}",
        "manual": "escalated by hand",
        "no committee matched; fallback unit": "no committee matched: the fallback unit holds it",
        "no branch matched; fallback unit": "no branch matched: the fallback unit holds it",
        "branch has no members": "the branch has no members: the branch holds it",
        "nearby open report": "linked to an open report nearby",
        "nearby report linked": "a report nearby was linked to this one",
        "original_resolved": "the original report was resolved",
        "original_ended": "the original was {state}: handled on its own",
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
    "state": {"awaiting_worker": "awaiting worker"},
    "field": {
        "id": "internal id", "tracking_no": "tracking no", "ack_due": "ack due",
        "resolve_due": "resolve due", "submitted_at": "submitted", "by_unit": "by unit",
        "by_tier": "by tier", "response_rate": "response rate",
        "resolution_rate": "resolution rate", "satisfaction_rate": "satisfaction rate",
        "ack_time": "time to ack median/p90", "resolve_time": "time to resolve median/p90",
        "dlq_empty": "the DLQ is empty", "not_found": "no grievance", "tier": "tier",
        "breaches": "breaches", "feedback_closes_at": "rating window closes",
        "next_page": "next page", "no_grievances": "no grievance matches",
        "by_state": "by state", "fallback_used": "fallback used (no branch matched)",
        "all_time": "all time", "window": "submitted",
    },
}  # fmt: skip

TABLES: Mapping[str, Mapping[str, Mapping[str, str]]] = {"zh-CN": _ZH, "en": _EN}


def label(locale: str, table: str, key: object) -> str | None:
    """Return the word for ``key`` in ``table``; Chinese when ``locale`` has none, else the key."""
    if key is None:
        return None
    text = str(key.value if hasattr(key, "value") else key)
    words = TABLES.get(locale, _ZH).get(table, {})
    return words.get(text) or _ZH.get(table, {}).get(text) or text


# Reasons the router writes with a value in them: (pattern, word key, the value's name).
_REASON_PATTERNS = (
    (re.compile(r"rating (\d)"), "rating", "n"),
    (re.compile(r"matched branch (\S+)"), "matched_branch", "unit"),
    (re.compile(r"original (\w+); routed on its own"), "original_ended", "state"),
)


def reason(locale: str, text: str | None, names: Mapping[str, str] | None = None) -> str | None:
    """Return a router reason in words (``ack_overdue`` → 超时未响应, ``rating 1`` → 评 1 分);
    a unit in it by its name from ``names``; free text (a person's reason) as it is."""
    if not text:
        return None
    for pattern, key, slot in _REASON_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            value = match.group(1)
            if slot == "unit":
                value = (names or {}).get(value) or value
            elif slot == "state":  # English has no word for most states: they are words
                value = TABLES.get(locale, _ZH)["state"].get(value) or value.replace("_", " ")
            return (label(locale, "reason", key) or "").format(**{slot: value})
    return label(locale, "reason", text)
