"""Lateness (超期): one rule, for the decider, the projections, the KPIs and every screen.

The rule (docs/process.md, "When a stage is late"): a stage — and the disposal (处置) as a
whole — is late iff the event that completed it came after its deadline as that deadline
stood at that moment. Nothing that happens later changes that verdict: an extension can
only move a deadline that has not passed, and where a center's policy lets an extension
move one that has (``CaseRules.late_extensions``), the lateness already incurred stays.

The disposal runs from a dispatch (派遣) to the feedback (处理反馈) the check accepts,
through sign-for, extensions, suspensions and reworks (返工, same department); it is late
iff any of its feedbacks came after the disposal deadline in force when it was submitted,
or an extension was granted after that deadline had passed. A return (回退) ends the
department's disposal and the next dispatch starts a new one, judged on its own (a return
counts against the department that returned it as a wrong dispatch, 回退率).

The case's fold (``domain.evolution``: ``CaseState.disposal_late``, from which the decider
takes the closing type) and the evaluation facts (``domain.kpi_facts``) both fold
``disposal_late_after`` over the same events, so the closing type and the KPI verdict of a
case cannot differ.
"""

from __future__ import annotations

from datetime import datetime

from domain import events as e


def late(done_at: datetime | None, due_at: datetime | None) -> bool:
    """Done after the deadline as it stood when it was done (no deadline: never late)."""
    return done_at is not None and due_at is not None and done_at > due_at


def on_time(done_at: datetime | None, due_at: datetime | None) -> bool:
    """Done, with a deadline, and not after it: what the on-time rates count."""
    return done_at is not None and due_at is not None and done_at <= due_at


def disposal_late_after(was_late: bool, deadline: datetime | None, event: e.Event) -> bool:
    """Whether the disposal is late once ``event`` happened, given whether it was before
    and ``deadline``, the disposal deadline in force just before the event."""
    if isinstance(event, e.CaseDispatched):
        return False  # a new disposal, judged on its own
    if isinstance(event, e.FeedbackSubmitted | e.ExtensionGranted):
        return was_late or late(event.occurred_at, deadline)
    return was_late


def passed_deadline(due_at: datetime | None, now: datetime) -> datetime | None:
    """``due_at`` when it has passed at ``now`` (a deadline reached exactly has not)."""
    return due_at if late(now, due_at) else None
