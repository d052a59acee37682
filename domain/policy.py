"""A center's policy (环节时限, escalation ladder, extension and suspension rules) and how
it becomes the rules of one case, together with the category and the working calendar.

The policy is the rules every case starts from (``base``) plus the shorter stage limits of
urgent categories; the category adds its filing conditions, urgency and self-handling, the
calendar its holidays. Its file (``GRIDCASE_POLICY``) is one flat JSON object: the keys of
``POLICY_KEYS`` with limits as text, e.g. ``{"stage_limits": {"verify": "20 minutes"},
"yellow_card_after": "4 working_hours"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from domain.calendar import TimeLimit, WorkingCalendar
from domain.rules import DEFAULT_RULES, DEFAULT_STAGE_LIMITS, CaseRules, limits_from_text
from domain.taxonomy import Category, Urgency

# Urgent cases are filed and dispatched faster (one center: 10 min urgent, 30 ordinary).
DEFAULT_URGENT_STAGE_LIMITS: dict[str, TimeLimit] = {
    "verify": TimeLimit.parse("10 minutes"),
    "dispatch": TimeLimit.parse("10 minutes"),
    "sign_for": TimeLimit.parse("30 minutes"),
}
# What the category and the calendar give a case, never the policy.
PER_CASE_KEYS = frozenset({"conditions", "urgency", "self_handling", "calendar"})
# What only the release says (how a case's clock works): recorded, never the policy's.
RELEASE_KEYS = frozenset({"yellow_in_limit_unit"})
URGENT_KEY = "urgent_stage_limits"
# How far (metres) a grid worker's phone may be from the case's point when he verifies or
# checks it before the step carries a warning (``domain.events.SiteFix.far``).
SITE_KEY = "site_distance_warning_m"
DEFAULT_SITE_DISTANCE_WARNING_M = 200.0
POLICY_KEYS = tuple(
    [f.name for f in fields(CaseRules) if f.name not in PER_CASE_KEYS | RELEASE_KEYS]
    + [URGENT_KEY, SITE_KEY]
)


@dataclass(frozen=True, kw_only=True)
class CenterPolicy:
    base: CaseRules = DEFAULT_RULES
    urgent_stage_limits: dict[str, TimeLimit] = field(
        default_factory=lambda: dict(DEFAULT_URGENT_STAGE_LIMITS)
    )
    site_distance_warning_m: float = DEFAULT_SITE_DISTANCE_WARNING_M

    def __post_init__(self) -> None:
        warn = self.site_distance_warning_m
        if isinstance(warn, bool) or not isinstance(warn, (int, float)) or not warn > 0:
            raise ValueError(f"{SITE_KEY} must be a positive number of metres, got {warn!r}")
        limits_of = {"stage_limits": self.base.stage_limits, URGENT_KEY: self.urgent_stage_limits}
        for key, limits in limits_of.items():
            for stage, limit in limits.items():
                if stage not in DEFAULT_STAGE_LIMITS:
                    raise ValueError(f"{key}: {stage!r} is not a stage with a time limit")
                if not isinstance(limit, TimeLimit):
                    raise TypeError(f"{key} {stage} must be a TimeLimit, got {limit!r}")

    def rules_for(self, category: Category | None, calendar: WorkingCalendar) -> CaseRules:
        urgent = category is not None and category.urgency is Urgency.URGENT
        limits = dict(self.base.stage_limits)
        if urgent:
            limits.update(self.urgent_stage_limits)
        return replace(
            self.base,
            stage_limits=limits,
            conditions={} if category is None else {c.id: c.limit for c in category.conditions},
            urgency="urgent" if urgent else "ordinary",
            self_handling=category.self_handling if category else False,
            calendar=calendar.to_dict(),
        )

    def to_dict(self) -> dict[str, Any]:
        """The policy file's form (flat keys, limits as text)."""
        base = {
            k: v for k, v in self.base.to_dict().items() if k not in PER_CASE_KEYS | RELEASE_KEYS
        }
        urgent = {k: str(v) for k, v in self.urgent_stage_limits.items()}
        return base | {URGENT_KEY: urgent, SITE_KEY: self.site_distance_warning_m}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CenterPolicy:
        unknown = set(data) - set(POLICY_KEYS)
        if unknown:
            raise ValueError(f"unknown policy setting(s): {', '.join(sorted(unknown))}")
        base = CaseRules.from_dict(
            {k: v for k, v in data.items() if k not in (URGENT_KEY, SITE_KEY)}
        )
        found = cls(base=base)
        if URGENT_KEY in data:
            found = replace(
                found, urgent_stage_limits=limits_from_text(URGENT_KEY, data[URGENT_KEY])
            )
        if SITE_KEY in data:
            found = replace(found, site_distance_warning_m=data[SITE_KEY])
        return found
