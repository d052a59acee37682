"""The append activity tells a permanent failure from a transient one (issue 10: a NUL in a
note made PostgreSQL refuse the append, which was retried every 30 s for ever and wedged
the case). Data PostgreSQL or the domain refuses is a non-retryable ApplicationError; the
step answers with a clear error at once, nothing is recorded, and the next step of the
case goes through. Forced past the input rules here by an activity that poisons what it
was given, as a gap in validation would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.supervision import SupervisionActivities
from activities.types import AppendInput, AppendResult, TaskQueues
from domain import commands as c
from domain.case import decide, initial_state
from domain.codec import to_record
from domain.errors import InvalidCommand
from store.errors import DataRefused
from store.event_store import EventStore
from tests.conftest import new_case_id, start_dev_server
from tests.factories import LEADER, T0, report
from workers.run import build_worker
from workflows import client as cases

POISON = "poison"


def test_the_activity_refuses_data_postgresql_refuses_without_retrying(store: EventStore) -> None:
    case_id = new_case_id("nul")
    [reported] = decide(initial_state(case_id), report(description="clean"), T0)
    record = to_record(reported)
    record["data"] = {**record["data"], "description": "NUL\x00inside"}
    append = SupervisionActivities(store).append
    with pytest.raises(ApplicationError) as caught:
        ActivityEnvironment().run(append, AppendInput(case_id, 0, [record]))
    err = caught.value
    assert err.non_retryable and err.type == "DataRefused"
    assert "PostgreSQL refused the events" in err.message and "nothing was recorded" in err.message
    assert store.events(case_id) == []
    with pytest.raises(DataRefused):
        store.append(case_id, 0, [record])


def test_a_record_the_domain_cannot_read_back_is_refused_for_good(store: EventStore) -> None:
    case_id = new_case_id("unread")
    [reported] = decide(initial_state(case_id), report(), T0)
    record = {**to_record(reported), "data": {"no_such_field": 1}}
    with pytest.raises(ApplicationError) as caught:
        ActivityEnvironment().run(
            SupervisionActivities(store).append, AppendInput(case_id, 0, [record])
        )
    assert caught.value.non_retryable and caught.value.type == "DataRefused"


@pytest.fixture
async def own_server() -> AsyncIterator[WorkflowEnvironment]:
    # Its own dev server: the session's workers must not take this case's activities.
    env = await start_dev_server()
    yield env
    await env.shutdown()


def poisoned_supervision(store: EventStore) -> list[Any]:
    """The supervision worker's activities, with an append that puts a NUL into a note
    that says "poison" (what a gap in the input rules would let through)."""
    real = SupervisionActivities(store)

    @activity.defn(name="append_supervision")
    def append(inp: AppendInput) -> AppendResult:
        events: list[dict[str, Any]] = []
        for record in inp.events:
            if record["data"].get("note") == POISON:
                record = {**record, "data": {**record["data"], "note": "NUL\x00"}}
            events.append(record)
        return real.append(replace(inp, events=events))

    return [append, real.check_merge_target]


async def test_a_step_postgresql_refuses_answers_at_once_and_the_case_goes_on(
    own_server: WorkflowEnvironment, store: EventStore
) -> None:
    client = own_server.client
    executor = ThreadPoolExecutor(16)
    workers = [
        build_worker("cases", client),
        build_worker("disposal", client, store, executor),
        Worker(
            client,
            task_queue=TaskQueues.SUPERVISION,
            activities=poisoned_supervision(store),
            activity_executor=executor,
        ),
    ]
    case_id = new_case_id("wedge")
    try:
        for w in workers:
            await w.__aenter__()
        await cases.report_case(client, case_id, report(), datetime.now(UTC))
        started = asyncio.get_running_loop().time()
        with pytest.raises(InvalidCommand, match="PostgreSQL refused the events"):
            await cases.act(client, case_id, c.FileCase(actor=LEADER, note=POISON))
        assert asyncio.get_running_loop().time() - started < 10  # no retry for ever
        assert [e.type for e in store.events(case_id)] == ["CaseReported"]
        # Not wedged: the next step goes through and the workflow keeps its state.
        filed = await cases.act(client, case_id, c.FileCase(actor=LEADER, note="fine"))
        assert (filed.version, filed.stage, filed.events) == (2, "dispatch", ["CaseFiled"])
        assert (await cases.view(client, case_id)).version == 2
    finally:
        for w in workers:
            await w.__aexit__(None, None, None)
        executor.shutdown()
    assert [e.type for e in store.events(case_id)] == ["CaseReported", "CaseFiled"]
