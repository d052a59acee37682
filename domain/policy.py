"""A center's policy (环节时限, escalation ladder, extension and suspension rules) and how
it becomes the rules of one case, together with the category and the working calendar."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from domain.calendar import TimeLimit, WorkingCalendar
from domain.rules import DEFAULT_STAGE_LIMITS, CaseRules
from domain.taxonomy import Category, Urgency

# Urgent cases are filed and dispatched faster (one center: 10 min urgent, 30 ordinary).
DEFAULT_URGENT_STAGE_LIMITS: dict[str, str] = {
    "verify": "10 minutes",
    "dispatch": "10 minutes",
    "sign_for": "30 minutes",
}


@dataclass(frozen=True, kw_only=True)
class CenterPolicy:
    stage_limits: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STAGE_LIMITS))
    urgent_stage_limits: dict[str, str] = field(
        default_factory=lambda: dict(DEFAULT_URGENT_STAGE_LIMITS)
    )
    warn_ratio: float = 0.8
    yellow_card_after: str = "1 working_days"
    red_card_after: str = "2 working_days"
    max_extensions: int = 1
    bundle_disposal: bool = False
    backlog_after: str = "60 calendar_days"
    reply_limit: str = "1 working_days"
    approval_limit: str = "1 working_hours"

    def __post_init__(self) -> None:
        self.rules_for(None, WorkingCalendar())  # validate every limit once, at load

    def rules_for(self, category: Category | None, calendar: WorkingCalendar) -> CaseRules:
        urgent = category is not None and category.urgency is Urgency.URGENT
        limits = dict(self.stage_limits)
        if urgent:
            limits.update(self.urgent_stage_limits)
        conditions = {} if category is None else {c.id: str(c.limit) for c in category.conditions}
        return CaseRules(
            stage_limits=limits,
            conditions=conditions,
            urgency="urgent" if urgent else "ordinary",
            self_handling=category.self_handling if category else False,
            default_department=category.default_department if category else "",
            warn_ratio=self.warn_ratio,
            yellow_card_after=self.yellow_card_after,
            red_card_after=self.red_card_after,
            max_extensions=self.max_extensions,
            bundle_disposal=self.bundle_disposal,
            backlog_after=self.backlog_after,
            reply_limit=self.reply_limit,
            approval_limit=self.approval_limit,
            calendar=calendar.to_dict(),
        )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CenterPolicy:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown policy setting(s): {', '.join(sorted(unknown))}")
        for key in ("stage_limits", "urgent_stage_limits"):
            for stage, text in dict(data.get(key, {})).items():
                TimeLimit.parse(text)  # a clear error naming the bad limit
                if stage not in DEFAULT_STAGE_LIMITS:
                    raise ValueError(f"{key}: {stage!r} is not a stage with a time limit")
        return cls(**dict(data))
