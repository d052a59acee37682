"""Open311 GeoReport v2 on the real stack: services from the taxonomy, reports that become
cases to verify, public requests with the spec's filters and formats, errors as the spec's
``{code, description}`` lists; and the independent client ``georeport`` reading it all
over HTTP, in XML and JSON."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from georeport import GeoReport
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from application.config import Settings
from application.context import Services
from application.intake import Intake, IntakeSource
from domain.demo_district import generate_demo_district
from domain.geo import Area as GeoArea
from domain.org import Community, District, Street, UnitGrid
from store.db import make_engine
from store.event_store import EventStore
from store.reference import import_district
from store.users import UserStore
from tests.api.conftest import Area, People, new_area
from workflows.client import workflow_id

V2 = "/open311/v2"
PERSONAL = {
    "email": "li.wei@example.com",
    "first_name": "Wei",
    "last_name": "Lidentifiable",
    "phone": "+86-139-0000-1234",
}


@dataclass(frozen=True)
class Open311:
    """An API whose intake knows a small district of one fresh street, and a client key."""

    http: httpx.AsyncClient
    area: Area
    key: str
    client_id: str
    engine: Engine

    def point(self, community: int, n: int) -> tuple[float, float]:
        west, south = _corner(self.area, community, n)
        return west + 0.005, south + 0.005

    async def post(self, fmt: str = "json", **fields: str) -> httpx.Response:
        lon, lat = self.point(0, 1)
        form = {
            "api_key": self.key,
            "service_code": "E0101",
            "lat": str(lat),
            "long": str(lon),
            "description": "garbage piled up by the bus stop",
            **fields,
        }
        return await self.http.post(f"{V2}/requests.{fmt}", data=form)

    async def report(self, **fields: str) -> str:
        r = await self.post(**fields)
        assert r.status_code == 201, r.text
        found = r.json()
        assert isinstance(found, list) and len(found) == 1
        return str(found[0]["service_request_id"])


def _corner(area: Area, community: int, n: int) -> tuple[float, float]:
    # Each test street gets squares of its own, far from the points other tests use.
    lon0 = 100.0 + int(area.street[-3:]) * 0.1
    return lon0 + (community * 2 + n - 1) * 0.01, 25.0


def small_district(area: Area) -> District:
    grids = []
    for community in (0, 1):
        for n in (1, 2):
            west, south = _corner(area, community, n)
            square = GeoArea.rectangle(west, south, west + 0.01, south + 0.01)
            grids.append(UnitGrid(area.grid(community, n), area=square))
    return District(
        code=area.street[:6],
        name_zh="测试区",
        name_en="Open311 test district",
        streets=(Street(area.street, "测试街道"),),
        communities=tuple(Community(c, f"测试社区{c[-3:]}") for c in area.communities),
        grids=tuple(grids),
    )


class FixedIntake(IntakeSource):
    """One intake, never reloaded (a hand-written stand-in for the app's source)."""

    def __init__(self, intake: Intake) -> None:
        self._intake = intake

    def get(self) -> Intake:
        return self._intake


@pytest.fixture(scope="module")
async def o311(client: Client, api_engine: Engine, workers: None) -> AsyncIterator[Open311]:
    """The workers append events to the session database, so a case reported here must be
    reported into it; that database has no district (loading one would change every other
    test's intake), so this app's intake is handed a small district of its own street."""
    area = new_area()
    app = create_app(Settings.from_env(), temporal_client=client, engine=api_engine)
    async with app.router.lifespan_context(app):
        svc: Services = app.state.services
        svc.cases.intakes = FixedIntake(replace(svc.intake, district=small_district(area)))
        issued = UserStore(api_engine).add_client(f"open311-test-{uuid.uuid4().hex[:8]}")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            yield Open311(http, area, issued.secret, issued.id, api_engine)


def errors(r: httpx.Response, status: int, fmt: str) -> str:
    """The description of the spec's one-error list, checked in either format."""
    assert r.status_code == status, r.text
    if fmt == "json":
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert isinstance(body, list) and len(body) == 1 and body[0]["code"] == status
        return str(body[0]["description"])
    assert r.headers["content-type"].startswith("text/xml")
    assert r.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(r.content)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    assert root.findtext("error/code") == str(status)
    return root.findtext("error/description") or ""


async def test_services_come_from_the_taxonomy(o311: Open311) -> None:
    r = await o311.http.get(f"{V2}/services.json")
    assert r.status_code == 200, r.text
    services = {s["service_code"]: s for s in r.json()}
    e0101 = services["E0101"]
    assert e0101["service_name"] == "暴露垃圾 Exposed garbage"
    assert e0101["metadata"] is False and e0101["type"] == "realtime"
    assert e0101["group"] == "市容环境 City appearance" and "市容环境" in e0101["keywords"]
    assert services["C0101"]["service_name"] == "上水井盖 Water-supply manhole cover"
    assert "Cover missing, shaft open" in services["C0101"]["description"]

    xml = ET.fromstring((await o311.http.get(f"{V2}/services.xml")).content)
    assert xml.tag == "services" and {s.tag for s in xml} == {"service"}
    assert {s.findtext("service_code") for s in xml} == set(services)
    assert xml.find("service/metadata") is not None
    assert xml.findtext("service/metadata") == "false"

    definition = await o311.http.get(f"{V2}/services/C0101.json")
    assert definition.json() == {"service_code": "C0101", "attributes": []}
    root = ET.fromstring((await o311.http.get(f"{V2}/services/C0101.xml")).content)
    assert root.tag == "service_definition" and root.findtext("service_code") == "C0101"
    assert errors(await o311.http.get(f"{V2}/services/E9999.xml"), 404, "xml")
    assert "csv" in errors(await o311.http.get(f"{V2}/services.csv"), 400, "xml")

    discovery = (await o311.http.get(f"{V2}/discovery.json")).json()
    endpoint = discovery["endpoints"][0]
    assert endpoint["url"] == "http://api.test/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = ET.fromstring((await o311.http.get(f"{V2}/discovery.xml")).content)
    assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


async def test_a_request_becomes_a_case_to_verify_without_personal_data(
    o311: Open311, client: Client
) -> None:
    media = "https://img.example.org/a.jpg"
    r = await o311.post(
        "xml", address_string="文化路 1号", media_url=media, **{"attribute[x]": "y"}, **PERSONAL
    )
    assert r.status_code == 201, r.text
    root = ET.fromstring(r.content)
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    case_id = root.findtext("request/service_request_id") or ""
    assert case_id.startswith("o311-") and "verif" in (
        root.findtext("request/service_notice") or ""
    )

    store = EventStore(o311.engine)
    row = store.case(case_id)
    assert (row["stage"], row["source"], row["grid"]) == ("verify", "open311", o311.area.grid(0, 1))
    assert row["reporter_id"] == f"open311:{o311.client_id}"
    state = store.state(case_id)
    assert state.needs_verification and not state.verification
    [reported] = store.records(case_id)
    assert reported["actor"]["role"] == "acceptor"
    assert reported["data"]["location"]["address"] == "文化路 1号"
    assert reported["data"]["photos"] == [media]

    handle = client.get_workflow_handle(workflow_id(case_id))
    described = await handle.describe()
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    payloads = [json.loads(p.data) for p in started.input.payloads]
    workflow_input = json.dumps(payloads, ensure_ascii=False)
    assert "garbage piled up" in workflow_input and "文化路" in workflow_input  # not vacuous
    stored = json.dumps([row, store.records(case_id)], default=str, ensure_ascii=False)
    attributes = json.dumps(
        {p.key.name: p.value for p in described.typed_search_attributes}, default=str
    )
    for value in PERSONAL.values():
        for where in (stored, attributes, workflow_input):
            assert value not in where

    listed = (await o311.http.get(f"{V2}/requests/{case_id}.json")).json()
    assert len(listed) == 1
    mine = listed[0]
    assert mine["status"] == "open" and mine["status_notes"] == "待立案 verify"
    assert mine["service_code"] == "E0101" and mine["media_url"] == media
    assert mine["address"] == "文化路 1号" and mine["agency_responsible"] is None
    assert (mine["long"], mine["lat"]) == pytest.approx(o311.point(0, 1))
    assert mine["requested_datetime"].endswith("+00:00")
    assert mine["expected_datetime"] > mine["requested_datetime"]
    assert not set(PERSONAL) & set(mine)


async def test_refusals_in_the_spec_error_format(o311: Open311) -> None:
    for fmt in ("xml", "json"):
        assert "api_key" in errors(await o311.post(fmt, api_key="gck_forged"), 403, fmt)
        assert "api_key" in errors(await o311.post(fmt, api_key=""), 403, fmt)
    assert "E9999" in errors(await o311.post(service_code="E9999"), 404, "json")
    assert errors(await o311.post(service_code=""), 400, "json")
    assert "lat and long" in errors(
        await o311.post(lat="", long="", address_string="Wenhua Rd 1"), 400, "json"
    )
    assert errors(await o311.post("xml", lat="north"), 400, "xml")
    assert errors(await o311.post(lat="95"), 400, "json")
    far = await o311.post("xml", lat="10.0", long="100.0")
    assert "outside every unit grid" in errors(far, 400, "xml")
    assert errors(await o311.post(jurisdiction_id="999999"), 404, "json")


@pytest.fixture
async def demo_district_api(
    client: Client, fresh_db_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """An API over a database of its own with the demo district imported (no case is
    reported here: the session's workers append to the session database)."""
    engine = make_engine(fresh_db_url, pool_size=2)
    import_district(engine, generate_demo_district(0))
    key = UserStore(engine).add_client("demo-app").secret
    app: FastAPI = create_app(Settings.from_env(), temporal_client=client, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            yield http, key
    engine.dispose()


async def test_a_point_outside_every_grid_of_the_district_is_a_400(
    demo_district_api: tuple[httpx.AsyncClient, str],
) -> None:
    http, key = demo_district_api
    form = {"api_key": key, "service_code": "E0101", "lat": "10.0", "long": "100.0"}
    for fmt in ("xml", "json"):
        r = await http.post(f"{V2}/requests.{fmt}", data=form)
        assert "outside every unit grid" in errors(r, 400, fmt)
    # The district is the jurisdiction: another one is not served here.
    r = await http.get(f"{V2}/services.json", params={"jurisdiction_id": "110101"})
    assert errors(r, 404, "json")
    assert (await http.get(f"{V2}/services.json", params={"jurisdiction_id": "410105"})).is_success


async def test_get_requests_filters_and_one_item_lists(o311: Open311, people: People) -> None:
    first = await o311.report()
    second = await o311.report(service_code="E0102", description="")
    both = f"{first},{second}"

    async def ids(fmt: str = "json", **params: str) -> list[str]:
        r = await o311.http.get(f"{V2}/requests.{fmt}", params=params)
        assert r.status_code == 200, r.text
        if fmt == "json":
            return [item["service_request_id"] for item in r.json()]
        root = ET.fromstring(r.content)
        assert root.tag == "service_requests"
        return [e.findtext("service_request_id") or "" for e in root.iterfind("request")]

    assert set(await ids(service_request_id=both)) == {first, second}
    assert set(await ids("xml", service_request_id=both)) == {first, second}
    assert await ids("xml", service_request_id=first) == [first]
    # Without ids: the last 90 days, newest first, filtered by service and status.
    recent = await ids()
    assert recent.index(second) < recent.index(first)
    assert second in await ids(service_code="E0102") and first not in await ids(
        service_code="E0102"
    )
    assert first in await ids(service_code="E0102,E0101", status="open")
    assert first not in await ids(status="closed")
    now = datetime.now(UTC)
    week_ago = (now - timedelta(days=7)).isoformat()
    assert first in await ids(start_date=week_ago)
    assert first not in await ids(end_date=week_ago)
    # A request with no description is named by its service.
    [item] = (await o311.http.get(f"{V2}/requests/{second}.json")).json()
    assert item["description"] == item["service_name"] == "道路不洁 Dirty road"

    bad = f"{V2}/requests.json"
    assert errors(await o311.http.get(bad, params={"status": "pending"}), 400, "json")
    assert errors(await o311.http.get(bad, params={"start_date": "2026-01-01T00:00"}), 400, "json")
    long_span = {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"}
    assert "90 days" in errors(await o311.http.get(bad, params=long_span), 400, "json")

    # One request and a token: a one-item list in both formats.
    for path in (f"requests/{first}", f"tokens/{first}"):
        one = await o311.http.get(f"{V2}/{path}.json")
        assert [i["service_request_id"] for i in one.json()] == [first]
        xml = ET.fromstring((await o311.http.get(f"{V2}/{path}.xml")).content)
        assert [e.findtext("service_request_id") for e in xml.iterfind("request")] == [first]
    assert (await o311.http.get(f"{V2}/tokens/{first}.json")).json()[0]["token"] == first
    assert errors(await o311.http.get(f"{V2}/requests/o311-nope.xml"), 404, "xml")
    assert errors(await o311.http.get(f"{V2}/tokens/o311-nope.json"), 404, "json")

    # A grid worker's own report is internal: not a public request.
    worker = people.make("grid_worker", o311.area.grid(1, 1))
    lon, lat = o311.point(1, 1)
    internal = f"gw-{uuid.uuid4().hex[:10]}"
    body = {
        "report_id": internal,
        "category": "E0101",
        "description": "patrol finding",
        "location": {"lon": lon, "lat": lat},
    }
    r = await o311.http.post("/v1/reports", json=body, headers=worker.headers)
    assert r.status_code == 201, r.text
    assert errors(await o311.http.get(f"{V2}/requests/{internal}.json"), 404, "json")
    assert internal not in await ids()


async def test_a_rejected_request_is_closed(o311: Open311, people: People) -> None:
    case_id = await o311.report(service_code="E0103", description="a shed on the sidewalk")
    acceptor = people.make("acceptor")
    r = await o311.http.post(
        f"/v1/cases/{case_id}/reject", json={"reason": "not ours"}, headers=acceptor.headers
    )
    assert r.status_code == 200, r.text
    [item] = (await o311.http.get(f"{V2}/requests/{case_id}.json")).json()
    assert item["status"] == "closed" and item["status_notes"] == "不予立案 rejected"
    assert item["expected_datetime"] is None
    assert item["updated_datetime"] >= item["requested_datetime"]
    closed = await o311.http.get(f"{V2}/requests.json", params={"status": "closed"})
    assert case_id in [i["service_request_id"] for i in closed.json()]
    still_open = await o311.http.get(f"{V2}/requests.xml", params={"status": "open"})
    assert case_id not in still_open.text


@pytest.fixture(scope="module")
def served(client: Client, api_engine: Engine) -> Iterator[str]:
    """The API under uvicorn on a free local port, for a client that speaks only HTTP."""
    app = create_app(Settings.from_env(), temporal_client=client, engine=api_engine)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}{V2}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _as_list(found: Any) -> list[dict[str, Any]]:
    # xmltodict turns a one-element list into the element itself.
    return found if isinstance(found, list) else [found]


@pytest.mark.parametrize("fmt", ["xml", "json"])
async def test_georeport_client_reads_services_and_requests(
    o311: Open311, served: str, fmt: str
) -> None:
    case_id = await o311.report(description="georeport reads this")
    geo = GeoReport(served, output_format=fmt)

    services = await asyncio.to_thread(geo.get_service_list)
    by_code = {s["service_code"]: s for s in services}
    assert by_code["E0101"]["group"] == "市容环境 City appearance"
    assert str(by_code["E0101"]["metadata"]).lower() == "false"
    definition = await asyncio.to_thread(geo.get_service_definition, "E0101")
    assert definition["service_code"] == "E0101" and not definition["attributes"]

    listed = _as_list(await asyncio.to_thread(geo.get_service_requests, case_id))
    assert [r["service_request_id"] for r in listed] == [case_id]
    one = await asyncio.to_thread(geo.get_service_request, case_id)
    assert one["status"] == "open" and one["description"] == "georeport reads this"
    assert one["status_notes"] == "待立案 verify" and one["service_code"] == "E0101"
    assert float(one["lat"]) == pytest.approx(o311.point(0, 1)[1])
    recent = _as_list(
        await asyncio.to_thread(geo.get_service_requests, service_code="E0101", status="open")
    )
    assert case_id in {r["service_request_id"] for r in recent}
    assert {r["status"] for r in recent} == {"open"}
