"""Bad input through the API is a 422 naming the field, before anything is started or
appended; the case stays as it was and usable (issue 10: a NUL wedged a case for ever).
Sources are a closed set per role, a verification goes to an active grid worker, an
extension has bounds, and a grid worker's view of another grid's case ends with his task."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from sqlalchemy import Engine, func, select
from temporalio.client import Client

from store.models import EventRow
from store.users import UserStore
from tests.api.conftest import People, User, new_area, problem, report_body
from tests.api.test_api_main_line import report, step
from tests.api.test_application_service import acli


def rid(prefix: str = "hy") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def events_of(engine: Engine, case_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).where(EventRow.case_id == case_id)).scalar_one()
        )


async def raw_post(http: httpx.AsyncClient, url: str, user: User, text: str) -> httpx.Response:
    """A JSON body as written (json= would refuse to encode a lone surrogate)."""
    headers = user.headers | {"Content-Type": "application/json"}
    return await http.post(url, content=text.encode("utf-8"), headers=headers)


@pytest.mark.parametrize(
    ("fields", "where", "found"),
    [
        ({"description": "garbage\u0000 here"}, "description", "NUL character"),
        ({"category": "E01\u001b01"}, "category", "control character U+001B"),
        (
            {"location": {"lon": 113.68, "lat": 34.78, "address": "Rd\u0000 1"}},
            "location.address",
            "NUL",
        ),
        ({"description": "x" * 4001}, "description", "at most 4000"),
        ({"photos": [f"sha256:{i}" for i in range(21)]}, "photos", "at most 20"),
        ({"self_handled": {"result": "\u0000"}}, "self_handled.result", "NUL"),
    ],
)
async def test_a_bad_report_is_refused_naming_the_field_and_starts_nothing(
    http: httpx.AsyncClient,
    people: People,
    api_engine: Engine,
    fields: dict,
    where: str,
    found: str,
) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    case_id = rid()
    body = report_body(area.grid(0, 1), report_id=case_id) | fields
    r = await http.post("/v1/reports", json=body, headers=worker.headers)
    detail = str(problem(r, 422, "validation_error")["detail"])
    assert detail.startswith(f"body.{where}") and found in detail, detail
    assert events_of(api_engine, case_id) == 0
    problem(await http.get(f"/v1/cases/{case_id}", headers=worker.headers), 404, "not_found")


async def test_a_lone_surrogate_is_not_valid_unicode(
    http: httpx.AsyncClient, people: People, api_engine: Engine
) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    case_id = rid()
    body = json.dumps(report_body(area.grid(0, 1), report_id=case_id, description="@"))
    r = await raw_post(http, "/v1/reports", worker, body.replace('"@"', '"bad \\ud800 text"'))
    detail = str(problem(r, 422, "validation_error")["detail"])
    assert "body.description" in detail and "lone surrogate U+D800" in detail, detail
    assert events_of(api_engine, case_id) == 0


async def test_a_3_mb_description_is_refused_with_a_clear_message(
    http: httpx.AsyncClient, people: People, api_engine: Engine
) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    case_id = rid()
    body = report_body(area.grid(0, 1), report_id=case_id, description="描" * 1_000_000)
    r = await http.post("/v1/reports", json=body, headers=worker.headers)
    # 413 where the body is capped before it is read; else the field's rule: 422.
    assert r.status_code in (413, 422), r.text
    assert r.json()["code"] and r.json()["detail"]
    assert events_of(api_engine, case_id) == 0


@pytest.mark.parametrize("source", ["<script>alert(1)</script>", "phone", "open311"])
async def test_an_unknown_source_is_refused_with_the_allowed_ones(
    http: httpx.AsyncClient, people: People, source: str
) -> None:
    area = new_area()
    acceptor = people.make("acceptor")
    body = report_body(area.grid(0, 1), report_id=rid(), source=source)
    r = await http.post("/v1/reports", json=body, headers=acceptor.headers)
    detail = str(problem(r, 422, "validation_error")["detail"])
    assert detail.startswith("body.source") and "hotline_12345" in detail and "wechat" in detail


async def test_sources_are_tied_to_the_role(http: httpx.AsyncClient, people: People) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    acceptor = people.make("acceptor")
    # An acceptor may not pass a hotline call off as a grid worker's (no verification).
    body = report_body(area.grid(0, 1), report_id=rid(), source="grid_worker")
    r = await http.post("/v1/reports", json=body, headers=acceptor.headers)
    detail = str(problem(r, 422, "invalid_source")["detail"])
    assert "wechat" in detail and "hotline_12345" in detail
    body = report_body(area.grid(0, 1), report_id=rid(), source="wechat")
    r = await http.post("/v1/reports", json=body, headers=worker.headers)
    problem(r, 422, "invalid_source")
    body = report_body(area.grid(0, 1), report_id=rid(), source="wechat")
    r = await http.post("/v1/reports", json=body, headers=acceptor.headers)
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "wechat"


STEP_TEXTS = [
    ("file", {"note": "meets\u0000 E0101-01"}, "note", "NUL"),
    ("file", {"condition": "E0101-01\n"}, "condition", "one line"),
    ("reject", {"reason": "x" * 2001}, "reason", "at most 2000"),
    ("merge", {"into": "c\u0000"}, "into", "NUL"),
]


@pytest.mark.parametrize(("name", "body", "where", "found"), STEP_TEXTS)
async def test_a_step_with_a_bad_text_is_refused_and_the_case_stays_usable(
    http: httpx.AsyncClient,
    people: People,
    api_engine: Engine,
    name: str,
    body: dict,
    where: str,
    found: str,
) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    leader = people.make("shift_leader")
    case_id = await report(http, worker, area.grid(0, 1))
    r = await http.post(f"/v1/cases/{case_id}/{name}", json=body, headers=leader.headers)
    detail = str(problem(r, 422, "validation_error")["detail"])
    assert detail.startswith(f"body.{where}") and found in detail, detail
    assert events_of(api_engine, case_id) == 1
    assert (await step(http, leader, case_id, "file", {"note": "立案 ✅"}))["version"] == 2


async def test_the_department_steps_refuse_bad_texts_and_absurd_extensions(
    http: httpx.AsyncClient, people: People, api_engine: Engine
) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    leader = people.make("shift_leader")
    dispatcher = people.make("dispatcher")
    handler = people.make("handler", "sanitation")
    supervisor = people.make("supervisor", area.street)
    case_id = await report(http, worker, area.grid(0, 1))
    await step(http, leader, case_id, "file")
    await step(http, dispatcher, case_id, "dispatch", {"department": "sanitation"})
    await step(http, handler, case_id, "sign_for")
    url = f"/v1/cases/{case_id}"
    r = await raw_post(http, f"{url}/feedback", handler, '{"result": "done \\udfff"}')
    assert "body.result" in str(problem(r, 422, "validation_error")["detail"])
    r = await http.post(f"{url}/urge", json={"message": "\u0007"}, headers=supervisor.headers)
    assert "body.message" in str(problem(r, 422, "validation_error")["detail"])
    # 99999999999 working days: refused when asked, not when approved (issue 10).
    r = await http.post(
        f"{url}/request_extension",
        json={"reason": "parts", "amount": "99999999999 working_days"},
        headers=handler.headers,
    )
    detail = str(problem(r, 422, "invalid_command")["detail"])
    assert "at most 30 working_days" in detail
    asked = await step(
        http, handler, case_id, "request_extension", {"reason": "parts", "amount": "2 working_days"}
    )
    assert asked["events"] == ["ExtensionRequested"]
    case = (await http.get(url, headers=leader.headers)).json()
    assert case["pending_request"] == "extension"
    assert case["deadlines"]["pending_request_due_at"] is not None
    granted = await step(http, dispatcher, case_id, "decide_extension", {"approve": True})
    assert granted["events"] == ["ExtensionGranted"]
    case = (await http.get(url, headers=leader.headers)).json()
    assert case["deadlines"]["pending_request_due_at"] is None
    assert events_of(api_engine, case_id) == 6


async def public_case(http: httpx.AsyncClient, acceptor: User, grid: str) -> str:
    case_id = rid("pub")
    body = {"report_id": case_id, "category": "E0101", "description": "citizen call", "grid": grid}
    r = await http.post("/v1/reports", json=body, headers=acceptor.headers)
    assert r.status_code == 201, r.text
    return case_id


async def test_a_verification_goes_to_an_active_grid_worker(
    http: httpx.AsyncClient, people: People, api_engine: Engine
) -> None:
    area = new_area()
    acceptor = people.make("acceptor")
    handler = people.make("handler", "sanitation")
    gone = people.make("grid_worker", area.grid(0, 2))
    UserStore(api_engine).deactivate(gone.id)
    case_id = await public_case(http, acceptor, area.grid(0, 1))
    url = f"/v1/cases/{case_id}/request_verification"
    for assignee, code in (
        ("nobody-" + uuid.uuid4().hex[:6], "unknown_assignee"),
        (handler.id, "assignee_not_grid_worker"),
        (gone.id, "assignee_deactivated"),
    ):
        r = await http.post(url, json={"assignee": assignee}, headers=acceptor.headers)
        assert assignee in str(problem(r, 422, code)["detail"])
    assert events_of(api_engine, case_id) == 1


async def test_a_grid_worker_sees_another_grids_case_only_while_his_task_is_open(
    http: httpx.AsyncClient, people: People
) -> None:
    area = new_area()
    acceptor = people.make("acceptor")
    outsider = people.make("grid_worker", area.grid(1, 1))
    second = people.make("grid_worker", area.grid(1, 2))
    first_case = await public_case(http, acceptor, area.grid(0, 1))
    url = f"/v1/cases/{first_case}"
    problem(await http.get(url, headers=outsider.headers), 404, "not_found")
    await step(http, acceptor, first_case, "request_verification", {"assignee": outsider.id})
    assert (await http.get(url, headers=outsider.headers)).status_code == 200
    await step(http, outsider, first_case, "verification", {"confirmed": True})
    # Verified: the task is done, and the right to see the case with it.
    problem(await http.get(url, headers=outsider.headers), 404, "not_found")
    problem(
        await http.post(f"{url}/verification", json={"confirmed": True}, headers=outsider.headers),
        404,
        "not_found",
    )
    # Sent to another worker instead: the first one's task is no longer his.
    other_case = await public_case(http, acceptor, area.grid(0, 1))
    other = f"/v1/cases/{other_case}"
    await step(http, acceptor, other_case, "request_verification", {"assignee": outsider.id})
    await step(http, acceptor, other_case, "request_verification", {"assignee": second.id})
    problem(await http.get(other, headers=outsider.headers), 404, "not_found")
    assert (await http.get(other, headers=second.headers)).status_code == 200


async def test_the_cli_refuses_a_bad_report_before_anything(
    people: People, client: Client, db_url: str, api_engine: Engine
) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    case_id = rid("cli")
    base = ["report", "--id", case_id, "--category", "E0101", "--grid", area.grid(0, 1)]
    as_ = ["--as", f"grid_worker:{worker.id}"]
    for extra, found in (
        (["--description", "NUL\x00"], "description contains a NUL"),
        (
            ["--description", "ok", "--address", "Rd\n1", "--lon", "113.6", "--lat", "34.8"],
            "location.address contains a line break",
        ),
        (["--description", "ok", "--source", "<script>"], "is not one a 网格员 grid_worker"),
    ):
        result = await acli(client, db_url, *base, *as_, *extra)
        assert result.exit_code == 2 and found in result.output, result.output
    assert events_of(api_engine, case_id) == 0
