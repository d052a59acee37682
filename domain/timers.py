"""What the clock does next to a case: the escalation ladder as a pure function.

The workflow asks ``next_timer(state)`` after every change and waits for that moment or
the next human step, whichever comes first. The ladder per open stage: yellow light at the
warn share of the limit, red (overdue) at the deadline; a department stage overdue for
``yellow_card_after`` gets a yellow-card supervision (黄牌督办), for ``red_card_after`` a red
card (红牌督办); a suspension past ``backlog_after`` becomes backlog (积存).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import commands as c
from domain.roles import SYSTEM_ACTOR
from domain.stages import DEPARTMENT_STAGES, Light, SupervisionLevel
from domain.state import CaseState


@dataclass(frozen=True)
class Timer:
    at: datetime
    command: c.Command


def next_timer(state: CaseState) -> Timer | None:
    if state.stage is None or state.is_terminal:
        return None
    if state.suspended:
        if state.backlog or state.backlog_at is None:
            return None
        return Timer(state.backlog_at, c.MarkBacklog(actor=SYSTEM_ACTOR))
    due, warn = state.stage_due_at, state.stage_warn_at
    if due is None:
        return None
    if state.light is Light.GREEN and warn is not None and warn < due:
        return Timer(warn, c.MarkStageWarning(actor=SYSTEM_ACTOR, stage=state.stage))
    if state.light is not Light.RED:
        return Timer(due, c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=state.stage))
    if state.stage not in DEPARTMENT_STAGES:
        return None
    rank = state.supervision_level.rank if state.supervision_level else 0
    for level in SupervisionLevel:  # in rank order: yellow before red
        at = card_due_at(state, level)
        if at is not None and rank < level.rank:
            message = (
                f"stage {state.stage.value} overdue since {due.isoformat()} "
                f"by {state.rules.card_after(level)}: {level.value} card (自动督办)"
            )
            return Timer(at, c.SuperviseCase(actor=SYSTEM_ACTOR, level=level, message=message))
    return None


def card_due_at(state: CaseState, level: SupervisionLevel) -> datetime | None:
    """When the ladder's automatic card of ``level`` is due: the open stage's deadline plus
    the rules' threshold (None for a level the ladder never gives, or no deadline)."""
    after = state.rules.card_after(level)
    if after is None or state.stage_due_at is None:
        return None
    return state.rules.add(state.stage_due_at, after)
