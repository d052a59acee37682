"""Steps are idempotent on retry (issue 10: an urge whose answer was lost was recorded
twice): the same Idempotency-Key from the same user on the same case answers the first
result and records nothing new, also at the same time, also after the case's workflow is
gone from Temporal (answered from the log); the same key for another request is refused."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import Engine, func, select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.types import StepRequest
from domain import commands as c
from domain.roles import Actor, Role
from store.models import EventRow, NotificationRow, StepRequestRow
from tests.api.conftest import People, User, new_area, problem
from tests.api.test_api_main_line import report, step
from tests.api.test_application_service import acli
from workflows import client as cases


def count(engine: Engine, table: type, case_id: str, **where: str) -> int:
    query = select(func.count()).select_from(table).where(table.case_id == case_id)  # type: ignore[attr-defined]
    for column, value in where.items():
        query = query.where(getattr(table, column) == value)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


async def post(
    http: httpx.AsyncClient, user: User, url: str, body: object, key: str | None
) -> httpx.Response:
    headers = user.headers | ({"Idempotency-Key": key} if key else {})
    return await http.post(url, json=body, headers=headers)


async def handled_case(http: httpx.AsyncClient, people: People) -> tuple[str, dict[str, User]]:
    area = new_area()
    who = {
        "worker": people.make("grid_worker", area.grid(0, 1)),
        "leader": people.make("shift_leader"),
        "dispatcher": people.make("dispatcher"),
        "handler": people.make("handler", "sanitation"),
        "supervisor": people.make("supervisor", area.street),
        "commander": people.make("leader", area.street),
    }
    case_id = await report(http, who["worker"], area.grid(0, 1))
    await step(http, who["leader"], case_id, "file")
    await step(http, who["dispatcher"], case_id, "dispatch", {"department": "sanitation"})
    await step(http, who["handler"], case_id, "sign_for")
    return case_id, who


async def test_an_urge_sent_twice_with_the_same_key_is_one_event_and_one_notice(
    http: httpx.AsyncClient, people: People, api_engine: Engine
) -> None:
    case_id, who = await handled_case(http, people)
    url, key = f"/v1/cases/{case_id}/urge", str(uuid.uuid4())
    first = await post(http, who["supervisor"], url, {"message": "请尽快处理"}, key)
    assert first.status_code == 200, first.text
    assert first.headers["Idempotency-Key"] == key
    again = await post(http, who["supervisor"], url, {"message": "请尽快处理"}, key)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert count(api_engine, EventRow, case_id, type="CaseUrged") == 1
    assert count(api_engine, NotificationRow, case_id, kind="case_urged") == 1
    # Another key is another urge.
    other = await post(http, who["supervisor"], url, {"message": "请尽快处理"}, str(uuid.uuid4()))
    assert other.json()["version"] == first.json()["version"] + 1
    assert count(api_engine, EventRow, case_id, type="CaseUrged") == 2


async def test_the_same_key_at_the_same_time_is_taken_once(
    http: httpx.AsyncClient, people: People, api_engine: Engine
) -> None:
    case_id, who = await handled_case(http, people)
    url, key = f"/v1/cases/{case_id}/urge", str(uuid.uuid4())
    answers = await asyncio.gather(
        *(post(http, who["supervisor"], url, {"message": "hurry"}, key) for _ in range(4))
    )
    assert {r.status_code for r in answers} == {200}, [r.text for r in answers]
    assert len({r.text for r in answers}) == 1
    assert count(api_engine, EventRow, case_id, type="CaseUrged") == 1


async def test_the_same_key_for_another_request_is_refused(
    http: httpx.AsyncClient, people: People, api_engine: Engine
) -> None:
    case_id, who = await handled_case(http, people)
    url, key = f"/v1/cases/{case_id}", str(uuid.uuid4())
    assert (await post(http, who["supervisor"], f"{url}/urge", {"message": "a"}, key)).is_success
    for name, body in (("urge", {"message": "b"}), ("supervise", {"message": "a"})):
        r = await post(http, who["supervisor"], f"{url}/{name}", body, key)
        assert key in str(problem(r, 422, "idempotency_key_reused")["detail"])
    assert count(api_engine, EventRow, case_id) == 5
    # Keys are the caller's own: another supervisor's same key is his own request.
    r = await post(http, who["commander"], f"{url}/urge", {"message": "a"}, key)
    assert r.status_code == 200, r.text
    assert count(api_engine, EventRow, case_id, type="CaseUrged") == 2


async def test_a_key_must_be_printable_ascii(http: httpx.AsyncClient, people: People) -> None:
    case_id, who = await handled_case(http, people)
    for bad in ("with space", "x" * 129):
        r = await post(http, who["supervisor"], f"/v1/cases/{case_id}/urge", {"message": "a"}, bad)
        assert "Idempotency-Key" in str(problem(r, 422, "validation_error")["detail"])


async def test_a_repeat_is_answered_from_the_log_once_temporal_forgot_the_case(
    http: httpx.AsyncClient, people: People, api_engine: Engine, client: Client
) -> None:
    case_id, who = await handled_case(http, people)
    await step(http, who["handler"], case_id, "feedback", {"result": "cleared"})
    await step(http, who["worker"], case_id, "check", {"passed": True})
    url, key = f"/v1/cases/{case_id}/close", str(uuid.uuid4())
    closed = await post(http, who["leader"], url, {"note": "done"}, key)
    assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text
    # Every step records its request (a key made by the server when none was sent).
    assert count(api_engine, StepRequestRow, case_id) == 6
    mine = f"{who['leader'].id}/{key}"
    assert count(api_engine, StepRequestRow, case_id, request_key=mine, step="close") == 1
    # Temporal answers the repeat of a finished case too; then its history is deleted (as
    # retention does), and only the log can answer.
    assert (await post(http, who["leader"], url, {"note": "done"}, key)).json() == closed.json()
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=cases.workflow_id(case_id)),
        )
    )

    # Deletion is asynchronous: a few seconds with the test server's checkpoint interval
    # (tests/conftest.py, DEV_SERVER_ARGS).
    for _ in range(300):
        try:
            await client.get_workflow_handle(cases.workflow_id(case_id)).describe()
        except RPCError as exc:
            assert exc.status is RPCStatusCode.NOT_FOUND, exc
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("Temporal did not delete the closed case's workflow in 30 s")
    leader = Actor(id=who["leader"].id, role=Role.SHIFT_LEADER)
    try:
        await cases.act(
            client,
            case_id,
            c.CloseCase(actor=leader, note="done"),
            StepRequest(key=f"{who['leader'].id}/{key}", step="close", fingerprint="x"),
        )
        raise AssertionError("Temporal still knows the case")
    except cases.CaseNotFound:
        pass
    again = await post(http, who["leader"], url, {"note": "done"}, key)
    assert again.status_code == 200, again.text
    assert again.json() == closed.json()
    r = await post(http, who["leader"], url, {"note": "other"}, key)
    problem(r, 422, "idempotency_key_reused")
    assert count(api_engine, EventRow, case_id, type="CaseClosed") == 1


async def test_the_cli_sends_a_key_and_retries_with_it(
    http: httpx.AsyncClient, people: People, api_engine: Engine, client: Client, db_url: str
) -> None:
    case_id, who = await handled_case(http, people)
    as_ = ["--as", f"supervisor:{who['supervisor'].id}"]
    urge = ["case", "urge", case_id, *as_, "--message", "催办"]
    key = ["--idempotency-key", str(uuid.uuid4())]
    first = await acli(client, db_url, *urge, *key)
    assert first.exit_code == 0, first.output
    again = await acli(client, db_url, *urge, *key)
    assert again.exit_code == 0 and again.output == first.output, again.output
    assert count(api_engine, EventRow, case_id, type="CaseUrged") == 1
    # Without --idempotency-key, each command is a request of its own.
    for _ in range(2):
        assert (await acli(client, db_url, *urge)).exit_code == 0
    assert count(api_engine, EventRow, case_id, type="CaseUrged") == 3
    reused = await acli(client, db_url, "case", "urge", case_id, *as_, "--message", "x", *key)
    assert reused.exit_code == 2 and "idempotency_key_reused" in reused.output, reused.output
    bad = await acli(client, db_url, "case", "urge", case_id, *as_, "--message", "x\x00")
    assert bad.exit_code == 2 and "message contains a NUL" in bad.output, bad.output
    assert count(api_engine, EventRow, case_id, type="CaseUrged") == 3
