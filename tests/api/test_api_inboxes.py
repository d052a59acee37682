"""What each group sees in its lists: grid workers' tasks, the center's queues, the
department inbox, and the supervisors' overdue list with its filters and counts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from temporalio.client import Client

from domain import commands as c
from domain.events import Location
from domain.roles import Actor, Role
from domain.rules import CaseRules
from tests.api.conftest import People, all_items, new_area, problem
from tests.api.test_api_main_line import report, step
from workflows import client as cases


def ids(items: list[dict[str, object]]) -> set[object]:
    return {i["case_id"] for i in items}


async def test_grid_worker_tasks(http: httpx.AsyncClient, people: People) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    outsider = people.make("grid_worker", area.grid(1, 1))
    acceptor = people.make("acceptor")
    leader = people.make("shift_leader")
    dispatcher = people.make("dispatcher")
    handler = people.make("handler", "sanitation")
    # A hotline report in his grid, sent to the outsider to verify; one of his own at check.
    public = f"pub-{uuid.uuid4().hex[:8]}"
    body = {"report_id": public, "category": "E0101", "description": "citizen call"}
    r = await http.post(
        "/v1/reports", json=body | {"grid": area.grid(0, 1)}, headers=acceptor.headers
    )
    assert r.status_code == 201, r.text
    await step(http, acceptor, public, "request_verification", {"assignee": outsider.id})
    own = await report(http, worker, area.grid(0, 1))
    await step(http, leader, own, "file")
    await step(http, dispatcher, own, "dispatch", {"department": "sanitation"})
    await step(http, handler, own, "sign_for")
    await step(http, handler, own, "feedback", {"result": "cleared"})

    mine = (await http.get("/v1/tasks", headers=worker.headers)).json()
    assert [(i["case_id"], i["task"]) for i in mine["items"]] == [(own, "check")]
    assert mine["total"] == 1 and mine["limit"] == 50 and mine["offset"] == 0
    theirs = (await http.get("/v1/tasks", headers=outsider.headers)).json()
    assert [(i["case_id"], i["task"]) for i in theirs["items"]] == [(public, "verify")]
    # The verification task was given to him: he may see and answer it outside his grids.
    r = await http.post(
        f"/v1/cases/{public}/verification", json={"confirmed": True}, headers=outsider.headers
    )
    assert r.status_code == 200, r.text
    assert (await http.get("/v1/tasks", headers=outsider.headers)).json()["total"] == 0
    problem(await http.get("/v1/tasks", headers=handler.headers), 403, "forbidden")
    problem(await http.get("/v1/tasks?limit=501", headers=worker.headers), 422, "validation_error")


async def test_center_and_department_inboxes(http: httpx.AsyncClient, people: People) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    acceptor = people.make("acceptor")
    leader = people.make("shift_leader")
    dispatcher = people.make("dispatcher")
    handler = people.make("handler", "sanitation")
    roads = people.make("handler", "municipal_roads")
    new, filed, asking = [await report(http, worker, area.grid(0, 1)) for _ in range(3)]
    for case_id in (filed, asking):
        await step(http, leader, case_id, "file")
    await step(http, dispatcher, asking, "dispatch", {"department": "sanitation"})
    await step(http, handler, asking, "sign_for")
    ask = {"reason": "parts on order", "amount": "1 working_days"}
    await step(http, handler, asking, "request_extension", ask)

    queues = {
        q: ids(await all_items(http, "/v1/inbox/center", acceptor, queue=q))
        for q in ("to_file", "to_dispatch", "requests")
    }
    assert new in queues["to_file"] and filed in queues["to_dispatch"]
    assert asking in queues["requests"]
    assert not ({new, filed} & queues["requests"]) and asking not in queues["to_file"]
    assert ids(await all_items(http, "/v1/inbox/center", acceptor)) == queues["to_file"]
    problem(
        await http.get("/v1/inbox/center?queue=bogus", headers=acceptor.headers),
        422,
        "validation_error",
    )
    problem(
        await http.get("/v1/inbox/center?queue=to_file", headers=handler.headers), 403, "forbidden"
    )

    inbox = (await http.get("/v1/inbox/department", headers=handler.headers)).json()
    assert asking in ids(inbox["items"]) and not ({new, filed} & ids(inbox["items"]))
    in_hand = await all_items(http, "/v1/inbox/department", handler, queue="in_hand")
    assert asking in ids(in_hand)
    assert asking not in ids(
        await all_items(http, "/v1/inbox/department", handler, queue="to_sign_for")
    )
    assert asking not in ids(await all_items(http, "/v1/inbox/department", roads))
    r = await http.get("/v1/inbox/department?department=municipal_roads", headers=handler.headers)
    problem(r, 403, "not_your_department")
    problem(await http.get("/v1/inbox/department", headers=worker.headers), 403, "forbidden")


SHORT = "0.01 minutes"  # due at once: overdue as soon as the test looks


def rules(**short: str) -> CaseRules:
    limits = {"verify": "1 days", "dispatch": "1 days", "sign_for": "1 days", "handle": "1 days"}
    return CaseRules.from_dict(
        dict(stage_limits=limits | short, conditions={"E0101-01": "4 hours"})
    )


async def seed(
    client: Client, grid: str, category: str, case_rules: CaseRules, *steps: c.Command
) -> str:
    case_id = f"od-{uuid.uuid4().hex[:10]}"
    command = c.ReportCase(
        actor=Actor(id="gw-seed", role=Role.GRID_WORKER, unit=grid),
        category=category,
        grid=grid,
        description="seeded",
        location=Location(lon=113.68, lat=34.78),
        rules=case_rules,
    )
    await cases.report_case(client, case_id, command, datetime.now(UTC))
    for cmd in steps:
        await cases.act(client, case_id, cmd)
    return case_id


async def test_overdue_list_filters_and_counts(
    http: httpx.AsyncClient, people: People, client: Client
) -> None:
    area = new_area()
    supervisor = people.make("supervisor", area.street)
    handler = people.make("handler", "sanitation")
    leader = Actor(id="lead-seed", role=Role.SHIFT_LEADER)
    dispatcher = Actor(id="disp-seed", role=Role.DISPATCHER)
    late_verify = await seed(client, area.grid(0, 1), "E0101", rules(verify=SHORT))
    late_other = await seed(client, area.grid(1, 1), "E0102", rules(verify=SHORT))
    on_time = await seed(client, area.grid(0, 2), "E0101", rules())
    late_sign = await seed(
        client,
        area.grid(0, 2),
        "E0101",
        rules(sign_for=SHORT),
        c.FileCase(actor=leader),
        c.DispatchCase(actor=dispatcher, department="sanitation"),
    )
    late = {late_verify, late_other, late_sign}
    url = "/v1/cases/overdue"

    async def listed(**params: str) -> list[dict[str, object]]:
        return await all_items(http, url, supervisor, **params)

    async def until_listed(expected: set[str], **params: str) -> list[dict[str, object]]:
        for _ in range(100):  # the 0.6 s deadlines pass; the timers fire
            items = await listed(**params)
            if ids(items) == expected:
                return items
            await asyncio.sleep(0.2)
        raise AssertionError(f"listed {ids(items)}, expected {expected}")

    items = await until_listed(late)
    assert on_time not in ids(items)
    lateness = [i["late_by_seconds"] for i in items]
    assert lateness == sorted(lateness, reverse=True) and all(s > 0 for s in lateness)  # type: ignore[operator]
    assert ids(await listed(community=area.communities[1])) == {late_other}
    assert ids(await listed(grid=area.grid(0, 2))) == {late_sign}
    assert ids(await listed(category="E0102")) == {late_other}
    assert ids(await listed(stage="sign_for", department="sanitation")) == {late_sign}
    assert ids(await listed(street=area.street, source="grid_worker")) == late
    assert await listed(source="hotline_12345") == []
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await listed(reported_from=tomorrow) == []
    assert ids(await listed(reported_to=tomorrow)) == late

    async def counts(group_by: str, **params: str) -> dict[object, object]:
        r = await http.get(
            f"{url}/counts", headers=supervisor.headers, params={"group_by": group_by, **params}
        )
        assert r.status_code == 200, r.text
        return {i["key"]: i["count"] for i in r.json()["items"]}

    assert await counts("community") == {area.communities[0]: 2, area.communities[1]: 1}
    assert await counts("stage") == {"verify": 2, "sign_for": 1}
    assert await counts("department", stage="sign_for") == {"sanitation": 1}
    assert await counts("street") == {area.street: 3}
    by_default = await http.get(
        f"{url}/counts", headers=supervisor.headers, params={"stage": "sign_for"}
    )
    assert {i["key"]: i["count"] for i in by_default.json()["items"]} == {"sanitation": 1}
    problem(
        await http.get(f"{url}/counts?group_by=colour", headers=supervisor.headers),
        422,
        "validation_error",
    )
    problem(await http.get(url, headers=handler.headers), 403, "forbidden")
    # Another street's supervisor sees none of them.
    other = people.make("supervisor", new_area().street)
    assert await all_items(http, url, other) == []
    # The deadline timers fire: the projection turns red, and the light filter finds them.
    await until_listed(late, light="red")
    assert await listed(light="green") == []
