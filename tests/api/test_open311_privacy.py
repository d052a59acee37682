"""A case's public view (Open311, XML and JSON, read over plain HTTP and by the independent
``georeport`` client): a hotline caller's address, words and exact point are withheld, an
Open311 request keeps what its client published minus personal data fields, and no
personal data reaches a public answer or a search attribute (docs/privacy.md)."""

from __future__ import annotations

import asyncio
import json
import uuid
import xml.etree.ElementTree as ET

import httpx
import pytest
from georeport import GeoReport
from temporalio.client import Client

from domain.disclosure import WITHHELD, coarsen
from tests.api.conftest import People
from tests.api.test_open311 import V2, Open311, o311, served  # noqa: F401 (fixtures)
from workflows.client import workflow_id

HOME = "文化路 88号 3单元 502室"
PHONE = "13900001234"
CALLER = f"王先生 {PHONE}, 楼上漏水 water leaking from the flat above"


async def hotline_report(o311: Open311, people: People) -> tuple[str, tuple[float, float]]:  # noqa: F811
    """A 12345 call taken by an acceptor: the caller's home, his name and number."""
    acceptor = people.make("acceptor")
    west, south = o311.point(0, 1)
    exact = (round(west + 0.00123, 6), round(south + 0.00071, 6))
    case_id = f"h-{uuid.uuid4().hex[:10]}"
    body = {
        "report_id": case_id,
        "category": "E0101",
        "description": CALLER,
        "location": {"lon": exact[0], "lat": exact[1], "address": HOME},
    }
    r = await o311.http.post("/v1/reports", json=body, headers=acceptor.headers)
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "hotline_12345"
    return case_id, exact


def _nothing_personal(text: str, exact: tuple[float, float]) -> None:
    for secret in (HOME, "502室", PHONE, "王先生", "water leaking", str(exact[0]), str(exact[1])):
        assert secret not in text, f"{secret!r} is public"


async def test_a_hotline_callers_home_is_not_published(
    o311: Open311,  # noqa: F811
    people: People,
) -> None:
    case_id, exact = await hotline_report(o311, people)
    coarse = coarsen(*exact)
    assert coarse != exact

    r = await o311.http.get(f"{V2}/requests/{case_id}.json")
    assert r.status_code == 200, r.text
    [shown] = r.json()
    assert (shown["long"], shown["lat"]) == coarse
    assert shown["address"] is None and shown["description"] is None
    assert shown["media_url"] is None
    assert shown["service_code"] == "E0101" and shown["status"] == "open"  # still listed
    _nothing_personal(r.text, exact)

    xml = await o311.http.get(f"{V2}/requests/{case_id}.xml")
    root = ET.fromstring(xml.content)
    assert [float(root.findtext(f"request/{k}") or "nan") for k in ("long", "lat")] == list(coarse)
    assert not (root.findtext("request/address") or "")
    assert not (root.findtext("request/description") or "")
    _nothing_personal(xml.text, exact)

    for fmt in ("json", "xml"):
        listing = await o311.http.get(f"{V2}/requests.{fmt}")
        assert case_id in listing.text
        _nothing_personal(listing.text, exact)


async def test_an_open311_request_keeps_its_point_without_personal_fields(
    o311: Open311,  # noqa: F811
) -> None:
    lon, lat = o311.point(0, 1)
    case_id = await o311.report(
        description="bins overflowing, call 139 0000 1234 or li.wei@example.com",
        address_string="文化路 1号 (tel 0371-65432100)",
        media_url="https://img.example.org/bins.jpg",
    )
    for fmt in ("json", "xml"):
        r = await o311.http.get(f"{V2}/requests/{case_id}.{fmt}")
        assert r.status_code == 200, r.text
        for secret in ("0000 1234", "li.wei@", "65432100"):
            assert secret not in r.text
    [shown] = (await o311.http.get(f"{V2}/requests/{case_id}.json")).json()
    assert shown["description"] == f"bins overflowing, call {WITHHELD} or {WITHHELD}"
    assert shown["address"] == f"文化路 1号 (tel {WITHHELD})"
    assert (shown["long"], shown["lat"]) == pytest.approx((lon, lat))
    assert shown["media_url"] == "https://img.example.org/bins.jpg"


@pytest.mark.parametrize("fmt", ["xml", "json"])
async def test_georeport_reads_the_coarse_point_of_a_hotline_case(
    o311: Open311,  # noqa: F811
    people: People,
    served: str,  # noqa: F811
    fmt: str,
) -> None:
    case_id, exact = await hotline_report(o311, people)
    geo = GeoReport(served, output_format=fmt)
    one = await asyncio.to_thread(geo.get_service_request, case_id)
    assert (float(one["long"]), float(one["lat"])) == coarsen(*exact)
    assert not one.get("address") and not one.get("description")
    _nothing_personal(json.dumps(one, ensure_ascii=False), exact)


async def test_no_personal_data_in_search_attributes_or_public_answers(
    o311: Open311,  # noqa: F811
    people: People,
    client: Client,
) -> None:
    case_id, exact = await hotline_report(o311, people)
    described = await client.get_workflow_handle(workflow_id(case_id)).describe()
    attributes = {p.key.name: p.value for p in described.typed_search_attributes}
    assert attributes["CaseGrid"] == o311.area.grid(0, 1)  # not vacuous
    text = json.dumps(attributes, default=str, ensure_ascii=False)
    _nothing_personal(text, exact)
    assert "acceptor" not in text  # nor who took the call

    # Everything anyone may read without signing in.
    anonymous = [
        f"{V2}/requests.json",
        f"{V2}/requests.xml",
        f"{V2}/requests/{case_id}.json",
        f"{V2}/tokens/{case_id}.xml",
        f"{V2}/services.json",
        f"{V2}/discovery.json",
        "/healthz",
        "/readyz",
        "/openapi.json",
    ]
    for path in anonymous:
        answer: httpx.Response = await o311.http.get(path)
        assert answer.status_code < 500, (path, answer.text)
        _nothing_personal(answer.text, exact)
    # The reporter is nobody's business but the center's: no user id in a public answer.
    listing = await o311.http.get(f"{V2}/requests.json")
    assert "acceptor-" not in listing.text and "reporter" not in listing.text
