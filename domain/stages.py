"""Stages of the closed loop (DOMAIN.md §1) and the stage time limits of a case."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Stage(StrEnum):
    VERIFY = "verify"  # 待立案: verify and file, or reject
    DISPATCH = "dispatch"  # 待派遣: the command center picks a department
    SIGN_FOR = "sign_for"  # 待签收: the department acknowledges the task
    HANDLE = "handle"  # 处置中: the department fixes the problem
    CHECK = "check"  # 待核查: a grid worker re-checks on site
    CLOSE = "close"  # 待结案: the shift leader closes
    CLOSED = "closed"  # 已结案
    REJECTED = "rejected"  # 不予立案

    @property
    def is_open(self) -> bool:
        return self not in TERMINAL_STAGES

    @property
    def label(self) -> str:
        return f"{STAGE_LABELS_ZH[self]} {self.value}"


TERMINAL_STAGES = frozenset({Stage.CLOSED, Stage.REJECTED})

STAGE_LABELS_ZH: dict[Stage, str] = {
    Stage.VERIFY: "待立案",
    Stage.DISPATCH: "待派遣",
    Stage.SIGN_FOR: "待签收",
    Stage.HANDLE: "处置中",
    Stage.CHECK: "待核查",
    Stage.CLOSE: "待结案",
    Stage.CLOSED: "已结案",
    Stage.REJECTED: "不予立案",
}


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    REJECTED = "rejected"


def status_of(stage: Stage) -> Status:
    if stage is Stage.CLOSED:
        return Status.CLOSED
    if stage is Stage.REJECTED:
        return Status.REJECTED
    return Status.OPEN


# gridcase defaults, wall-clock; centers set their own (DOMAIN.md §3 gives field examples:
# verify 30 min, file+dispatch 30 min, sign for within 1 working hour, re-check 30 min–2 h).
DEFAULT_STAGE_LIMITS: dict[Stage, timedelta] = {
    Stage.VERIFY: timedelta(minutes=30),
    Stage.DISPATCH: timedelta(minutes=30),
    Stage.SIGN_FOR: timedelta(hours=1),
    Stage.HANDLE: timedelta(hours=24),
    Stage.CHECK: timedelta(hours=2),
    Stage.CLOSE: timedelta(hours=1),
}


@dataclass(frozen=True)
class StagePolicy:
    """Time limit of each open stage (环节时限), as plain durations.

    A case records the policy it was reported under, so later changes of policy never
    move the deadlines of cases already in flight.
    """

    limits: Mapping[Stage, timedelta] = field(default_factory=lambda: dict(DEFAULT_STAGE_LIMITS))

    def __post_init__(self) -> None:
        for stage, limit in self.limits.items():
            if not Stage(stage).is_open:
                raise ValueError(f"stage {stage} is terminal and has no time limit")
            if limit <= timedelta(0):
                raise ValueError(f"time limit of stage {stage} must be positive, got {limit}")

    def due(self, stage: Stage, start: datetime) -> datetime | None:
        limit = self.limits.get(stage)
        return None if limit is None else start + limit

    def to_dict(self) -> dict[str, float]:
        return {Stage(s).value: d.total_seconds() for s, d in self.limits.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StagePolicy:
        limits: dict[Stage, timedelta] = {}
        for key, seconds in data.items():
            try:
                stage = Stage(key)
            except ValueError:
                raise ValueError(f"unknown stage {key!r} in stage policy") from None
            if not isinstance(seconds, int | float) or not math.isfinite(seconds):
                raise ValueError(f"time limit of stage {key} must be a number of seconds")
            limits[stage] = timedelta(seconds=seconds)
        return cls(limits)

    @classmethod
    def uniform(cls, limit: timedelta) -> StagePolicy:
        """Every open stage gets the same limit (handy for drills and tests)."""
        return cls({s: limit for s in Stage if s.is_open})
