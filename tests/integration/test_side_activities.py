"""Appends are routed by side: a new case's events go through ``append_supervision`` and
``append_disposal`` only; the old per-step activity names still run (as aliases) for what
workflows of before scheduled; and a side refuses the other side's events."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.legacy import ACTIVITY_OF_COMMAND
from activities.types import AppendInput, AppendResult, TaskQueues
from domain.case import decide, initial_state
from domain.codec import to_record
from store.event_store import EventStore
from tests.conftest import new_case_id
from tests.factories import main_line, report
from workflows import client as cases

pytestmark = pytest.mark.usefixtures("workers")
HISTORIES = Path(__file__).parent.parent / "histories"


def scheduled(history_json: dict[str, object]) -> list[str]:
    events = history_json["events"]
    assert isinstance(events, list)
    return [
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in events
        if "activityTaskScheduledEventAttributes" in e
    ]


async def test_a_new_case_appends_through_its_sides_append(client: Client) -> None:
    case_id = new_case_id("side")
    await cases.report_case(client, case_id, report(), datetime.now(UTC))
    for command in main_line():
        await cases.act(client, case_id, command)
    handle = client.get_workflow_handle(cases.workflow_id(case_id))
    await handle.result()
    history = json.loads((await handle.fetch_history()).to_json())
    names = scheduled(history)
    # report, file | dispatch, sign for, feedback | check, close
    assert (
        names == ["append_supervision"] * 2 + ["append_disposal"] * 3 + ["append_supervision"] * 2
    )


def test_recorded_histories_show_the_old_names_before_the_patch_and_the_new_after() -> None:
    old, new = set(ACTIVITY_OF_COMMAND.values()), {"append_supervision", "append_disposal"}
    for path in sorted(HISTORIES.glob("*.json")):
        names = set(scheduled(json.loads(path.read_text()))) - {"check_merge_target"}
        if path.name.startswith(("v1-", "v2-")):
            assert names <= old, path.name
        else:
            assert names <= new, path.name


@workflow.defn(sandboxed=False)
class ScheduleByName:
    """Schedules one activity by name, as a workflow of an older version would."""

    @workflow.run
    async def run(self, name: str, queue: str, inp: AppendInput) -> AppendResult:
        return await workflow.execute_activity(
            name,
            inp,
            task_queue=queue,
            result_type=AppendResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=2),
        )


async def _schedule(client: Client, name: str, queue: str, inp: AppendInput) -> AppendResult:
    task_queue = f"by-name-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[ScheduleByName]):
        return await client.execute_workflow(
            ScheduleByName.run,
            args=[name, queue, inp],
            id=f"by-name-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )


async def test_an_old_activity_name_still_appends(client: Client, store: EventStore) -> None:
    case_id = new_case_id("legacy")
    events = decide(initial_state(case_id), report(), datetime.now(UTC))
    inp = AppendInput(case_id, 0, [to_record(ev) for ev in events])
    result = await _schedule(client, "record_report", TaskQueues.SUPERVISION, inp)
    assert (result.version, result.appended) == (1, 1)
    assert [e.type for e in store.events(case_id)] == ["CaseReported"]


async def test_a_side_refuses_the_other_sides_events(client: Client, store: EventStore) -> None:
    case_id = new_case_id("wrong-side")
    events = decide(initial_state(case_id), report(), datetime.now(UTC))
    inp = AppendInput(case_id, 0, [to_record(ev) for ev in events])
    with pytest.raises(WorkflowFailureError) as caught:
        await _schedule(client, "append_disposal", TaskQueues.DISPOSAL, inp)
    refusal = caught.value.cause.cause
    assert isinstance(refusal, ApplicationError) and refusal.type == "WrongSide"
    assert refusal.message == "CaseReported is recorded by supervision, not by disposal"
    with pytest.raises(LookupError):
        store.case(case_id)
