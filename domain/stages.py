"""Stages of the closed loop (docs/field-facts.md §1) and the stage time limits of a case."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    VERIFY = "verify"  # 待立案: verify and file, or reject
    REVIEW = "review"  # 待审核: the center reviews a grid worker's self-handling (自行处置)
    DISPATCH = "dispatch"  # 待派遣: the command center picks a department
    SIGN_FOR = "sign_for"  # 待签收: the department acknowledges the task
    HANDLE = "handle"  # 处置中: the department fixes the problem
    CHECK = "check"  # 待核查: a grid worker re-checks on site
    CLOSE = "close"  # 待结案: the shift leader closes
    CLOSED = "closed"  # 已结案
    REJECTED = "rejected"  # 不予受理 / 不予立案
    CANCELLED = "cancelled"  # 作废
    MERGED = "merged"  # 已合并: a duplicate merged into another case

    @property
    def is_open(self) -> bool:
        return self not in TERMINAL_STAGES

    @property
    def label(self) -> str:
        return f"{STAGE_LABELS_ZH[self]} {self.value}"


TERMINAL_STAGES = frozenset({Stage.CLOSED, Stage.REJECTED, Stage.CANCELLED, Stage.MERGED})
# Stages in which a department holds the case (the disposal clock runs).
DEPARTMENT_STAGES = frozenset({Stage.SIGN_FOR, Stage.HANDLE})

STAGE_LABELS_ZH: dict[Stage, str] = {
    Stage.VERIFY: "待立案",
    Stage.REVIEW: "待审核",
    Stage.DISPATCH: "待派遣",
    Stage.SIGN_FOR: "待签收",
    Stage.HANDLE: "处置中",
    Stage.CHECK: "待核查",
    Stage.CLOSE: "待结案",
    Stage.CLOSED: "已结案",
    Stage.REJECTED: "不予立案",
    Stage.CANCELLED: "作废",
    Stage.MERGED: "已合并",
}


class Status(StrEnum):
    OPEN = "open"
    SUSPENDED = "suspended"  # 挂账: the clock is stopped
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    MERGED = "merged"


_TERMINAL_STATUS = {
    Stage.CLOSED: Status.CLOSED,
    Stage.REJECTED: Status.REJECTED,
    Stage.CANCELLED: Status.CANCELLED,
    Stage.MERGED: Status.MERGED,
}


def status_of(stage: Stage, suspended: bool = False) -> Status:
    if stage in _TERMINAL_STATUS:
        return _TERMINAL_STATUS[stage]
    return Status.SUSPENDED if suspended else Status.OPEN


class Light(StrEnum):
    """Traffic light of the open stage (红黄绿灯)."""

    GREEN = "green"
    YELLOW = "yellow"  # from the warn share of the limit (default 80%)
    RED = "red"  # overdue


class SupervisionLevel(StrEnum):
    """督办 levels, with penalty points of one platform (0/5/10)."""

    ORDINARY = "ordinary"  # 普通督办
    YELLOW = "yellow"  # 黄牌
    RED = "red"  # 红牌

    @property
    def rank(self) -> int:
        return {"ordinary": 1, "yellow": 2, "red": 3}[self.value]
