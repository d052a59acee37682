"""A department's request (extension, return, suspension) records when the center must
answer it: the rules' approval_limit from the request, in the working calendar."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain import commands as c
from domain import events as e
from domain.calendar import TimeLimit, TimeUnit
from domain.codec import from_record, to_record
from tests.factories import DEPT, DISPATCHER, HANDLER, LEADER, report
from tests.unit.test_side_paths import WORKING, Case, cst

REQUESTS = [
    c.RequestExtension(actor=HANDLER, reason="parts", amount="1 working_days"),
    c.RequestReturn(actor=HANDLER, reason="not ours"),
    c.RequestSuspension(actor=HANDLER, reason="winter"),
]


def handled(rules: object = WORKING) -> Case:
    case = Case(cst("2026-09-30T09:00"))
    case.do(report(rules=rules), at=case.now)
    case.do(c.FileCase(actor=LEADER))
    case.do(c.DispatchCase(actor=DISPATCHER, department=DEPT))
    case.do(c.SignFor(actor=HANDLER))
    return case


@pytest.mark.parametrize("command", REQUESTS, ids=lambda r: type(r).__name__)
def test_a_request_records_when_the_center_must_answer(command: c.Command) -> None:
    case = handled()
    # 17:30 on the eve of the National Day holidays (1-7 Oct): one working hour (the
    # default approval_limit) is half an hour that day and half an hour on 8 Oct.
    event = case.one(command, at=cst("2026-09-30T17:30"))
    assert isinstance(event, e.ExtensionRequested | e.ReturnRequested | e.SuspensionRequested)
    assert event.decision_due_at == cst("2026-10-08T08:30")
    assert from_record(to_record(event)) == event
    assert case.state.pending is not None and case.state.pending.due_at == event.decision_due_at


def test_the_due_time_follows_the_rules_and_old_requests_have_none() -> None:
    rules = replace(WORKING, approval_limit=TimeLimit(2, TimeUnit.HOURS))
    case = handled(rules)
    event = case.one(REQUESTS[1], at=cst("2026-09-30T17:30"))
    assert isinstance(event, e.ReturnRequested)
    assert event.decision_due_at == cst("2026-09-30T19:30")
    # A request recorded before the due time existed reads back without one.
    record = to_record(event)
    del record["data"]["decision_due_at"]
    old = from_record(record)
    assert isinstance(old, e.ReturnRequested) and old.decision_due_at is None
