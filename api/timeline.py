"""A case for people: its projection row with its full timeline from the event log, with
personal data taken out for callers who may not see it.

Personal data here is the identity of grid workers: the reporter's id, the actor id of a
grid worker's events and the grid worker a verification was assigned to. Supervision staff
(acceptor, shift leader, dispatcher, supervisor, leader, admin) see them; a grid worker
sees his own id and nobody else's; a handler sees none. Department staff and the center's
own people stay named: they act in an official capacity.
"""

from __future__ import annotations

from typing import Any

from api.schemas import ActorOut, CaseDetail, TimelineEntry, case_out
from domain.labels import EVENT_LABELS_ZH
from domain.roles import ROLE_LABELS_ZH, Role
from store.users import Principal

# Event data that is internal plumbing rather than something a person reads.
_HIDDEN_DETAILS = frozenset({"rules"})
# Event data fields that name a grid worker.
_GRID_WORKER_FIELDS = ("assignee",)


def must_redact(who: Principal, person_id: str) -> bool:
    return not who.sees_personal_data and person_id != who.user_id


def _role_zh(role: str) -> str:
    try:
        return ROLE_LABELS_ZH[Role(role)]
    except ValueError:
        return role


def timeline_entry(record: dict[str, Any], who: Principal) -> TimelineEntry:
    actor = record["actor"]
    hide_actor = actor["role"] == Role.GRID_WORKER.value and must_redact(who, actor["id"])
    details = {k: v for k, v in record["data"].items() if k not in _HIDDEN_DETAILS}
    for key in _GRID_WORKER_FIELDS:
        if isinstance(details.get(key), str) and must_redact(who, details[key]):
            details[key] = None
    return TimelineEntry(
        version=record["version"],
        type=record["type"],
        label_zh=EVENT_LABELS_ZH.get(record["type"], record["type"]),
        actor=ActorOut(
            id=None if hide_actor else actor["id"],
            role=actor["role"],
            role_label_zh=_role_zh(actor["role"]),
            unit=actor.get("unit", ""),
        ),
        time=record["occurred_at"],
        details=details,
    )


def case_detail(row: dict[str, Any], records: list[dict[str, Any]], who: Principal) -> CaseDetail:
    reported: dict[str, Any] = next((r["data"] for r in records if r["type"] == "CaseReported"), {})
    location = reported.get("location") or {}
    return CaseDetail(
        **case_out(row, redact=must_redact(who, row["reporter_id"])),
        address=location.get("address", "") if isinstance(location, dict) else "",
        photos=list(reported.get("photos") or ()),
        timeline=[timeline_entry(r, who) for r in records],
    )
