"""The main line driven entirely through the API by the right people; refusals as problems;
authentication; jurisdiction; personal data redacted."""

from __future__ import annotations

import uuid

import httpx

from tests.api.conftest import People, User, new_area, problem, report_body


async def step(
    http: httpx.AsyncClient, user: User, case_id: str, name: str, body: object = None
) -> dict[str, object]:
    r = await http.post(f"/v1/cases/{case_id}/{name}", json=body, headers=user.headers)
    assert r.status_code == 200, r.text
    result: dict[str, object] = r.json()
    return result


async def report(http: httpx.AsyncClient, worker: User, grid: str) -> str:
    body = report_body(grid, report_id=f"ml-{uuid.uuid4().hex[:10]}")
    r = await http.post("/v1/reports", json=body, headers=worker.headers)
    assert r.status_code == 201, r.text
    case_id: str = r.json()["case_id"]
    return case_id


async def test_main_line_through_the_api(http: httpx.AsyncClient, people: People) -> None:
    area = new_area()
    grid = area.grid(0, 1)
    worker = people.make("grid_worker", grid, area.grid(0, 2))
    leader = people.make("shift_leader")
    dispatcher = people.make("dispatcher")
    handler = people.make("handler", "sanitation")
    case_id = await report(http, worker, grid)

    filed = await step(http, leader, case_id, "file", {"note": "meets E0101-01"})
    assert (filed["stage"], filed["events"]) == ("dispatch", ["CaseFiled"])
    # No department given: routing's suggestion for E0101 (exposed garbage) is sanitation.
    await step(http, dispatcher, case_id, "dispatch")
    assert (await step(http, handler, case_id, "sign_for"))["stage"] == "handle"
    fed = await step(http, handler, case_id, "feedback", {"result": "cleared"})
    assert fed["stage"] == "check"
    assert (await step(http, worker, case_id, "check", {"passed": True}))["stage"] == "close"
    closed = await step(http, leader, case_id, "close")
    assert (closed["status"], closed["stage"]) == ("closed", "closed")

    r = await http.get(f"/v1/cases/{case_id}", headers=leader.headers)
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["department"] == "sanitation" and case["closing_type"] == "normal"
    assert case["address"] == "Wenhua Rd 1" and case["reporter_id"] == worker.id
    timeline = case["timeline"]
    assert [e["type"] for e in timeline] == [
        "CaseReported",
        "CaseFiled",
        "CaseDispatched",
        "TaskSignedFor",
        "FeedbackSubmitted",
        "ClosureCheckPassed",
        "CaseClosed",
    ]
    assert [e["label_zh"] for e in timeline][:3] == ["上报", "立案", "派遣"]
    assert timeline[2]["details"]["suggested_department"] == "sanitation"
    assert timeline[3]["actor"] == {
        "id": handler.id,
        "role": "handler",
        "role_label_zh": "处置人员",
        "unit": "sanitation",
    }
    # Who acted is the token's owner, never anything in a body.
    assert timeline[5]["actor"]["id"] == worker.id and timeline[5]["actor"]["unit"] == grid
    assert "rules" not in timeline[0]["details"]
    assert all(e["time"].endswith("+00:00") for e in timeline)


async def test_refusals_are_problems(http: httpx.AsyncClient, people: People) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    leader = people.make("shift_leader")
    handler = people.make("handler", "sanitation")
    case_id = await report(http, worker, area.grid(0, 1))
    # A handler never sees an undispatched case: 404 before any domain rule.
    problem(await http.post(f"/v1/cases/{case_id}/file", headers=handler.headers), 404, "not_found")
    dispatcher = people.make("dispatcher")
    r = await http.post(f"/v1/cases/{case_id}/file", headers=dispatcher.headers)
    found = problem(r, 403, "wrong_role")
    assert "file" in str(found["detail"]) and found["title"] == "WrongRole"
    r = await http.post(f"/v1/cases/{case_id}/close", headers=leader.headers)
    assert "stage" in str(problem(r, 409, "wrong_stage")["detail"])
    r = await http.post(f"/v1/cases/{case_id}/reject", json={"reason": ""}, headers=leader.headers)
    problem(r, 422, "validation_error")
    r = await http.post(
        f"/v1/cases/{case_id}/file", json={"actor": "shift_leader:x"}, headers=dispatcher.headers
    )
    problem(r, 422, "validation_error")
    await step(http, leader, case_id, "file")
    await step(http, dispatcher, case_id, "dispatch", {"department": "municipal_roads"})
    # Now with roads: the sanitation handler still cannot see it, a roads handler can sign.
    problem(
        await http.post(f"/v1/cases/{case_id}/sign_for", headers=handler.headers), 404, "not_found"
    )
    roads = people.make("handler", "municipal_roads")
    assert (await step(http, roads, case_id, "sign_for"))["stage"] == "handle"
    problem(
        await http.post("/v1/cases/no-such-case/file", headers=leader.headers), 404, "not_found"
    )
    problem(await http.get("/v1/cases/no-such-case", headers=leader.headers), 404, "not_found")


