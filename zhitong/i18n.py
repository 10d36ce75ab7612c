"""Words the CLI prints for people, zh-CN first, then English (``--lang``)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Lang(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


_ZH: Mapping[str, str] = {
    # states
    "submitted": "已提交", "assigned": "已分派", "acknowledged": "已受理",
    "awaiting_worker": "待补充材料", "resolved": "已办结", "closed": "已关闭",
    "reopened": "已重新打开", "rejected": "已驳回", "withdrawn": "已撤回",
    # events
    "grievance.assigned": "分派", "grievance.acknowledged": "受理",
    "grievance.info_requested": "要求补充材料", "grievance.worker_replied": "从业人员回复",
    "grievance.note_added": "备注", "grievance.sla_warning": "时限预警",
    "grievance.escalated": "升级", "grievance.reassigned": "改派",
    "grievance.referred": "提交联席会议", "grievance.extended": "延期",
    "grievance.resolved": "办结", "grievance.feedback_requested": "邀请评价",
    "grievance.reopened": "重新打开", "grievance.reclassified": "更正分类",
    "grievance.closed": "关闭", "grievance.rejected": "驳回",
    "grievance.withdrawn": "撤回", "grievance.overdue": "超时",
    "grievance.duplicate_linked": "关联重复诉求", "action.refused": "操作被拒绝",
    # fields and headings
    "id": "编号", "tracking_no": "查询码", "state": "状态", "category": "类别",
    "urgency": "紧急程度", "tier": "层级", "assignee": "承办单位", "submitted_at": "提交时间",
    "ack_due": "响应时限", "resolve_due": "办结时限", "source": "来源", "description": "诉求内容",
    "timeline": "处理记录", "time": "时间", "event": "事项", "actor": "操作人", "note": "说明",
    "scope": "范围", "overall": "总体", "by_unit": "按承办单位", "by_tier": "按层级",
    "total": "总数", "open": "在办", "overdue": "超时", "breaches": "超时次数",
    "response_rate": "响应率", "resolution_rate": "办结率", "satisfaction_rate": "满意率",
    "ack_time": "响应用时 中位/P90", "resolve_time": "办结用时 中位/P90", "unit": "单位",
    "kind": "类型", "stream": "来源流", "entry": "条目", "error": "错误", "deliveries": "投递次数",
    "dlq_empty": "死信队列为空", "not_found": "找不到诉求",
}  # fmt: skip

_EN: Mapping[str, str] = {
    "awaiting_worker": "awaiting worker", "tracking_no": "tracking no", "ack_due": "ack due",
    "resolve_due": "resolve due", "submitted_at": "submitted", "by_unit": "by unit",
    "by_tier": "by tier", "response_rate": "response rate", "resolution_rate": "resolution rate",
    "satisfaction_rate": "satisfaction rate", "ack_time": "time to ack median/p90",
    "resolve_time": "time to resolve median/p90", "dlq_empty": "the DLQ is empty",
    "not_found": "no grievance", "tier": "tier", "breaches": "breaches",
}  # fmt: skip


def word(lang: Lang, key: str) -> str:
    """Return the word for ``key`` in ``lang`` (English falls back to the key, made readable)."""
    if lang is Lang.ZH_CN:
        return _ZH.get(key, key)
    return _EN.get(key, key.removeprefix("grievance.").replace("_", " "))
