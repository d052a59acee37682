"""The rules a case runs under (环节时限, 处置时限, escalation ladder, calendar).

They are resolved when the case is reported (from the center's policy, the category's
filing conditions and the working calendar) and recorded in its first event, so every
deadline of the case can be recomputed from its own log, and a later change of policy
never moves the deadlines of cases already in flight.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.calendar import TimeLimit, TimeUnit, WorkingCalendar
from domain.holiday_notices import recorded_calendar

# gridcase defaults; a center sets its own (docs/field-facts.md §3 gives field examples: verify
# 30 min, file+dispatch 30 min, sign for within 1 working hour, re-check 30 min to 2 h).
DEFAULT_STAGE_LIMITS: dict[str, str] = {
    "verify": "30 minutes",
    "review": "1 working_hours",
    "dispatch": "30 minutes",
    "sign_for": "1 working_hours",
    "handle": "1 working_days",
    "check": "2 hours",
    "close": "1 working_hours",
}


def seconds_limit(seconds: float) -> str:
    """A plain wall-clock limit of ``seconds`` (drills and tests use short ones)."""
    return str(TimeLimit(seconds / 60.0, TimeUnit.MINUTES))


@dataclass(frozen=True, kw_only=True)
class CaseRules:
    stage_limits: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STAGE_LIMITS))
    # Filing conditions (立案条件) of the category: condition id -> disposal limit.
    conditions: dict[str, str] = field(default_factory=dict)
    urgency: str = "ordinary"
    self_handling: bool = False  # may a grid worker fix it on the spot (自行处置)
    default_department: str = ""
    warn_ratio: float = 0.8  # yellow light from this share of a stage's limit
    yellow_card_after: str = "1 working_days"  # overdue this long: 黄牌 supervision
    red_card_after: str = "2 working_days"  # overdue this long: 红牌 supervision
    max_extensions: int = 1  # 延期 allowed for ordinary cases; urgent ones get one more
    bundle_disposal: bool = False  # return/rework keep the disposal deadline
    backlog_after: str = "60 calendar_days"  # suspended this long: 积存
    reply_limit: str = "1 working_days"  # department's reply to a 督办
    approval_limit: str = "1 working_hours"  # center's answer to a request
    # The working calendar recorded for the case (WorkingCalendar.to_dict()); empty: the
    # shipped notices, never "no holidays" (domain.holiday_notices.recorded_calendar).
    calendar: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for what, text in [
            *self.stage_limits.items(),
            *self.conditions.items(),
            ("yellow_card_after", self.yellow_card_after),
            ("red_card_after", self.red_card_after),
            ("backlog_after", self.backlog_after),
            ("reply_limit", self.reply_limit),
            ("approval_limit", self.approval_limit),
        ]:
            try:
                TimeLimit.parse(text)
            except ValueError as exc:
                raise ValueError(f"time limit of {what}: {exc}") from None
        if not 0 < self.warn_ratio <= 1:
            raise ValueError(f"warn_ratio must be in (0, 1], got {self.warn_ratio}")
        if self.max_extensions < 0:
            raise ValueError("max_extensions must not be negative")
        if self.urgency not in ("urgent", "ordinary"):
            raise ValueError(f"urgency must be urgent or ordinary, got {self.urgency!r}")
        # Parsed once per rules object, not per decision (a rebuild folds millions).
        calendar = recorded_calendar(self.calendar)
        object.__setattr__(self, "_calendar", calendar)

    @property
    def working_calendar(self) -> WorkingCalendar:
        calendar: WorkingCalendar = self.__dict__["_calendar"]
        return calendar

    @property
    def extensions_allowed(self) -> int:
        return self.max_extensions + (1 if self.urgency == "urgent" else 0)

    def stage_limit(self, stage: str) -> TimeLimit | None:
        text = self.stage_limits.get(stage)
        return None if text is None else TimeLimit.parse(text)

    def disposal_limit(self, condition: str) -> TimeLimit | None:
        """The condition's disposal limit (处置时限), else the handle stage's, else none."""
        text = self.conditions.get(condition) or self.stage_limits.get("handle")
        return None if text is None else TimeLimit.parse(text)

    def add(self, start: datetime, limit: TimeLimit | str) -> datetime:
        if isinstance(limit, str):
            limit = TimeLimit.parse(limit)
        return self.working_calendar.add(start, limit)

    def warn_at(self, start: datetime, limit: TimeLimit) -> datetime:
        return self.add(start, TimeLimit(limit.amount * self.warn_ratio, limit.unit))

    def remaining(self, now: datetime, due: datetime, unit: TimeUnit) -> TimeLimit | None:
        """Time left until ``due`` counted in ``unit`` (None when nothing is left)."""
        left = self.working_calendar.elapsed(now, due, unit)
        return TimeLimit(left, unit) if left > 0 else None


def rules_from_seconds(stage_limits: dict[str, float]) -> CaseRules:
    """Rules of a case reported with plain per-stage seconds (schema version 1)."""
    limits = {stage: seconds_limit(s) for stage, s in stage_limits.items()}
    return CaseRules(stage_limits=limits)


# One shared instance for defaults: rules are frozen, and building them parses every limit.
DEFAULT_RULES = CaseRules()
