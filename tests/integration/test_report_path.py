"""A report in one call (update-with-start): it answers with the records as appended, the
same report again is the same case, another report under its id is refused, also once
the case has finished; with no worker it still starts the case and says it is not
recorded yet, and the case records the report when a worker comes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain import commands as c
from domain.case import fold
from domain.codec import from_record
from domain.rules import CaseRules
from store.event_store import EventStore
from store.projections import case_row_values
from tests.conftest import new_case_id, start_dev_server
from tests.factories import LEADER, main_line, report
from workers.run import build_worker
from workflows import client as cases

pytestmark = pytest.mark.usefixtures("workers")


def now() -> datetime:
    return datetime.now(UTC)


async def test_the_answer_is_the_report_as_appended(client: Client, store: EventStore) -> None:
    case_id = new_case_id("rp")
    receipt = await cases.report_case(client, case_id, report(), now())
    assert receipt.created and receipt.recorded and receipt.version == 1
    # What the case answered is what the store holds, and folds to the live projection.
    stored = store.records(case_id)
    assert [r["type"] for r in receipt.records] == ["CaseReported"]
    assert receipt.records[0]["data"] == stored[0]["data"]
    state = fold(case_id, [from_record(r) for r in receipt.records])
    assert case_row_values(state) == store.case(case_id)


async def test_a_repeat_answers_the_same_case_as_it_stands(
    client: Client, store: EventStore
) -> None:
    case_id = new_case_id("rp")
    first = await cases.report_case(client, case_id, report(), now())
    await cases.act(client, case_id, c.FileCase(actor=LEADER))
    # Resolved again under another policy: other rules, the same report.
    resolved = report(rules=CaseRules(warn_ratio=0.5))
    again = await cases.report_case(client, case_id, resolved, now())
    assert first.created and not again.created and again.recorded
    assert again.records == first.records and again.version == 2  # it has moved on
    assert [e.type for e in store.events(case_id)] == ["CaseReported", "CaseFiled"]


async def test_concurrent_repeats_start_one_case(client: Client, store: EventStore) -> None:
    """A client that retries before its first request answered: update-with-start with
    USE_EXISTING makes one case; only the request whose start created it says so."""
    case_id = new_case_id("rp")
    receipts = await asyncio.gather(
        *(cases.report_case(client, case_id, report(), now()) for _ in range(4))
    )
    assert sorted(r.created for r in receipts) == [False, False, False, True]
    assert all(r.recorded and r.records == receipts[0].records for r in receipts)
    assert [e.type for e in store.events(case_id)] == ["CaseReported"]
    with pytest.raises(cases.DuplicateReport, match="already used by another report"):
        await cases.report_case(client, case_id, report(description="not the same"), now())


async def test_a_finished_case_still_answers(client: Client, store: EventStore) -> None:
    case_id = new_case_id("rp")
    await cases.report_case(client, case_id, report(), now())
    await cases.act(client, case_id, c.RejectCase(actor=LEADER, reason="not public"))
    await client.get_workflow_handle(cases.workflow_id(case_id)).result()
    again = await cases.report_case(client, case_id, report(), now())
    assert (again.created, again.recorded, again.records) == (False, True, [])
    with pytest.raises(cases.DuplicateReport, match="already used"):
        await cases.report_case(client, case_id, report(description="other"), now())
    assert store.case(case_id)["status"] == "rejected"


@pytest.fixture
async def idle_temporal() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of its own with no worker polling (as when the workers are down)."""
    env = await start_dev_server()
    yield env
    await env.shutdown()


async def test_with_no_worker_the_case_starts_and_records_later(
    idle_temporal: WorkflowEnvironment, store: EventStore
) -> None:
    client = idle_temporal.client
    case_id = new_case_id("down")
    receipt = await cases.report_case(client, case_id, report(), now(), wait=1.0)
    assert (receipt.recorded, receipt.created, receipt.case_id) == (False, False, case_id)
    assert store.events(case_id) == []
    # Sent again while still down: the same answer; another report is still refused.
    again = await cases.report_case(client, case_id, report(), now(), wait=0.5)
    assert not again.recorded and again.run_id == receipt.run_id
    with pytest.raises(cases.DuplicateReport):
        await cases.report_case(client, case_id, report(description="other"), now(), wait=0.5)
    executor = ThreadPoolExecutor(16)
    running = [build_worker(k, client, store, executor) for k in ("cases", "supervision")]
    for w in running:
        await w.__aenter__()
    try:
        back = await cases.report_case(client, case_id, report(), now())
        assert back.recorded and not back.created and back.version == 1
        assert [e.type for e in store.events(case_id)] == ["CaseReported"]
        for command in main_line()[:1]:
            await cases.act(client, case_id, command)
    finally:
        for w in running:
            await w.__aexit__(None, None, None)
        executor.shutdown()
    assert store.case(case_id)["stage"] == "dispatch"


async def test_no_case_when_temporal_never_started_it(
    idle_temporal: WorkflowEnvironment,
) -> None:
    """The earlier-report lookup of a case that does not exist: not found, never a
    receipt (the application answers 503, the caller sends it again)."""
    with pytest.raises(cases.CaseNotFound):
        await cases._earlier_report(idle_temporal.client, new_case_id("none"), report())
