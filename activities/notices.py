"""Which events leave a notice, for whom: written in the same transaction as the event."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from store.event_store import Notice

Record = dict[str, Any]


def _stage_notice(kind: str, what: str) -> Callable[[str, Record], Notice | None]:
    def make(case_id: str, r: Record) -> Notice:
        data = r["data"]
        return Notice(
            r["version"],
            kind,
            "supervision",
            f"case {case_id}: stage {data['stage']} {what} {data['due_at']}",
            {"stage": data["stage"], "due_at": data["due_at"]},
        )

    return make


def _backlogged(case_id: str, r: Record) -> Notice:
    since = r["data"]["suspended_since"]
    return Notice(
        r["version"],
        "case_backlogged",
        "supervision",
        f"case {case_id}: suspended since {since}: backlog (积存)",
        {"suspended_since": since},
    )


def _to_department(kind: str, text: Callable[[Record], str], keys: tuple[str, ...]) -> Any:
    def make(case_id: str, r: Record) -> Notice | None:
        data = r["data"]
        department = data.get("department") or ""
        if not department:
            return None  # urged at a center stage: supervision sees it in the timeline
        return Notice(
            r["version"],
            kind,
            f"department:{department}",
            f"case {case_id} {text(data)}",
            {k: data.get(k) for k in keys},
        )

    return make


NOTICES: dict[str, Callable[[str, Record], Notice | None]] = {
    "StageWarned": _stage_notice("stage_warning", "turned yellow, due"),
    "StageOverdue": _stage_notice("stage_overdue", "passed its deadline"),
    "CaseBacklogged": _backlogged,
    "CaseDispatched": _to_department(
        "task_assigned",
        lambda d: f"dispatched to you (派遣), sign for by {d.get('due_at')}",
        ("due_at", "disposal_due_at"),
    ),
    "CaseUrged": _to_department(
        "case_urged", lambda d: f"urged (催办): {d['message']}", ("message", "stage")
    ),
    "SupervisionIssued": _to_department(
        "supervision_issued",
        lambda d: f"supervised (督办, {d['level']}): {d['message']}",
        ("level", "message", "stage", "reply_due_at"),
    ),
}


def notices_for(case_id: str, records: Iterable[Record]) -> list[Notice]:
    notices = []
    for record in records:
        make = NOTICES.get(record["type"])
        notice = make(case_id, record) if make else None
        if notice is not None:
            notices.append(notice)
    return notices
