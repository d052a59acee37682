"""Reporting through the API: idempotent, refused with the domain's reasons as problems."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from application.config import Settings
from domain.demo_district import generate_demo_district
from store.db import make_engine
from store.event_store import EventStore
from store.reference import import_district
from store.users import UserStore
from tests.api.conftest import People, new_area, problem, report_body
from tests.conftest import start_dev_server
from workers.run import build_worker
from workflows import client as cases


async def test_report_is_idempotent_by_report_id(http: httpx.AsyncClient, people: People) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    report_id = f"api-{uuid.uuid4().hex[:10]}"
    body = report_body(area.grid(0, 1), report_id=report_id)
    first = await http.post("/v1/reports", json=body, headers=worker.headers)
    assert first.status_code == 201, first.text
    case = first.json()
    assert case["case_id"] == report_id and case["stage"] == "verify"
    assert case["status"] == "open" and case["light"] == "green"
    assert case["reporter_id"] == worker.id  # his own id is not hidden from him
    assert first.headers["location"] == f"/v1/cases/{report_id}"
    assert case["deadlines"]["stage_due_at"].endswith("+00:00")
    assert [e["type"] for e in case["timeline"]] == ["CaseReported"]
    assert case["timeline"][0]["label_zh"] == "上报"

    again = await http.post("/v1/reports", json=body, headers=worker.headers)
    assert again.status_code == 200, again.text
    assert again.json()["case_id"] == report_id and again.json()["version"] == case["version"]

    other = report_body(area.grid(0, 1), report_id=report_id, description="another thing")
    body409 = problem(
        await http.post("/v1/reports", json=other, headers=worker.headers), 409, "duplicate_report"
    )
    assert body409["instance"] == "/v1/reports"


async def test_report_is_idempotent_by_idempotency_key(
    http: httpx.AsyncClient, people: People
) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    key = f"key-{uuid.uuid4().hex[:10]}"
    headers = {**worker.headers, "Idempotency-Key": key}
    body = report_body(area.grid(0, 1))
    first = await http.post("/v1/reports", json=body, headers=headers)
    second = await http.post("/v1/reports", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["case_id"] == second.json()["case_id"] == key
    changed = report_body(area.grid(0, 1), category="E0102")
    problem(await http.post("/v1/reports", json=changed, headers=headers), 409, "duplicate_report")
    # Neither an id nor a key: nothing to make the report idempotent with.
    problem(
        await http.post("/v1/reports", json=body, headers=worker.headers), 422, "report_id_required"
    )
    mismatch = report_body(area.grid(0, 1), report_id="something-else")
    problem(
        await http.post("/v1/reports", json=mismatch, headers=headers), 422, "report_id_mismatch"
    )


async def test_bad_reports_are_422_problems(http: httpx.AsyncClient, people: People) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    rid = {"report_id": f"bad-{uuid.uuid4().hex[:10]}"}
    unknown = report_body(area.grid(0, 1), category="E9999", **rid)
    found = problem(
        await http.post("/v1/reports", json=unknown, headers=worker.headers),
        422,
        "unknown_category",
    )
    assert "E9999" in str(found["detail"])
    malformed = {"category": "E0101", "location": {"lon": 500, "lat": "north"}, **rid}
    found = problem(
        await http.post("/v1/reports", json=malformed, headers=worker.headers),
        422,
        "validation_error",
    )
    locations = {tuple(e["loc"]) for e in found["errors"]}  # type: ignore[attr-defined]
    assert ("body", "description") in locations and ("body", "location", "lon") in locations
    actor_in_body = report_body(area.grid(0, 1), actor={"id": "x", "role": "admin"}, **rid)
    problem(
        await http.post("/v1/reports", json=actor_in_body, headers=worker.headers),
        422,
        "validation_error",
    )
    bad_grid = report_body("12345", **rid)
    problem(
        await http.post("/v1/reports", json=bad_grid, headers=worker.headers),
        422,
        "invalid_command",
    )
    bad_id = report_body(area.grid(0, 1), report_id="no spaces allowed")
    problem(
        await http.post("/v1/reports", json=bad_id, headers=worker.headers), 422, "invalid_command"
    )
    r = await http.post(
        "/v1/reports",
        content=b"{not json",
        headers={**worker.headers, "content-type": "application/json"},
    )
    problem(r, 422, "validation_error")


async def test_reports_only_in_my_grids_and_only_by_reporters(
    http: httpx.AsyncClient, people: People
) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    elsewhere = report_body(area.grid(1, 1), report_id=f"x-{uuid.uuid4().hex[:10]}")
    problem(
        await http.post("/v1/reports", json=elsewhere, headers=worker.headers), 403, "not_your_grid"
    )
    handler = people.make("handler", "sanitation")
    problem(
        await http.post("/v1/reports", json=elsewhere, headers=handler.headers), 403, "forbidden"
    )
    # A hotline report by an acceptor: any grid, a public source (to be verified on site).
    acceptor = people.make("acceptor")
    r = await http.post("/v1/reports", json=elsewhere, headers=acceptor.headers)
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "hotline_12345"


@pytest.fixture
async def district_api(
    client: Client, fresh_db_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, People]]:
    """An API over a database of its own with the demo district imported."""
    engine = make_engine(fresh_db_url, pool_size=2)
    import_district(engine, generate_demo_district(0))
    app: FastAPI = create_app(Settings.from_env(), temporal_client=client, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            yield http, People(UserStore(engine))
    engine.dispose()


async def test_a_point_outside_every_grid_is_refused(
    district_api: tuple[httpx.AsyncClient, People],
) -> None:
    http, people = district_api
    district = generate_demo_district(0)
    worker = people.make("grid_worker", district.grids[0].code)
    outside = {
        "report_id": f"out-{uuid.uuid4().hex[:10]}",
        "category": "E0101",
        "description": "far away",
        "location": {"lon": 100.0, "lat": 10.0},
    }
    found = problem(
        await http.post("/v1/reports", json=outside, headers=worker.headers),
        422,
        "point_outside_grids",
    )
    assert "outside every unit grid" in str(found["detail"])
    # A point in one grid with another grid given: the point wins, the mismatch is refused.
    lon, lat = district.grids[0].area.centroid()  # type: ignore[union-attr]
    mismatch = {**outside, "location": {"lon": lon, "lat": lat}, "grid": district.grids[1].code}
    r = await http.post("/v1/reports", json=mismatch, headers=worker.headers)
    assert "lies in grid" in str(problem(r, 422, "invalid_command")["detail"])


async def test_the_answer_is_the_case_as_recorded(http: httpx.AsyncClient, people: People) -> None:
    """201 answers from what the case appended, not from the projection: the same case as
    a read of it afterwards (timeline and all). A repeat after a step answers the case as
    it stands; repeats at once make one case."""
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    report_id = f"rec-{uuid.uuid4().hex[:10]}"
    body = report_body(area.grid(0, 1), report_id=report_id)
    answers = await asyncio.gather(
        *(http.post("/v1/reports", json=body, headers=worker.headers) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 201]
    created = next(a for a in answers if a.status_code == 201).json()
    read = await http.get(f"/v1/cases/{report_id}", headers=worker.headers)
    assert read.status_code == 200 and created == read.json()
    assert [a.json() for a in answers if a.status_code == 200] == [created, created]

    leader = people.make("shift_leader")
    filed = await http.post(f"/v1/cases/{report_id}/file", json={}, headers=leader.headers)
    assert filed.status_code == 200, filed.text
    again = await http.post("/v1/reports", json=body, headers=worker.headers)
    assert again.status_code == 200 and again.json()["stage"] == "dispatch"
    assert [e["type"] for e in again.json()["timeline"]] == ["CaseReported", "CaseFiled"]


async def test_a_closed_case_still_answers_its_report(
    http: httpx.AsyncClient, people: People, client: Client
) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    report_id = f"done-{uuid.uuid4().hex[:10]}"
    body = report_body(area.grid(0, 1), report_id=report_id)
    assert (await http.post("/v1/reports", json=body, headers=worker.headers)).status_code == 201
    leader = people.make("shift_leader")
    rejected = await http.post(
        f"/v1/cases/{report_id}/reject", json={"reason": "not public"}, headers=leader.headers
    )
    assert rejected.status_code == 200, rejected.text
    await client.get_workflow_handle(cases.workflow_id(report_id)).result()  # finished
    again = await http.post("/v1/reports", json=body, headers=worker.headers)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "rejected" and again.headers["location"].endswith(report_id)
    other = report_body(area.grid(0, 1), report_id=report_id, description="something else")
    problem(
        await http.post("/v1/reports", json=other, headers=worker.headers), 409, "duplicate_report"
    )


@pytest.fixture
async def workers_down(api_engine: Engine) -> AsyncIterator[tuple[httpx.AsyncClient, Client]]:
    """The API on a Temporal no worker polls (the workers are down), waiting 1 s for a
    report's record; its own dev server, the session's database."""
    env = await start_dev_server()
    app: FastAPI = create_app(Settings.from_env(), temporal_client=env.client, engine=api_engine)
    async with app.router.lifespan_context(app):
        app.state.services.cases.record_wait = 1.0
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            yield http, env.client
    await env.shutdown()


async def test_with_the_workers_down_a_report_is_202_never_404(
    workers_down: tuple[httpx.AsyncClient, Client], people: People, store: EventStore
) -> None:
    http, client = workers_down
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    report_id = f"down-{uuid.uuid4().hex[:10]}"
    body = report_body(area.grid(0, 1), report_id=report_id)
    answer = await http.post("/v1/reports", json=body, headers=worker.headers)
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == f"/v1/cases/{report_id}"
    assert answer.json()["case_id"] == report_id
    # Sent again while they are down: 202 again; another report under the id: 409.
    assert (await http.post("/v1/reports", json=body, headers=worker.headers)).status_code == 202
    other = report_body(area.grid(0, 1), report_id=report_id, description="else")
    problem(
        await http.post("/v1/reports", json=other, headers=worker.headers), 409, "duplicate_report"
    )
    # The workers come back: the case records its report; the report answers 200.
    executor = ThreadPoolExecutor(16)
    running = [build_worker(k, client, store, executor) for k in ("cases", "supervision")]
    for w in running:
        await w.__aenter__()
    try:
        back = await http.post("/v1/reports", json=body, headers=worker.headers)
    finally:
        for w in running:
            await w.__aexit__(None, None, None)
        executor.shutdown()
    assert back.status_code == 200, back.text
    assert back.json()["case_id"] == report_id and back.json()["stage"] == "verify"
    read = await http.get(answer.headers["location"], headers=worker.headers)
    assert read.status_code == 200 and read.json() == back.json()
