"""Stage deadlines on the real stack, made short through the case's stage policy."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from temporalio.client import Client

from application.principals import OPERATOR
from application.read_models import LateFilters, late_cases, notifications
from domain import commands as c
from store.event_store import EventStore
from tests.conftest import new_case_id
from tests.factories import LEADER, report
from tests.integration.helpers import eventually
from workflows import client as cases

pytestmark = pytest.mark.usefixtures("workers")


async def test_yellow_then_red_recorded_notified_and_the_case_waits_on(
    client: Client, store: EventStore
) -> None:
    case_id = new_case_id("od")
    await cases.report_case(
        client, case_id, report(stage_limits={"verify": 1.5, "dispatch": 3600}), datetime.now(UTC)
    )
    overdue = await eventually(
        lambda: [e for e in store.events(case_id) if e.type == "StageOverdue"]
    )
    assert len(overdue) == 1
    [event] = overdue
    assert event.stage.value == "verify" and event.actor.role.value == "system"
    row = store.case(case_id)
    assert row["stage_overdue"] and row["overdue_count"] == 1 and row["status"] == "open"
    late, _ = late_cases(store.engine, OPERATOR, LateFilters(), datetime.now(UTC), 1000, 0)
    assert case_id in {r["case_id"] for r in late}
    warning, notice = notifications(store.engine, OPERATOR, case_id=case_id)
    assert warning["kind"] == "stage_warning" and warning["event_version"] == 2
    assert notice["kind"] == "stage_overdue" and notice["event_version"] == event.version == 3
    assert "verify" in notice["message"]
    handle = client.get_workflow_handle(cases.workflow_id(case_id))

    async def red() -> bool:
        attrs = {k.name: v for k, v in (await handle.describe()).typed_search_attributes}
        return attrs.get("CaseOverdue") is True and attrs.get("CaseLight") == "red"

    # The activity's append is visible before the workflow task that publishes the search
    # attributes has completed: on a loaded machine that takes a moment.
    for _ in range(100):
        if await red():
            break
        await asyncio.sleep(0.1)
    assert await red()
    # The case still waits for its next action; filing moves it on and clears the flag.
    result = await cases.act(client, case_id, c.FileCase(actor=LEADER))
    assert result.stage == "dispatch"
    row = store.case(case_id)
    assert not row["stage_overdue"] and row["overdue_count"] == 1
    assert [e.type for e in store.events(case_id)] == [
        "CaseReported",
        "StageWarned",
        "StageOverdue",
        "CaseFiled",
    ]
    assert store.case(case_id)["light"] == "green"


async def test_an_action_before_the_deadline_means_no_overdue(
    client: Client, store: EventStore
) -> None:
    case_id = new_case_id("ok")
    await cases.report_case(
        client, case_id, report(stage_limits={"verify": 2.0, "dispatch": 3600}), datetime.now(UTC)
    )
    await cases.act(client, case_id, c.FileCase(actor=LEADER))
    await eventually(lambda: store.case(case_id)["stage"] == "dispatch")
    await asyncio.sleep(3)  # past the verify deadline that no longer applies
    assert [e.type for e in store.events(case_id)] == ["CaseReported", "CaseFiled"]
    assert notifications(store.engine, OPERATOR, case_id=case_id) == []