async def test_foreign_cases_do_not_exist_for_you(http: httpx.AsyncClient, people: People) -> None:
    area, other_area = new_area(), new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    neighbour = people.make("grid_worker", area.grid(0, 2))
    supervisor = people.make("supervisor", other_area.street)
    community_leader = people.make("leader", area.communities[0])
    case_id = await report(http, worker, area.grid(0, 1))
    for outsider in (neighbour, supervisor):
        r = await http.get(f"/v1/cases/{case_id}", headers=outsider.headers)
        found = problem(r, 404, "not_found")
        assert found["detail"] == f"no case {case_id!r}"  # same words as a missing case
    r = await http.post(
        f"/v1/cases/{case_id}/check", json={"passed": True}, headers=neighbour.headers
    )
    problem(r, 404, "not_found")  # jurisdiction before the domain's stage rule
    r = await http.get(f"/v1/cases/{case_id}", headers=community_leader.headers)
    assert r.status_code == 200 and r.json()["reporter_id"] == worker.id


async def test_authentication(http: httpx.AsyncClient, people: People) -> None:
    r = await http.get("/v1/tasks")
    found = problem(r, 401, "unauthenticated")
    assert r.headers["www-authenticate"] == "Bearer" and found["instance"] == "/v1/tasks"
    r = await http.get("/v1/tasks", headers={"Authorization": "Bearer gc_not-a-token"})
    problem(r, 401, "unauthenticated")
    r = await http.get("/v1/tasks", headers={"Authorization": "Basic dTpw"})
    problem(r, 401, "unauthenticated")
    worker = people.make("grid_worker", new_area().grid(0, 1))
    assert (await http.get("/v1/tasks", headers=worker.headers)).status_code == 200
    people.users.revoke_token(worker.token_id)
    problem(await http.get("/v1/tasks", headers=worker.headers), 401, "unauthenticated")
    # A deactivated user's other tokens stop working too.
    second = people.users.issue_token(worker.id, "second")
    headers = {"Authorization": f"Bearer {second.secret}"}
    assert (await http.get("/v1/tasks", headers=headers)).status_code == 200
    people.users.deactivate(worker.id)
    problem(await http.get("/v1/tasks", headers=headers), 401, "unauthenticated")


async def test_personal_data_is_redacted_for_a_handler(
    http: httpx.AsyncClient, people: People
) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    leader = people.make("shift_leader")
    dispatcher = people.make("dispatcher")
    handler = people.make("handler", "sanitation")
    case_id = await report(http, worker, area.grid(0, 1))
    await step(http, leader, case_id, "file")
    await step(http, dispatcher, case_id, "dispatch", {"department": "sanitation"})
    seen = (await http.get(f"/v1/cases/{case_id}", headers=handler.headers)).json()
    assert seen["reporter_id"] is None and seen["redacted"] is True
    reported = seen["timeline"][0]
    assert reported["actor"]["id"] is None and reported["actor"]["role"] == "grid_worker"
    assert seen["timeline"][1]["actor"]["id"] == leader.id  # center staff stay named
    assert worker.id not in str(seen)
    staff = (await http.get(f"/v1/cases/{case_id}", headers=dispatcher.headers)).json()
    assert staff["reporter_id"] == worker.id and staff["timeline"][0]["actor"]["id"] == worker.id
