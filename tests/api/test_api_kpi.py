"""Evaluation over the API: the KPI table and ranking equal ``store.kpi.evaluate`` on the
same log, cut to the caller's area; CSV as ``gridcase kpi table --csv`` writes it; the
overdue list as CSV with the same filters.

The cases are played through the decider in June 2025 and appended to the event store, as
tests/integration/test_kpi_month.py does: a month no other test writes to.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine

from domain import commands as c
from domain.case import decide, evolve, initial_state
from domain.codec import to_record
from domain.events import Event
from domain.kpi import ObjectKind
from domain.roles import Actor, Role
from domain.rules import CaseRules
from gridcase.cli_kpi import row_record
from store.event_store import EventStore
from store.kpi import evaluate
from tests.api.conftest import Area, People, User, new_area, problem
from tests.factories import DISPATCHER, LEADER

CST = ZoneInfo("Asia/Shanghai")
JUNE = date(2025, 6, 15)
RULES = CaseRules.from_dict(
    dict(
        stage_limits={
            "verify": "30 minutes",
            "review": "30 minutes",
            "dispatch": "30 minutes",
            "sign_for": "1 hours",
            "handle": "4 hours",
            "check": "2 hours",
            "close": "1 hours",
        }
    )
)
FORMULA = '=HYPERLINK("http://evil.example","click")'


class Play:
    """One case through the decider, the clock moved by hand."""

    def __init__(self, case_id: str, at: datetime) -> None:
        self.state, self.now, self.events = initial_state(case_id), at, list[Event]()

    def __call__(self, command: c.Command, minutes: float = 10) -> Play:
        self.now += timedelta(minutes=minutes)
        for event in decide(self.state, command, self.now):
            self.state = evolve(self.state, event)
            self.events.append(event)
        return self


def handler(department: str) -> Actor:
    return Actor(id=f"h-{department}", role=Role.HANDLER, unit=department)


def play_case(
    worker: Actor, department: str, at: datetime, *, feedback_after: float | None, text: str = ""
) -> Play:
    """Report, file, dispatch, sign for; then, unless ``feedback_after`` is None, feed back
    after that many minutes, pass the check and close."""
    case = Play(f"kpi-{uuid.uuid4().hex[:10]}", at)
    report = c.ReportCase(
        actor=worker, category="E0101", grid=worker.unit, description=text or "rubbish", rules=RULES
    )
    case(report, 0)(c.FileCase(actor=LEADER))(
        c.DispatchCase(actor=DISPATCHER, department=department)
    )
    case(c.SignFor(actor=handler(department)))
    if feedback_after is not None:
        case(c.SubmitFeedback(actor=handler(department), result="done"), feedback_after)
        case(c.RecordClosureCheck(actor=worker, passed=True))(c.CloseCase(actor=LEADER))
    return case


@dataclass(frozen=True)
class June:
    area: Area
    other: Area
    workers: tuple[User, User]  # in area, in other
    departments: tuple[str, str]
    open_case: str  # in area, left at handle: overdue ever since


@pytest.fixture(scope="module")
def june(store: EventStore, people: People) -> June:
    area, other = new_area(), new_area()
    inside = people.make("grid_worker", area.grid(0, 1))
    outside = people.make("grid_worker", other.grid(0, 1))
    gw_in = Actor(id=inside.id, role=Role.GRID_WORKER, unit=area.grid(0, 1))
    gw_out = Actor(id=outside.id, role=Role.GRID_WORKER, unit=other.grid(0, 1))
    d1, d2 = (f"kd{uuid.uuid4().hex[:8]}" for _ in range(2))
    at = datetime(2025, 6, 10, 9, 0, tzinfo=CST)
    cases = [
        play_case(gw_in, d1, at, feedback_after=60),
        play_case(gw_in, d1, at + timedelta(hours=1), feedback_after=5 * 24 * 60),
        play_case(gw_in, d2, at + timedelta(days=1), feedback_after=None, text=FORMULA),
        play_case(gw_out, d2, at + timedelta(days=2), feedback_after=30),
    ]
    for case in cases:
        store.append(case.state.case_id, 0, [to_record(e) for e in case.events])
    return June(area, other, (inside, outside), (d1, d2), cases[2].state.case_id)


async def kpi(
    http: httpx.AsyncClient, user: User, by: str, path: str = "/v1/kpi", **params: str
) -> dict[str, Any]:
    query = {"period": "month", "date": JUNE.isoformat(), "by": by, **params}
    r = await http.get(path, params=query, headers=user.headers)
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found


def by_object(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["object"]: i for i in table["items"]}


async def test_table_equals_the_evaluation(
    http: httpx.AsyncClient, people: People, june: June, api_engine: Engine
) -> None:
    acceptor = people.make("acceptor")
    table = await kpi(http, acceptor, "department")
    assert (table["period_kind"], table["period"], table["object_kind"]) == (
        "month",
        "2025-06",
        "department",
    )
    assert table["start"] == "2025-06-01T00:00:00+08:00"
    assert table["end"] == "2025-07-01T00:00:00+08:00"
    rows = by_object(table)
    d1, d2 = june.departments
    assert rows[d1]["counts"]["due"] == 2 and rows[d1]["counts"]["closed"] == 2
    assert rows[d2]["counts"]["due"] == 2 and rows[d2]["counts"]["closed"] == 1
    assert rows[d2]["rates"]["closing"] == {
        "value": 0.5,
        "hits": 1,
        "of": 2,
        "label_zh": "结案率",
    }
    reference = evaluate(api_engine, "month", JUNE, None, "department", as_of=datetime.now(UTC))
    assert {d1, d2} <= {row.key for row in reference.rows}
    for row in reference.rows:
        if row.key in (d1, d2):
            got = rows[row.key]
            assert got["score"] == (None if row.score is None else round(row.score, 2))
            assert got["grade"] == row.grade and got["counts"] == row.counts
            rates = {n: (r["hits"], r["of"]) for n, r in got["rates"].items()}
            assert rates == {
                n: (r.hits, r.of) for n, r in row.rates.items() if n != "missed_report"
            }
    scores = [i["score"] for i in table["items"]]
    ranked = [s for s in scores if s is not None]
    assert ranked == sorted(ranked, reverse=True)
    assert [i["rank"] for i in table["items"]] == list(range(1, len(scores) + 1))


async def test_supervisors_see_their_area(
    http: httpx.AsyncClient, people: People, june: June
) -> None:
    supervisor = people.make("supervisor", june.area.street)
    acceptor = people.make("acceptor")
    mine, theirs = june.area.grid(0, 1), june.other.grid(0, 1)
    assert {mine, theirs} <= set(by_object(await kpi(http, acceptor, "grid")))
    assert set(by_object(await kpi(http, supervisor, "grid"))) == {mine}
    assert set(by_object(await kpi(http, supervisor, "community"))) == {mine[:12]}
    assert set(by_object(await kpi(http, supervisor, "street"))) == {june.area.street}
    workers = by_object(await kpi(http, supervisor, "grid_worker"))
    assert set(workers) == {june.workers[0].id}
    assert "missed_report" in workers[june.workers[0].id]["rates"]
    # Departments work for the whole district: every department row.
    assert set(june.departments) <= set(by_object(await kpi(http, supervisor, "department")))
    # A community leader does not see the street his community is part of.
    leader = people.make("leader", june.area.communities[0])
    assert set(by_object(await kpi(http, leader, "street"))) == set()
    assert set(by_object(await kpi(http, leader, "grid"))) == {mine}


async def test_ranking(http: httpx.AsyncClient, people: People, june: June) -> None:
    dispatcher = people.make("dispatcher")
    table = await kpi(http, dispatcher, "department")
    scored = [i for i in table["items"] if i["score"] is not None]
    assert len(scored) >= 2
    ranking = await kpi(http, dispatcher, "department", "/v1/kpi/ranking", top="1", bottom="1")
    assert ranking["items"] == [scored[0], scored[-1]] and ranking["total"] == len(scored)
    top = await kpi(http, dispatcher, "department", "/v1/kpi/ranking", top="100")
    assert top["items"] == scored


async def test_kpi_as_csv(
    http: httpx.AsyncClient, people: People, june: June, api_engine: Engine
) -> None:
    leader = people.make("shift_leader")
    as_json = by_object(await kpi(http, leader, "grid_worker"))
    r = await http.get(
        "/v1/kpi",
        params={"period": "month", "date": JUNE.isoformat(), "by": "grid_worker"},
        headers={**leader.headers, "Accept": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == (
        'attachment; filename="kpi-table-grid_worker-2025-06.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(r.text)))
    # The columns of `gridcase kpi table --csv`, in its order.
    reference = evaluate(api_engine, "month", JUNE, None, ObjectKind.GRID_WORKER)
    assert list(rows[0]) == list(row_record(reference.rows[0], 1))
    mine = next(row for row in rows if row["object"] == june.workers[0].id)
    expected = as_json[june.workers[0].id]
    assert mine["grade"] == expected["grade"] and mine["reported"] == "3"
    assert mine["on_time_verify"] == "-" and mine["on_time_verify_of"] == "0"
    same = await http.get(
        "/v1/kpi/ranking",
        params={"date": JUNE.isoformat(), "by": "grid_worker", "format": "csv", "top": "500"},
        headers=leader.headers,
    )
    assert same.status_code == 200 and same.headers["content-type"].startswith("text/csv")
    # ?format=json wins over the Accept header.
    r = await http.get(
        "/v1/kpi",
        params={"date": JUNE.isoformat(), "format": "json"},
        headers={**leader.headers, "Accept": "text/csv"},
    )
    assert r.headers["content-type"] == "application/json"


async def test_who_may_evaluate(http: httpx.AsyncClient, people: People, june: June) -> None:
    for user in (
        people.make("grid_worker", june.area.grid(0, 1)),
        people.make("handler", "sanitation"),
    ):
        r = await http.get("/v1/kpi", headers=user.headers)
        problem(r, 403, "forbidden")
    problem(await http.get("/v1/kpi/ranking"), 401, "unauthenticated")
    admin = people.make("admin")
    assert (await http.get("/v1/kpi", headers=admin.headers)).status_code == 200
    for params in ({"date": "1999-12-31"}, {"date": "9999-12-31"}):
        problem(
            await http.get("/v1/kpi", params=params, headers=admin.headers),
            422,
            "date_out_of_range",
        )
    for params in ({"period": "year"}, {"by": "planet"}, {"date": "2025-13-01"}, {"top": "-1"}):
        r = await http.get("/v1/kpi/ranking", params=params, headers=admin.headers)
        problem(r, 422, "validation_error")


async def test_overdue_as_csv(http: httpx.AsyncClient, people: People, june: June) -> None:
    supervisor = people.make("supervisor", june.area.street)
    params = {"street": june.area.street, "format": "csv"}
    r = await http.get("/v1/cases/overdue", params=params, headers=supervisor.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="overdue-')
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["case_id"] for row in rows] == [june.open_case]
    row = rows[0]
    assert row["stage"] == "handle" and row["department"] == june.departments[1]
    assert row["reporter_id"] == june.workers[0].id and int(row["late_by_seconds"]) > 86_400
    assert row["stage_due_at"].startswith("2025-06-") and row["stage_due_at"].endswith("+00:00")
    # Citizens' text is not run as a formula by a spreadsheet.
    assert row["description"] == "'" + FORMULA
    assert r.headers["x-total-count"] == "1"
    # Accept: text/csv, and the same filters as the JSON list (nothing in the other street).
    r = await http.get(
        "/v1/cases/overdue",
        params={"street": june.other.street},
        headers={**supervisor.headers, "Accept": "text/csv"},
    )
    assert r.status_code == 200 and r.text.splitlines()[1:] == []
    listed = await http.get(
        "/v1/cases/overdue", params={"street": june.area.street}, headers=supervisor.headers
    )
    assert [i["case_id"] for i in listed.json()["items"]] == [june.open_case]
    handler = people.make("handler", "sanitation")
    r = await http.get("/v1/cases/overdue?format=csv", headers=handler.headers)
    problem(r, 403, "forbidden")
