"""What the Temporal server does with a repeated update id (the native place of a step's
idempotency key), proven on the dev server `gridcase up` runs (a persistent SQLite file):

- after the first update with that id completed: the first outcome, the step not run
  again, even when the second call carries another command (so the application compares
  fingerprints: application.requests);
- after a restart of the workers: the same;
- after a restart of the server on its file: the same;
- after the workflow completed: the same for an id it knows; an id it does not know is
  refused as for any finished case;
- an update its validator refused is not remembered: the same id goes through later.

Where the history is gone (retention, deletion, a reset) the application answers from
the log: tests/api/test_api_idempotency.py.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from activities.types import StepRequest
from application.config import Settings
from domain import commands as c
from domain.errors import WrongStage
from store.event_store import EventStore
from tests.conftest import new_case_id
from tests.factories import DEPT, DISPATCHER, HANDLER, LEADER, SUPERVISOR, WORKER, report
from workers.embedded import EmbeddedTemporal
from workers.run import build_worker
from workflows import client as cases
from workflows.converter import connect
from workflows.types import ActionResult

ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def workers(client: Client, store: EventStore) -> AsyncIterator[None]:
    executor = ThreadPoolExecutor(16)
    running = [
        build_worker(k, client, store, executor) for k in ("cases", "supervision", "disposal")
    ]
    for w in running:
        await w.__aenter__()
    try:
        yield
    finally:
        for w in running:
            await w.__aexit__(None, None, None)
        executor.shutdown()


async def accepted(client: Client, case_id: str) -> int:
    history = await client.get_workflow_handle(cases.workflow_id(case_id)).fetch_history()
    return sum(1 for e in history.events if e.event_type == ACCEPTED)


def request(key: str, step: str) -> StepRequest:
    return StepRequest(key=key, step=step, fingerprint=f"fp-{key}")


async def test_a_repeated_update_id_gets_the_first_outcome_across_restarts(
    tmp_path: Path, db_url: str, store: EventStore
) -> None:
    settings = replace(
        Settings.from_env(),
        home=tmp_path,
        database_url=db_url,
        temporal_address=None,
        temporal_port=free_port(),
        temporal_ui_port=free_port(),
    )
    server = EmbeddedTemporal(settings)
    case_id = new_case_id("uid")
    urge = c.UrgeCase(actor=SUPERVISOR, message="hurry")
    close = c.CloseCase(actor=LEADER)
    try:
        server.start()
        client = await connect(settings.temporal_target)
        async with workers(client, store):
            await cases.report_case(client, case_id, report(), datetime.now(UTC))
            await cases.act(client, case_id, c.FileCase(actor=LEADER), request("k-file", "file"))
            try:  # refused by the validator: nothing in history, the id not taken
                await cases.act(client, case_id, close, request("k-close", "close"))
                raise AssertionError("closed at stage dispatch")
            except WrongStage:
                pass
            first = await cases.act(client, case_id, urge, request("k-urge", "urge"))
            assert first.events == ["CaseUrged"] and first.fingerprint == "fp-k-urge"
            # The report (an update-with-start), the filing and the urge; the refused
            # close is not in the history.
            taken = await accepted(client, case_id)
            assert taken == 3
            again = await cases.act(client, case_id, urge, request("k-urge", "urge"))
            assert again == first
            # Another command under the same id: still the first outcome, nothing run.
            other = c.UrgeCase(actor=SUPERVISOR, message="something else")
            assert await cases.act(client, case_id, other, request("k-urge", "urge")) == first
            assert await accepted(client, case_id) == taken
        async with workers(client, store):  # the workers restarted
            assert await cases.act(client, case_id, urge, request("k-urge", "urge")) == first
        server.stop()
        server.start()  # the server restarted on its file
        client = await connect(settings.temporal_target)
        async with workers(client, store):
            assert await cases.act(client, case_id, urge, request("k-urge", "urge")) == first
            assert await accepted(client, case_id) == taken
            steps: list[tuple[str, c.Command]] = [
                ("dispatch", c.DispatchCase(actor=DISPATCHER, department=DEPT)),
                ("sign_for", c.SignFor(actor=HANDLER)),
                ("feedback", c.SubmitFeedback(actor=HANDLER, result="cleared")),
                ("check", c.RecordClosureCheck(actor=WORKER, passed=True)),
            ]
            for name, command in steps:
                await cases.act(client, case_id, command, request(f"k-{name}", name))
            closed = await cases.act(client, case_id, close, request("k-close", "close"))
            assert closed.status == "closed"
            handle = client.get_workflow_handle(cases.workflow_id(case_id))
            assert (await handle.result())["status"] == "closed"
            # The workflow completed: ids it knows still answer their first outcome...
            assert await cases.act(client, case_id, close, request("k-close", "close")) == closed
            assert await cases.act(client, case_id, urge, request("k-urge", "urge")) == first
            # ... a new one is refused as for any finished case.
            try:
                await cases.act(client, case_id, urge, request("k-new", "urge"))
                raise AssertionError("a finished case took a new step")
            except WrongStage as exc:
                assert "finished" in exc.message
    finally:
        server.stop()
    types = [e.type for e in store.events(case_id)]
    assert types.count("CaseUrged") == 1 and types.count("CaseClosed") == 1
    assert len(types) == 8
    assert isinstance(first, ActionResult)
