"""The rules a case runs under (环节时限, 处置时限, escalation ladder, calendar).

They are resolved when the case is reported (from the center's policy, the category's
filing conditions and the working calendar) and recorded in its first event, so every
deadline of the case can be recomputed from its own log, and a later change of policy
never moves the deadlines of cases already in flight.

Limits are held parsed (``TimeLimit``); their recorded form, in the event store and on the
Temporal wire, is the text ``"30 minutes"`` (``to_dict`` / ``from_dict``).
"""

# No "from __future__ import annotations" here: the rules cross the Temporal boundary
# inside ReportCase, and the SDK resolves string annotations against sys.modules, which
# differs inside the workflow sandbox.

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from domain.calendar import TimeLimit, TimeUnit, WorkingCalendar
from domain.holiday_notices import recorded_calendar
from domain.stages import SupervisionLevel


def _parse_all(texts: Mapping[str, str]) -> dict[str, TimeLimit]:
    return {key: TimeLimit.parse(text) for key, text in texts.items()}


# gridcase defaults; a center sets its own (docs/field-facts.md §3 gives field examples:
# verify 30 min, file+dispatch 30 min, sign for within 1 working hour, re-check 30 min to
# 2 h).
DEFAULT_STAGE_LIMITS: dict[str, TimeLimit] = _parse_all(
    {
        "verify": "30 minutes",
        "review": "1 working_hours",
        "dispatch": "30 minutes",
        "sign_for": "1 working_hours",
        "handle": "1 working_days",
        "check": "2 hours",
        "close": "1 working_hours",
    }
)
_ONE_WORKING_HOUR = TimeLimit(1, TimeUnit.WORKING_HOURS)
_ONE_WORKING_DAY = TimeLimit(1, TimeUnit.WORKING_DAYS)
_TWO_WORKING_DAYS = TimeLimit(2, TimeUnit.WORKING_DAYS)
_SIXTY_DAYS = TimeLimit(60, TimeUnit.CALENDAR_DAYS)
_THIRTY_WORKING_DAYS = TimeLimit(30, TimeUnit.WORKING_DAYS)
# Keys older releases recorded in the rules and nothing reads: skipped when read back.
RETIRED_KEYS = frozenset({"default_department"})
_LIMITS = (
    "yellow_card_after",
    "red_card_after",
    "backlog_after",
    "reply_limit",
    "approval_limit",
    "max_extension",
)
_LIMIT_MAPS = ("stage_limits", "conditions")


def seconds_limit(seconds: float) -> TimeLimit:
    """A plain wall-clock limit of ``seconds`` (drills and tests use short ones)."""
    return TimeLimit(seconds / 60.0, TimeUnit.MINUTES)


def limits_from_text(what: str, texts: Mapping[str, Any]) -> dict[str, TimeLimit]:
    """``{key: "2 hours"}`` parsed, with an error naming the limit that is wrong."""
    return {key: _limit(f"{what} {key}", value) for key, value in dict(texts).items()}


def _limit(what: str, value: Any) -> TimeLimit:
    if isinstance(value, TimeLimit):
        return value
    if not isinstance(value, str):
        raise ValueError(f"time limit of {what}: expected text such as '2 hours', got {value!r}")
    try:
        return TimeLimit.parse(value)
    except ValueError as exc:
        raise ValueError(f"time limit of {what}: {exc}") from None


