"""Which events leave a notice, for whom: written in the same transaction as the event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from store.event_store import Notice


def _department(record: dict[str, Any]) -> str:
    return str(record["data"].get("department") or "")


def notices_for(case_id: str, records: Iterable[dict[str, Any]]) -> list[Notice]:
    notices: list[Notice] = []
    for r in records:
        data, kind = r["data"], r["type"]
        version = r["version"]
        if kind == "StageWarned":
            notices.append(
                Notice(
                    version,
                    "stage_warning",
                    "supervision",
                    f"case {case_id}: stage {data['stage']} turned yellow, due {data['due_at']}",
                    {"stage": data["stage"], "due_at": data["due_at"]},
                )
            )
        elif kind == "StageOverdue":
            notices.append(
                Notice(
                    version,
                    "stage_overdue",
                    "supervision",
                    f"case {case_id}: stage {data['stage']} passed its deadline {data['due_at']}",
                    {"stage": data["stage"], "due_at": data["due_at"]},
                )
            )
        elif kind == "CaseBacklogged":
            notices.append(
                Notice(
                    version,
                    "case_backlogged",
                    "supervision",
                    f"case {case_id}: suspended since {data['suspended_since']}: backlog (积存)",
                    {"suspended_since": data["suspended_since"]},
                )
            )
        elif kind in ("CaseUrged", "SupervisionIssued") and _department(r):
            label = "urged (催办)" if kind == "CaseUrged" else f"supervised (督办, {data['level']})"
            notices.append(
                Notice(
                    version,
                    "case_urged" if kind == "CaseUrged" else "supervision_issued",
                    f"department:{_department(r)}",
                    f"case {case_id} {label}: {data['message']}",
                    {
                        k: data.get(k)
                        for k in ("level", "message", "stage", "reply_due_at")
                        if k in data
                    },
                )
            )
        elif kind == "CaseDispatched":
            notices.append(
                Notice(
                    version,
                    "task_assigned",
                    f"department:{_department(r)}",
                    f"case {case_id} dispatched to you (派遣), sign for by {data.get('due_at')}",
                    {"due_at": data.get("due_at"), "disposal_due_at": data.get("disposal_due_at")},
                )
            )
    return notices
