"""CaseWorkflow on the real dev server, with the real activities and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from temporalio.client import Client

from domain import commands as c
from domain.errors import InvalidCommand, NotYourCase, WrongRole, WrongStage
from store.event_store import EventStore
from tests.conftest import new_case_id
from tests.factories import (
    DEPT,
    DISPATCHER,
    HANDLER,
    LEADER,
    OTHER_HANDLER,
    WORKER,
    main_line,
    report,
)
from workflows import client as cases
from workflows.case import CaseWorkflow

pytestmark = pytest.mark.usefixtures("workers")


def now() -> datetime:
    return datetime.now(UTC)


async def start(client: Client, **report_fields: object) -> str:
    case_id = new_case_id()
    receipt = await cases.report_case(client, case_id, report(**report_fields), now())
    assert receipt.created and receipt.case_id == case_id
    return case_id


async def test_main_line_report_to_close(client: Client, store: EventStore) -> None:
    case_id = await start(client)
    stages = []
    for command in main_line():
        result = await cases.act(client, case_id, command)
        stages.append(result.stage)
    assert stages == ["dispatch", "sign_for", "handle", "check", "close", "closed"]
    handle = client.get_workflow_handle_for(CaseWorkflow.run, cases.workflow_id(case_id))
    outcome = await handle.result()
    assert (outcome.status, outcome.version) == ("closed", 7)
    types = [e.type for e in store.events(case_id)]
    assert types == [
        "CaseReported",
        "CaseFiled",
        "CaseDispatched",
        "TaskSignedFor",
        "FeedbackSubmitted",
        "ClosureCheckPassed",
        "CaseClosed",
    ]
    row = store.case(case_id)
    assert (row["status"], row["stage"], row["department"]) == ("closed", "closed", DEPT)
    # The actor of each step is recorded with its event.
    actors = [(e.actor.role.value, e.actor.id) for e in store.events(case_id)]
    assert actors[2] == ("dispatcher", DISPATCHER.id) and actors[3] == ("handler", HANDLER.id)


async def test_failed_check_sends_the_case_back_for_rework(
    client: Client, store: EventStore
) -> None:
    case_id = await start(client)
    for command in main_line()[:4]:
        await cases.act(client, case_id, command)
    result = await cases.act(
        client, case_id, c.RecordClosureCheck(actor=WORKER, passed=False, note="still dirty")
    )
    assert result.stage == "handle" and result.events == ["ClosureCheckFailed", "ReworkOrdered"]
    view = await cases.view(client, case_id)
    assert view.rework_count == 1 and view.department == DEPT
    assert store.case(case_id)["rework_count"] == 1


async def test_reject_ends_the_case(client: Client, store: EventStore) -> None:
    case_id = await start(client)
    result = await cases.act(client, case_id, c.RejectCase(actor=LEADER, reason="not public"))
    assert (result.status, result.stage) == ("rejected", "rejected")
    handle = client.get_workflow_handle_for(CaseWorkflow.run, cases.workflow_id(case_id))
    assert (await handle.result()).status == "rejected"
    with pytest.raises(WrongStage, match="finished"):
        await cases.act(client, case_id, c.FileCase(actor=LEADER))
    assert store.case(case_id)["status"] == "rejected"


async def test_refused_updates_leave_history_unchanged(client: Client, store: EventStore) -> None:
    case_id = await start(client)
    await cases.act(client, case_id, c.FileCase(actor=LEADER))
    handle = client.get_workflow_handle(cases.workflow_id(case_id))
    before = (await handle.fetch_history()).events
    refusals = [
        (c.CloseCase(actor=HANDLER), WrongRole, "only"),
        (c.SignFor(actor=HANDLER), WrongStage, "needs stage"),
        (c.DispatchCase(actor=DISPATCHER, department=" "), InvalidCommand, "department"),
    ]
    for command, error, message in refusals:
        with pytest.raises(error, match=message):
            await cases.act(client, case_id, command)
    after = (await handle.fetch_history()).events
    assert len(after) == len(before)
    assert [e.type for e in store.events(case_id)] == ["CaseReported", "CaseFiled"]
    await cases.act(client, case_id, c.DispatchCase(actor=DISPATCHER, department=DEPT))
    with pytest.raises(NotYourCase, match=DEPT):
        await cases.act(client, case_id, c.SignFor(actor=OTHER_HANDLER))


async def test_the_same_report_twice_is_one_case(client: Client, store: EventStore) -> None:
    case_id = new_case_id()
    first = await cases.report_case(client, case_id, report(), now())
    second = await cases.report_case(client, case_id, report(), now())
    assert first.created and not second.created and first.run_id == second.run_id
    with pytest.raises(cases.DuplicateReport, match="already used"):
        await cases.report_case(client, case_id, report(description="other"), now())
    await cases.act(client, case_id, c.FileCase(actor=LEADER))
    assert [e.type for e in store.events(case_id)] == ["CaseReported", "CaseFiled"]


async def test_bad_reports_start_no_workflow(client: Client) -> None:
    with pytest.raises(InvalidCommand, match="description"):
        await cases.report_case(client, new_case_id(), report(description=""), now())
    with pytest.raises(InvalidCommand, match="report id"):
        await cases.report_case(client, "bad id with spaces", report(), now())
    with pytest.raises(cases.CaseNotFound):
        await cases.act(client, new_case_id("missing"), c.FileCase(actor=LEADER))


async def test_search_attributes_follow_the_case(client: Client) -> None:
    case_id = await start(client)
    await cases.act(client, case_id, c.FileCase(actor=LEADER))
    await cases.act(client, case_id, c.DispatchCase(actor=DISPATCHER, department=DEPT))
    handle = client.get_workflow_handle(cases.workflow_id(case_id))
    desc = await handle.describe()
    attrs = {k.name: v for k, v in desc.typed_search_attributes}
    assert attrs["CaseStatus"] == "open" and attrs["CaseStage"] == "sign_for"
    assert attrs["CaseDepartment"] == DEPT and attrs["CaseCategory"] == "E0101"
    assert attrs["CaseOverdue"] is False and "CaseStageDueAt" in attrs
