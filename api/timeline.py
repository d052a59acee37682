"""A case for people: the application's ``CaseView`` (its projection row and timeline,
personal data already taken out for callers who may not see it,
``application.read_models.case``) with the labels a person reads."""

from __future__ import annotations

from typing import Any

from api.schemas import ActorOut, CaseDetail, TimelineEntry, case_out
from application.read_models import CaseView
from domain.roles import ROLE_LABELS_ZH, Role

EVENT_LABELS_ZH: dict[str, str] = {
    "CaseReported": "上报",
    "CaseSelfHandled": "自行处置",
    "SelfHandlingApproved": "自行处置通过",
    "SelfHandlingRejected": "自行处置不通过",
    "VerificationRequested": "派发核实",
    "CaseVerified": "核实",
    "CaseFiled": "立案",
    "CaseRejected": "不予立案",
    "CaseCancelled": "作废",
    "CaseMerged": "合并",
    "DuplicateMerged": "合并重复案件",
    "CaseDispatched": "派遣",
    "TaskSignedFor": "签收",
    "ExtensionRequested": "延期申请",
    "ExtensionGranted": "延期批准",
    "ExtensionDenied": "延期驳回",
    "ReturnRequested": "回退申请",
    "CaseReturned": "回退",
    "ReturnDenied": "回退驳回",
    "SuspensionRequested": "挂账申请",
    "CaseSuspended": "挂账",
    "SuspensionDenied": "挂账驳回",
    "CaseResumed": "恢复处置",
    "CaseBacklogged": "积存",
    "FeedbackSubmitted": "处理反馈",
    "ClosureCheckPassed": "核查通过",
    "ClosureCheckFailed": "核查不通过",
    "ReworkOrdered": "返工",
    "CaseClosed": "结案",
    "StageWarned": "黄灯预警",
    "StageOverdue": "超期",
    "CaseUrged": "催办",
    "SupervisionIssued": "督办",
    "SupervisionReplied": "督办回复",
}
# Event data that is internal plumbing rather than something a person reads.
_HIDDEN_DETAILS = frozenset({"rules"})


def _role_zh(role: str) -> str:
    try:
        return ROLE_LABELS_ZH[Role(role)]
    except ValueError:
        return role


def timeline_entry(record: dict[str, Any]) -> TimelineEntry:
    """One event of a ``CaseView`` (grid workers' ids already None where hidden)."""
    actor = record["actor"]
    return TimelineEntry(
        version=record["version"],
        type=record["type"],
        label_zh=EVENT_LABELS_ZH.get(record["type"], record["type"]),
        actor=ActorOut(
            id=actor["id"],
            role=actor["role"],
            role_label_zh=_role_zh(actor["role"]),
            unit=actor.get("unit", ""),
        ),
        time=record["occurred_at"],
        details={k: v for k, v in record["data"].items() if k not in _HIDDEN_DETAILS},
    )


def case_detail(view: CaseView) -> CaseDetail:
    location = view.reported.get("location") or {}
    return CaseDetail(
        **case_out(view.row),
        address=location.get("address", "") if isinstance(location, dict) else "",
        photos=list(view.reported.get("photos") or ()),
        timeline=[timeline_entry(r) for r in view.records],
    )