@dataclass(frozen=True, kw_only=True)
class CaseRules:
    stage_limits: dict[str, TimeLimit] = field(default_factory=lambda: dict(DEFAULT_STAGE_LIMITS))
    # Filing conditions (立案条件) of the category: condition id -> disposal limit.
    conditions: dict[str, TimeLimit] = field(default_factory=dict)
    urgency: str = "ordinary"
    self_handling: bool = False  # may a grid worker fix it on the spot (自行处置)
    warn_ratio: float = 0.8  # yellow light from this share of a stage's limit
    # Overdue this long: 黄牌 / 红牌 supervision (the ladder's automatic cards).
    yellow_card_after: TimeLimit = _ONE_WORKING_DAY
    red_card_after: TimeLimit = _TWO_WORKING_DAYS
    max_extensions: int = 1  # 延期 allowed for ordinary cases; urgent ones get one more
    # The most time one extension may ask for (counted from the request: no request may
    # move the deadline further than this would). Cases recorded before it get the default.
    max_extension: TimeLimit = _THIRTY_WORKING_DAYS
    bundle_disposal: bool = False  # return/rework keep the disposal deadline
    backlog_after: TimeLimit = _SIXTY_DAYS  # suspended this long: 积存
    reply_limit: TimeLimit = _ONE_WORKING_DAY  # the department's reply to a 督办
    approval_limit: TimeLimit = _ONE_WORKING_HOUR  # the center's answer to a department's request
    # The working calendar recorded for the case (WorkingCalendar.to_dict()); empty: the
    # shipped notices, never "no holidays" (domain.holiday_notices.recorded_calendar).
    calendar: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        named = [(name, getattr(self, name)) for name in _LIMITS]
        for key in _LIMIT_MAPS:
            named += [(f"{key} {k}", v) for k, v in getattr(self, key).items()]
        for what, value in named:
            if not isinstance(value, TimeLimit):
                raise TypeError(
                    f"rule {what} must be a TimeLimit, got {value!r} "
                    "(CaseRules.from_dict reads limits written as text)"
                )
        if not 0 < self.warn_ratio <= 1:
            raise ValueError(f"warn_ratio must be in (0, 1], got {self.warn_ratio}")
        if self.max_extensions < 0:
            raise ValueError("max_extensions must not be negative")
        if self.urgency not in ("urgent", "ordinary"):
            raise ValueError(f"urgency must be urgent or ordinary, got {self.urgency!r}")
        # Parsed once per rules object, not per decision (a rebuild folds millions).
        calendar = recorded_calendar(self.calendar)
        object.__setattr__(self, "_calendar", calendar)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CaseRules":
        """The rules from their recorded form (limits as text, e.g. "30 minutes")."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known - RETIRED_KEYS
        if unknown:
            raise ValueError(f"unknown rule(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key in _LIMITS:
                values[key] = _limit(key, value)
            elif key in _LIMIT_MAPS:
                values[key] = limits_from_text(key, value)
            elif key == "warn_ratio":
                values[key] = float(value)
            elif key in known:
                values[key] = value
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The recorded form: what ``from_dict`` reads."""
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _LIMITS:
                value = str(value)
            elif f.name in _LIMIT_MAPS:
                value = {k: str(v) for k, v in value.items()}
            elif isinstance(value, dict):
                value = dict(value)
            data[f.name] = value
        return data

    @property
    def working_calendar(self) -> WorkingCalendar:
        calendar: WorkingCalendar = self.__dict__["_calendar"]
        return calendar

    @property
    def extensions_allowed(self) -> int:
        return self.max_extensions + (1 if self.urgency == "urgent" else 0)

    def stage_limit(self, stage: str) -> TimeLimit | None:
        return self.stage_limits.get(stage)

    def disposal_limit(self, condition: str) -> TimeLimit | None:
        """The condition's disposal limit (处置时限), else the handle stage's, else none."""
        return self.conditions.get(condition) or self.stage_limits.get("handle")

    def card_after(self, level: SupervisionLevel) -> TimeLimit | None:
        """How long a department stage is overdue before the ladder's card of ``level``."""
        if level is SupervisionLevel.YELLOW:
            return self.yellow_card_after
        if level is SupervisionLevel.RED:
            return self.red_card_after
        return None  # ordinary supervision is people's, never automatic

    def add(self, start: datetime, limit: TimeLimit) -> datetime:
        return self.working_calendar.add(start, limit)

    def warn_at(self, start: datetime, limit: TimeLimit) -> datetime:
        return self.add(start, TimeLimit(limit.amount * self.warn_ratio, limit.unit))

    def remaining(self, now: datetime, due: datetime, unit: TimeUnit) -> TimeLimit | None:
        """Time left until ``due`` counted in ``unit`` (None when nothing is left)."""
        left = self.working_calendar.elapsed(now, due, unit)
        return TimeLimit(left, unit) if left > 0 else None


def rules_from_seconds(stage_limits: Mapping[str, float]) -> CaseRules:
    """Rules of a case reported with plain per-stage seconds (schema version 1)."""
    return CaseRules(stage_limits={stage: seconds_limit(s) for stage, s in stage_limits.items()})


# One shared instance for defaults: rules are frozen, and building them parses the calendar.
DEFAULT_RULES = CaseRules()
