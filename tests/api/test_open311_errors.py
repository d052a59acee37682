"""Open311 answers what anyone can send with its own error format, never a 500: dates out
of range, control characters in filters, bodies too large or malformed, unknown paths and
methods, and PostgreSQL down; its XML stays well-formed whatever a description holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest
from sqlalchemy import Engine, text

from api.limits import SMALL_BODY_BYTES
from api.open311_format import Format, render
from application.context import Services
from tests.api.test_api_errors import without_postgres
from tests.api.test_open311 import V2, Open311, errors, o311

__all__ = ["o311"]  # the module's fixture, used here too


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    "params",
    [
        {"end_date": "0001-01-01T00:00:00Z"},
        {"start_date": "9999-12-31T00:00:00Z"},
        {"start_date": "2026-13-01T00:00:00Z"},
    ],
)
async def test_dates_out_of_range_are_400(o311: Open311, fmt: str, params: dict[str, str]) -> None:
    r = await o311.http.get(f"{V2}/requests.{fmt}", params=params)
    assert "date" in errors(r, 400, fmt)


async def test_control_characters_in_filters_and_ids_are_400(o311: Open311) -> None:
    r = await o311.http.get(f"{V2}/requests.json", params={"service_code": "E01\x0001"})
    assert "service_code contains a control character" in errors(r, 400, "json")
    r = await o311.http.get(f"{V2}/requests/o311-x%00y.xml")
    assert "control character" in errors(r, 400, "xml")
    r = await o311.http.get(f"{V2}/services.json", params={"jurisdiction_id": "\x07"})
    assert errors(r, 400, "json")


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "bin\x00 by the stop"),
        ("description", "bin\x1b[31m"),
        ("address_string", "Wenhua Rd\n1"),
    ],
)
async def test_a_request_with_a_bad_text_is_400_and_starts_nothing(
    o311: Open311, fmt: str, field: str, value: str, api_engine: Engine
) -> None:
    with api_engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    r = await o311.post(fmt, **{field: value})
    assert field in errors(r, 400, fmt)
    with api_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() == before


async def test_a_body_over_the_limit_is_refused_unread(o311: Open311) -> None:
    r = await o311.post("json", description="x" * (1024 * 1024 + 1))
    assert str(SMALL_BODY_BYTES) in errors(r, 413, "json")

    sent = 0

    async def chunks() -> httpx.AsyncByteStream:  # type: ignore[misc]
        nonlocal sent
        for _ in range(64):
            sent += 1
            yield b"description=" + b"x" * 16 * 1024

    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "content-length": str(64 * 16 * 1024),
    }
    r = await o311.http.post(f"{V2}/requests.xml", content=chunks(), headers=headers)
    errors(r, 413, "xml")
    assert sent <= 1  # answered before the body was read


async def test_a_chunked_body_is_counted_as_it_comes(o311: Open311) -> None:
    async def chunks() -> httpx.AsyncByteStream:  # type: ignore[misc]
        for _ in range(8):
            yield b"x" * 16 * 1024

    r = await o311.http.post(
        f"{V2}/requests.json",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    errors(r, 413, "json")


async def test_malformed_multipart_is_400(o311: Open311) -> None:
    r = await o311.http.post(
        f"{V2}/requests.json",
        content=b"--x\r\nContent-Disposition: form-data\r\n\r\n",
        headers={"content-type": "multipart/form-data"},
    )
    assert errors(r, 400, "json")


@pytest.mark.parametrize("fmt", ["xml", "json"])
async def test_unknown_paths_and_methods_in_the_spec_format(o311: Open311, fmt: str) -> None:
    assert errors(await o311.http.get(f"{V2}/nothing.{fmt}"), 404, fmt)
    assert errors(await o311.http.delete(f"{V2}/requests.{fmt}"), 405, fmt)
    assert errors(await o311.http.put(f"{V2}/services.{fmt}"), 405, fmt)


async def test_postgres_down_is_503_with_retry_after(o311: Open311) -> None:
    app = o311.http._transport.app  # type: ignore[attr-defined]
    svc: Services = app.state.services
    app.state.services = without_postgres(svc)
    try:
        for fmt in ("xml", "json"):
            r = await o311.http.get(f"{V2}/requests.{fmt}")
            assert "PostgreSQL" in errors(r, 503, fmt)
            assert r.headers["retry-after"] == "5"
        r = await o311.post("json")
        errors(r, 503, "json")
    finally:
        app.state.services = svc


def test_text_xml_cannot_carry_is_left_out_and_the_rest_kept() -> None:
    description = "bin\x00 by\x01 the\x1f stop\ufffe \ud800ok\ttab\nline & <b>"
    response = render(
        Format.XML, [{"description": description}], root="service_requests", item="request"
    )
    root = ET.fromstring(response.body)  # a parser refuses what is not well-formed
    assert root.findtext("request/description") == "bin by the stop ok\ttab\nline & <b>"
