"""Check and close (核查, 结案), and cancelling a filed case (作废). Supervision's side: a
department can never check, close or cancel its own case."""

from __future__ import annotations

from datetime import datetime

from domain import commands as c
from domain import events as e
from domain.roles import Role
from domain.stages import Stage
from domain.state import CaseState
from domain.steps.common import FILED_STAGES, clock, clock_until, disposal_from, text
from domain.steps.declaration import Emits, Side, stamp, step

S = Side.SUPERVISION


@step(
    c.RecordClosureCheck,
    "check",
    zh="核查",
    en="check",
    roles={Role.GRID_WORKER},
    stages={Stage.CHECK},
    side=S,
    emits=[
        Emits(e.ClosureCheckPassed, "核查通过", "check passed"),
        Emits(e.ClosureCheckFailed, "核查不通过", "check failed"),
        Emits(e.ReworkOrdered, "返工", "rework ordered"),
    ],
)
def _check(state: CaseState, cmd: c.RecordClosureCheck, now: datetime) -> list[e.Event]:
    photos = tuple(cmd.photos)
    if cmd.passed:
        return [
            e.ClosureCheckPassed(
                **stamp(state, cmd.actor, now),
                **clock(state.rules, Stage.CLOSE, now),
                note=cmd.note,
                photos=photos,
                site=cmd.site,
            )
        ]
    note = text(cmd.note, "a note saying what is still wrong")
    disposal = disposal_from(state, now)
    return [
        e.ClosureCheckFailed(
            **stamp(state, cmd.actor, now), note=note, photos=photos, site=cmd.site
        ),
        e.ReworkOrdered(
            **stamp(state, cmd.actor, now, 2),
            **clock_until(state.rules, disposal.due, disposal.allowed, now),
            department=state.department,
            cycle=state.rework_count + 1,
            disposal_due_at=disposal.due,
            disposal_allowed=disposal.recorded_allowed,
        ),
    ]


@step(
    c.CloseCase,
    "close",
    zh="结案",
    en="close",
    roles={Role.SHIFT_LEADER},
    stages={Stage.CLOSE},
    side=S,
    emits=[Emits(e.CaseClosed, "结案", "closed")],
)
def _close(state: CaseState, cmd: c.CloseCase, now: datetime) -> list[e.Event]:
    # The disposal's verdict by the one lateness rule (domain.lateness): the KPIs' too.
    closing_type = "overdue" if state.disposal_late else "normal"
    return [e.CaseClosed(**stamp(state, cmd.actor, now), note=cmd.note, closing_type=closing_type)]


@step(
    c.CancelCase,
    "cancel",
    zh="作废",
    en="cancel",
    roles={Role.SHIFT_LEADER},
    stages=FILED_STAGES,
    side=S,
    emits=[Emits(e.CaseCancelled, "作废", "cancelled")],
)
def _cancel(state: CaseState, cmd: c.CancelCase, now: datetime) -> list[e.Event]:
    reason = text(cmd.reason, "a reason for cancelling")
    return [e.CaseCancelled(**stamp(state, cmd.actor, now), reason=reason)]
