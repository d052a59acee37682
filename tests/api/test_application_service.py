"""The application service behind every front end: the API and the CLI refuse and accept
alike because they call the same use cases; the CLI's `--as` becomes the same kind of
principal as an API token; jurisdiction limits the CLI's reads as it does the API's."""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client
from typer.testing import CliRunner, Result

from application.cases import CALLER, CaseService, NewReport
from application.context import Services
from application.errors import Forbidden, Invalid, NotFound
from application.intake import Intake
from application.principals import principal_as
from application.read_models import case_view
from domain import commands as c
from domain.demo_district import generate_demo_district
from domain.errors import WrongRole
from domain.roles import Actor, Role
from domain.routing import Router
from domain.taxonomy import Taxonomy
from gridcase import cli_common
from gridcase.cli import app as cli_app
from store.event_store import EventStore
from store.users import UserStore
from tests.api.conftest import Area, People, User, new_area, problem, report_body
from tests.api.test_api_main_line import step


class FixedIntake:
    """One intake, never reloaded (a hand-written stand-in for the app's source)."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    def get(self) -> Intake:
        return self.intake


def without_routing_for(intake: Intake, category: str) -> Intake:
    """The intake after a taxonomy import that dropped ``category``: routing has no
    department for the cases of it still in flight."""
    t = intake.taxonomy
    kept = Taxonomy(
        departments=t.departments,
        major_classes=t.major_classes,
        categories=tuple(cat for cat in t.categories if cat.code != category),
    )
    return replace(intake, taxonomy=kept, router=Router(kept))


def cli(client: Client, db_url: str, *args: str) -> Result:
    env = {
        "DATABASE_URL": db_url,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "GRIDCASE_LOG_FORMAT": "console",
    }
    return CliRunner().invoke(cli_app, list(args), env=env)


async def acli(client: Client, db_url: str, *args: str) -> Result:
    # In a thread: the CLI runs its own event loop, and this one keeps serving the workers.
    return await asyncio.to_thread(cli, client, db_url, *args)


async def filed_case(
    http: httpx.AsyncClient, people: People, area: Area | None = None
) -> tuple[str, User]:
    """A case of E0101 waiting for dispatch, and a dispatcher."""
    area = area or new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    case_id = f"svc-{uuid.uuid4().hex[:10]}"
    body = report_body(area.grid(0, 1), report_id=case_id)
    r = await http.post("/v1/reports", json=body, headers=worker.headers)
    assert r.status_code == 201, r.text
    await step(http, people.make("shift_leader"), case_id, "file")
    return case_id, people.make("dispatcher")


def dispatched(engine: Engine, case_id: str) -> dict[str, Any]:
    [event] = [r for r in EventStore(engine).records(case_id) if r["type"] == "CaseDispatched"]
    data: dict[str, Any] = event["data"]
    return data


async def test_dispatch_without_routing_is_refused_alike_by_api_and_cli(
    http: httpx.AsyncClient,
    api_app: FastAPI,
    api_engine: Engine,
    people: People,
    client: Client,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    area = new_area()
    by_api, dispatcher = await filed_case(http, people, area)
    by_cli, _ = await filed_case(http, people, area)
    svc: Services = api_app.state.services
    no_routing = without_routing_for(svc.intake, "E0101")
    monkeypatch.setattr(svc.cases, "intakes", FixedIntake(no_routing))
    # The CLI loads its intake once per command (cached; `fresh` clears it).
    monkeypatch.setattr(cli_common, "intake", functools.cache(lambda: no_routing))

    # No department named: both refuse, with the same code and the same words.
    r = await http.post(f"/v1/cases/{by_api}/dispatch", json={}, headers=dispatcher.headers)
    detail = str(problem(r, 422, "no_routing")["detail"])
    assert "name the department" in detail and by_api in detail
    refused = await acli(
        client, db_url, "case", "dispatch", by_cli, "--as", f"dispatcher:{dispatcher.id}"
    )
    assert refused.exit_code == 2, refused.output
    assert f"refused (no_routing): {detail.replace(by_api, by_cli)}" in refused.output

    # A department named: both accept it, and record that routing suggested none.
    body = {"department": "sanitation"}
    await step(http, dispatcher, by_api, "dispatch", body)
    done = await acli(client, db_url, "case", "dispatch", by_cli, "--department", "sanitation",
                      "--as", f"dispatcher:{dispatcher.id}")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "CaseDispatched" in done.output
    for case_id in (by_api, by_cli):
        data = dispatched(api_engine, case_id)
        assert (data["department"], data["suggested_department"]) == ("sanitation", "")


async def test_dispatch_records_routings_suggestion(
    http: httpx.AsyncClient, api_engine: Engine, people: People
) -> None:
    case_id, dispatcher = await filed_case(http, people)
    await step(http, dispatcher, case_id, "dispatch", {"department": "landscaping"})
    data = dispatched(api_engine, case_id)
    assert (data["department"], data["suggested_department"]) == ("landscaping", "sanitation")


def test_cli_principal_resolution(api_engine: Engine, people: People) -> None:
    users = UserStore(api_engine)
    district = generate_demo_district(0)
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1), area.grid(0, 2))

    # A registered user: his role and units, whatever the text says of them.
    found = principal_as(f"grid_worker:{worker.id}", users, district)
    assert (found.role, found.units, found.unbounded) == (
        "grid_worker",
        (area.grid(0, 1), area.grid(0, 2)),
        False,
    )
    assert principal_as(f"grid_worker:{worker.id}@{area.grid(0, 2)}", users, None).units == (
        area.grid(0, 1),
        area.grid(0, 2),
    )
    for text, code in (
        (f"dispatcher:{worker.id}", "role_mismatch"),
        (f"grid_worker:{worker.id}@{area.grid(1, 1)}", "not_your_unit"),
        ("system:engine", "wrong_role"),
    ):
        with pytest.raises(Forbidden) as refused:
            principal_as(text, users, district)
        assert refused.value.code == code, text
    with pytest.raises(Invalid) as bad:
        principal_as("nobody", users, district)
    assert bad.value.code == "invalid_actor"
    gone = people.make("handler", "sanitation")
    users.deactivate(gone.id)
    with pytest.raises(Forbidden, match="deactivated"):
        principal_as(f"handler:{gone.id}@sanitation", users, district)

    # Ad hoc: placed by @unit, else by the district's assignment; else vouched for.
    handler = principal_as("handler:h-adhoc@sanitation", users, district)
    assert (handler.units, handler.unbounded) == (("sanitation",), False)
    grid = district.grids[0].code
    assigned = district.worker_for_grid(grid)
    assert assigned is not None
    patrol = principal_as(f"grid_worker:{assigned.id}", users, district)
    assert grid in patrol.units and not patrol.unbounded
    assert patrol.units == tuple(g.code for g in district.grids_of_worker(assigned.id))
    unplaced = principal_as("grid_worker:gw-unknown", users, district)
    assert (unplaced.units, unplaced.unbounded) == ((), True)
    assert unplaced.actor(grid=grid) == Actor(id="gw-unknown", role=Role.GRID_WORKER, unit=grid)
    assert not principal_as("shift_leader:lead-adhoc", users, None).unbounded


async def test_jurisdiction_limits_cli_reads(
    http: httpx.AsyncClient, api_engine: Engine, people: People, client: Client, db_url: str
) -> None:
    area, elsewhere = new_area(), new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    stranger = people.make("grid_worker", elsewhere.grid(0, 1))
    case_id = f"svc-{uuid.uuid4().hex[:10]}"
    body = report_body(area.grid(0, 1), report_id=case_id)
    assert (await http.post("/v1/reports", json=body, headers=worker.headers)).status_code == 201

    hidden = await acli(
        client, db_url, "case", "show", case_id, "--as", f"grid_worker:{stranger.id}"
    )
    assert hidden.exit_code == 2 and f"no case '{case_id}'" in hidden.output
    as_stranger = principal_as(f"grid_worker:{stranger.id}", UserStore(api_engine), None)
    with pytest.raises(NotFound):  # the same answer as for a case that does not exist
        case_view(api_engine, as_stranger, case_id)

    mine = await acli(
        client, db_url, "case", "show", case_id, "--json", "--as", f"grid_worker:{worker.id}"
    )
    assert mine.exit_code == 0, mine.output
    assert json.loads(mine.stdout)["case"]["reporter_id"] == worker.id  # his own id
    supervisor = people.make("supervisor", area.street)
    seen = await acli(
        client, db_url, "case", "show", case_id, "--json", "--as", f"supervisor:{supervisor.id}"
    )
    assert json.loads(seen.stdout)["case"]["case_id"] == case_id
    outsider = people.make("supervisor", elsewhere.street)
    late = await acli(client, db_url, "overdue", "--at-risk", "--json", "--street", area.street,
                      "--as", f"supervisor:{outsider.id}")  # fmt: skip
    assert late.exit_code == 0 and json.loads(late.stdout) == []
    # The work queues are the API's too, gated alike.
    queue = await acli(
        client, db_url, "inbox", "department", "--json", "--as", "handler:h-q@landscaping"
    )
    assert queue.exit_code == 0, queue.output
    assert {row["department"] for row in json.loads(queue.stdout)} <= {"landscaping"}
    gated = await acli(client, db_url, "inbox", "tasks", "--as", f"supervisor:{supervisor.id}")
    assert gated.exit_code == 2 and "refused (forbidden)" in gated.output
    # The operator (no --as) reads everything.
    everyone = await acli(client, db_url, "case", "show", case_id, "--json")
    assert json.loads(everyone.stdout)["case"]["reporter_id"] == worker.id


async def test_the_service_takes_the_callers_actor_and_gates_by_role(
    http: httpx.AsyncClient, api_app: FastAPI, people: People
) -> None:
    service: CaseService = api_app.state.services.cases
    users = UserStore(service.engine)
    case_id, dispatcher = await filed_case(http, people)
    who = principal_as(f"dispatcher:{dispatcher.id}", users, None)

    # A command naming someone else still acts as the caller: a dispatcher cannot close.
    claimed = c.CloseCase(actor=Actor(id="lead-somebody", role=Role.SHIFT_LEADER))
    with pytest.raises(WrongRole):
        await service.act(who, case_id, "close", claimed)
    with pytest.raises(Invalid) as wrong_step:
        await service.act(who, case_id, "file", c.CloseCase(actor=CALLER))
    assert wrong_step.value.code == "unknown_step"
    result = await service.act(
        who, case_id, "dispatch", c.DispatchCase(actor=CALLER, department="")
    )
    assert result.events == ["CaseDispatched"]
    last = EventStore(service.engine).records(case_id)[-1]
    assert (last["type"], last["actor"]["id"]) == ("CaseDispatched", dispatcher.id)

    handler = principal_as("handler:h-x@sanitation", users, None)
    what = NewReport(category="E0101", description="x", grid=new_area().grid(0, 1))
    with pytest.raises(Forbidden):
        await service.report(handler, what, f"svc-{uuid.uuid4().hex[:10]}")
    worker = principal_as(f"grid_worker:{people.make('grid_worker', what.grid).id}", users, None)
    with pytest.raises(Invalid) as source:
        await service.report(worker, replace(what, source="hotline_12345"), "svc-src")
    assert source.value.code == "invalid_source"
