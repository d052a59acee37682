"""Replay of recorded CaseWorkflow histories: a workflow change that would break cases in
flight fails here. Record new histories (after a deliberate, patched change) with
GRIDCASE_RECORD_HISTORIES=1; they are added next to the old ones, never replacing them."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from activities.types import StepRequest
from domain import commands as c
from domain.rules import CaseRules
from domain.stages import SupervisionLevel
from store.event_store import EventStore
from tests.conftest import new_case_id
from tests.factories import DISPATCHER, HANDLER, LEADER, SUPERVISOR, WORKER, main_line, report
from tests.integration.helpers import eventually
from workers.run import sandbox_runner
from workflows import client as cases
from workflows.case import CaseWorkflow
from workflows.converter import DATA_CONVERTER
from workflows.steps import STEP_OF
from workflows.types import CaseInput, CaseResult

HISTORIES = Path(__file__).parent.parent / "histories"
RECORD = os.environ.get("GRIDCASE_RECORD_HISTORIES") == "1"


def committed_histories() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


async def test_committed_histories_replay() -> None:
    files = committed_histories()
    assert files, f"no recorded histories in {HISTORIES}"
    replayer = Replayer(
        workflows=[CaseWorkflow], workflow_runner=sandbox_runner(), data_converter=DATA_CONVERTER
    )
    for path in files:
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        await replayer.replay_workflow(history)


@pytest.mark.skipif(not RECORD, reason="set GRIDCASE_RECORD_HISTORIES=1 to record histories")
@pytest.mark.usefixtures("workers")
async def test_record_histories(client: Client, store: EventStore) -> None:
    tag = os.environ.get("GRIDCASE_HISTORY_TAG", "v1")
    scenarios: dict[str, list[c.Command]] = {
        "main-line": main_line(),
        "rework": [
            *main_line()[:4],
            c.RecordClosureCheck(actor=WORKER, passed=False, note="still dirty"),
            *main_line()[3:],
        ],
        "reject": [c.RejectCase(actor=LEADER, reason="not a public space")],
    }
    handler_steps = main_line()[:3]
    scenarios |= {
        "return-extension-suspension": [
            *handler_steps,
            c.RequestReturn(actor=HANDLER, reason="not ours"),
            c.DecideReturn(actor=DISPATCHER, approve=False, note="it is yours"),
            c.RequestExtension(actor=HANDLER, reason="parts", amount="2 hours"),
            c.DecideExtension(actor=DISPATCHER, approve=True),
            c.RequestSuspension(actor=HANDLER, reason="permit"),
            c.DecideSuspension(actor=DISPATCHER, approve=True),
            c.ResumeCase(actor=DISPATCHER),
            c.UrgeCase(actor=SUPERVISOR, message="hurry"),
            c.SuperviseCase(actor=SUPERVISOR, level=SupervisionLevel.ORDINARY, message="late"),
            c.ReplyToSupervision(actor=HANDLER, reply="on it"),
            *main_line()[3:],
        ],
    }
    for name, steps in scenarios.items():
        case_id = new_case_id(name)
        await cases.report_case(client, case_id, report(), datetime.now(UTC))
        for i, command in enumerate(steps):
            if i == 1:  # the same report again, as a client retrying does (v4 on)
                await cases.report_case(client, case_id, report(), datetime.now(UTC))
            await act(client, case_id, command)
        await save(client, case_id, f"{tag}-{name}")
    # Overdue, then acted on and closed.
    case_id = new_case_id("overdue")
    await cases.report_case(
        client, case_id, report(stage_limits={"verify": 1.0}), datetime.now(UTC)
    )
    await eventually(lambda: store.case(case_id)["stage_overdue"])
    for command in main_line():
        await act(client, case_id, command)
    await save(client, case_id, f"{tag}-overdue")
    if tag == "v1":
        return
    # The escalation ladder: yellow, red, automatic yellow and red cards, then closed.
    case_id = new_case_id("ladder")
    rules = CaseRules.from_dict(
        dict(
            stage_limits={"sign_for": "0.02 minutes"},
            yellow_card_after="0.02 minutes",
            red_card_after="0.04 minutes",
        )
    )
    await cases.report_case(client, case_id, report(rules=rules), datetime.now(UTC))
    for command in main_line()[:2]:
        await act(client, case_id, command)
    await eventually(lambda: store.case(case_id)["supervision_level"] == "red", timeout=30)
    for command in main_line()[2:]:
        await act(client, case_id, command)
    await save(client, case_id, f"{tag}-ladder")
    # Self-handling, reviewed.
    case_id = new_case_id("self")
    self_handled = report(
        rules=CaseRules(self_handling=True), self_handled=True, self_handling_result="swept"
    )
    await cases.report_case(client, case_id, self_handled, datetime.now(UTC))
    await act(client, case_id, c.ReviewSelfHandling(actor=LEADER, approve=True))
    await save(client, case_id, f"{tag}-self-handling")


async def act(client: Client, case_id: str, command: c.Command) -> None:
    """A step as the application sends it: with its request (an idempotency key)."""
    key = f"recorder/{uuid.uuid4()}"
    await cases.act(client, case_id, command, StepRequest(key, STEP_OF[type(command)], "recorded"))


async def save(client: Client, case_id: str, name: str) -> None:
    handle = client.get_workflow_handle(cases.workflow_id(case_id))
    await handle.result()
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(history.to_json())


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class ReorderedCaseWorkflow(CaseWorkflow):
    """CaseWorkflow with an unpatched change: a timer before the report is recorded."""

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        await workflow.sleep(1)
        return await super().run(inp)


async def test_an_unpatched_change_fails_the_replay() -> None:
    # Guards the replay test itself: it must be able to fail.
    path = HISTORIES / "v1-main-line.json"
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[ReorderedCaseWorkflow], data_converter=DATA_CONVERTER)
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(history)
