"""A case for people: the application's ``CaseView`` (its projection row and timeline,
personal data already taken out for callers who may not see it,
``application.read_models.case``) with the labels a person reads."""

from __future__ import annotations

from typing import Any

from api.schemas import ActorOut, CaseDetail, TimelineEntry, case_out
from application.read_models import CaseView
from domain.labels import EVENT_LABELS_ZH
from domain.roles import ROLE_LABELS_ZH, Role

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
