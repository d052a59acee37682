"""Workers killed mid-case (SIGKILL, real processes); new ones finish the case."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from temporalio.testing import WorkflowEnvironment

from domain import commands as c
from store.event_store import EventStore
from tests.conftest import new_case_id, start_dev_server
from tests.factories import DEPT, DISPATCHER, HANDLER, LEADER, WORKER, report
from workflows import client as cases
from workflows.case import CaseWorkflow


@pytest.fixture
async def own_server() -> AsyncIterator[WorkflowEnvironment]:
    # Its own dev server: the session's in-process workers must not pick up this case.
    env = await start_dev_server()
    yield env
    await env.shutdown()


def start_workers(target: str, db_url: str) -> list[subprocess.Popen[bytes]]:
    env = dict(
        os.environ, TEMPORAL_ADDRESS=target, DATABASE_URL=db_url, GRIDCASE_LOG_LEVEL="WARNING"
    )
    return [
        subprocess.Popen(
            [sys.executable, "-m", "gridcase.cli", "worker", kind],
            env=env,
            stdin=subprocess.DEVNULL,
        )
        for kind in ("cases", "supervision", "disposal")
    ]


async def test_killed_workers_are_replaced_and_the_case_finishes_once(
    own_server: WorkflowEnvironment, db_url: str, store: EventStore
) -> None:
    client = own_server.client
    target = client.service_client.config.target_host
    procs = start_workers(target, db_url)
    case_id = new_case_id("kill")
    try:
        await cases.report_case(client, case_id, report(), datetime.now(UTC))
        await cases.act(client, case_id, c.FileCase(actor=LEADER))
        await cases.act(client, case_id, c.DispatchCase(actor=DISPATCHER, department=DEPT))
        for proc in procs:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        # An action sent while no worker runs waits for one.
        pending = asyncio.create_task(cases.act(client, case_id, c.SignFor(actor=HANDLER)))
        await asyncio.sleep(1.0)
        assert not pending.done()
        procs = start_workers(target, db_url)
        assert (await asyncio.wait_for(pending, 60)).stage == "handle"
        await cases.act(client, case_id, c.SubmitFeedback(actor=HANDLER, result="cleared"))
        await cases.act(client, case_id, c.RecordClosureCheck(actor=WORKER, passed=True))
        await cases.act(client, case_id, c.CloseCase(actor=LEADER))
        handle = client.get_workflow_handle_for(CaseWorkflow.run, cases.workflow_id(case_id))
        assert (await handle.result()).status == "closed"
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
    records = store.records(case_id)
    assert [r["version"] for r in records] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["type"] for r in records] == [
        "CaseReported",
        "CaseFiled",
        "CaseDispatched",
        "TaskSignedFor",
        "FeedbackSubmitted",
        "ClosureCheckPassed",
        "CaseClosed",
    ]
