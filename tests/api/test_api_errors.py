"""Errors say what happened: PostgreSQL down is a 503 with Retry-After on every
operation, bodies are capped before they are read, and body-parsing and routing errors
are problems with a code."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI

from api.limits import MULTIPART_OVERHEAD, SMALL_BODY_BYTES
from application.cases import CaseService
from application.config import ConfigError, Settings
from application.context import Services
from store.db import make_engine
from store.users import UserStore
from tests.api.conftest import PROBLEM, People, new_area, problem

NOWHERE = "postgresql+psycopg://postgres@/gridcase?host=/nonexistent"
DUMMY = {"photo_id": "sha256:" + "0" * 64, "fmt": "json"}


def operations(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for path, methods in app.openapi()["paths"].items():
        concrete = re.sub(r"\{(\w+)\}", lambda m: DUMMY.get(m.group(1), "x-1"), path)
        found.extend((method.upper(), concrete) for method in methods)
    return found


def without_postgres(svc: Services) -> Services:
    """The same services with every database handle on a socket where nothing listens."""
    nowhere = make_engine(NOWHERE, pool_size=1)
    cases = CaseService(nowhere, svc.cases.intakes, svc.cases.temporal)
    return replace(svc, engine=nowhere, users=UserStore(nowhere), cases=cases)


@pytest.fixture
def postgres_down(api_app: FastAPI) -> Iterator[None]:
    # Not monkeypatch: Starlette's State loses the attribute when monkeypatch restores it.
    svc: Services = api_app.state.services
    api_app.state.services = without_postgres(svc)
    yield
    api_app.state.services = svc


@pytest.mark.usefixtures("postgres_down")
async def test_postgres_down_is_503_with_retry_after_on_every_operation(
    http: httpx.AsyncClient, api_app: FastAPI
) -> None:
    seen = 0
    for method, path in operations(api_app):
        headers = {"Authorization": "Bearer gc_whatever"}
        if path.startswith("/open311/"):
            r = await http.request(
                method, path, data={"api_key": "gck_whatever"} if method == "POST" else None
            )
            assert r.status_code != 500, (method, path, r.text)
            if r.status_code < 500:
                continue  # answered from what the process holds (the taxonomy, discovery)
            assert r.status_code == 503, (method, path, r.text)
        else:
            r = await http.request(
                method, path, headers=headers, json={} if method == "POST" else None
            )
            problem(r, 503, "database_unavailable")
        assert r.headers["retry-after"] == "5", (method, path)
        seen += 1
    assert seen > 20


async def test_a_body_announced_too_large_is_refused_unread(
    http: httpx.AsyncClient, people: People
) -> None:
    worker = people.make("grid_worker", new_area().grid(0, 1))
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(4):
            sent += 1
            yield b" " * SMALL_BODY_BYTES

    headers = {
        **worker.headers,
        "content-type": "application/json",
        "content-length": str(4 * SMALL_BODY_BYTES),
    }
    r = await http.post("/v1/reports", content=chunks(), headers=headers)
    body = problem(r, 413, "body_too_large")
    assert body["limit"] == SMALL_BODY_BYTES
    assert sent == 0


async def test_a_chunked_body_over_the_limit_is_413(
    http: httpx.AsyncClient, people: People
) -> None:
    lead = people.make("shift_leader")

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"note": "'
        for _ in range(8):
            yield b"x" * 16 * 1024
        yield b'"}'

    r = await http.post(
        "/v1/cases/x-1/file",
        content=chunks(),
        headers={**lead.headers, "content-type": "application/json"},
    )
    problem(r, 413, "body_too_large")


async def test_photo_uploads_have_the_photo_limit(http: httpx.AsyncClient, people: People) -> None:
    worker = people.make("grid_worker", new_area().grid(0, 1))
    photo_max = Settings.from_env({}).photo_max_bytes
    headers = {
        **worker.headers,
        "content-type": "multipart/form-data; boundary=x",
        "content-length": str(photo_max + MULTIPART_OVERHEAD + 1),
    }
    r = await http.post("/v1/photos", content=b"", headers=headers)
    assert problem(r, 413, "photo_too_large")["limit"] == photo_max


async def test_malformed_bodies_are_problems_with_a_code(
    http: httpx.AsyncClient, people: People
) -> None:
    worker = people.make("grid_worker", new_area().grid(0, 1))
    no_boundary = {**worker.headers, "content-type": "multipart/form-data"}
    r = await http.post("/v1/photos", content=b"--x\r\n\r\n", headers=no_boundary)
    assert "boundary" in str(problem(r, 400, "invalid_body")["detail"]).lower()
    not_json = {**worker.headers, "content-type": "application/json"}
    r = await http.post("/v1/reports", content=b'{"report_id": ', headers=not_json)
    problem(r, 422, "validation_error")


async def test_unknown_paths_and_methods_are_problems_with_a_code(http: httpx.AsyncClient) -> None:
    r = await http.get("/v1/nothing-here")
    problem(r, 404, "not_found")
    r = await http.delete("/v1/reports")
    assert r.headers["content-type"].startswith(PROBLEM)
    problem(r, 405, "method_not_allowed")


def test_the_photo_limit_is_a_setting() -> None:
    assert Settings.from_env({"GRIDCASE_PHOTO_MAX_BYTES": "1000"}).photo_max_bytes == 1000
    for bad in ("0", "-1", "lots"):
        with pytest.raises(ConfigError, match="GRIDCASE_PHOTO_MAX_BYTES"):
            Settings.from_env({"GRIDCASE_PHOTO_MAX_BYTES": bad})
