"""Rate limits on an app of their own (the session's app runs without): per bearer token,
per Open311 api_key (query or form), per address for Open311 reads without a key; 429
with Retry-After in each side's error format, and other callers unaffected."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from api.ratelimit import HOLD
from application.config import RateLimit, Settings
from tests.api.conftest import People, new_area, problem

TIGHT = RateLimit(per_second=0.2, burst=3)  # three at once, then one per five seconds


@pytest.fixture(scope="module")
async def limited(
    client: Client, api_engine: Engine, workers: None
) -> AsyncIterator[httpx.AsyncClient]:
    settings = replace(
        Settings.from_env(), rate_user=TIGHT, rate_client=TIGHT, rate_anonymous=TIGHT
    )
    app = create_app(settings, temporal_client=client, engine=api_engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            yield http


async def test_one_user_is_slowed_and_another_is_not(
    limited: httpx.AsyncClient, people: People
) -> None:
    area = new_area()
    flooder = people.make("grid_worker", area.grid(0, 1))
    other = people.make("grid_worker", area.grid(0, 2))
    answers = [(await limited.get("/v1/tasks", headers=flooder.headers)) for _ in range(5)]
    assert [r.status_code for r in answers[:3]] == [200, 200, 200]
    body = problem(answers[3], 429, "rate_limited")
    assert "try again in" in str(body["detail"])
    assert 1 <= int(answers[3].headers["retry-after"]) <= 5
    assert (await limited.get("/v1/tasks", headers=other.headers)).status_code == 200
    # A refusal is held (up to a second) before it is sent: a looping client slows down.
    began = time.monotonic()
    problem(await limited.get("/v1/tasks", headers=flooder.headers), 429, "rate_limited")
    assert time.monotonic() - began >= HOLD * 0.9


async def test_an_unknown_token_is_limited_too(limited: httpx.AsyncClient) -> None:
    headers = {"Authorization": "Bearer gc_made-up"}
    found = [(await limited.get("/v1/tasks", headers=headers)).status_code for _ in range(4)]
    assert found == [401, 401, 401, 429]


async def test_an_open311_key_in_the_form_is_limited_in_the_spec_format(
    limited: httpx.AsyncClient,
) -> None:
    form = {"api_key": "gck_flooding", "service_code": "E0101", "lat": "1", "long": "1"}
    found = [await limited.post("/open311/v2/requests.xml", data=form) for _ in range(4)]
    assert [r.status_code for r in found] == [403, 403, 403, 429]
    root = ET.fromstring(found[3].content)
    assert root.tag == "errors" and root.findtext("error/code") == "429"
    assert "API key" in (root.findtext("error/description") or "")
    assert found[3].headers["retry-after"]
    other = {**form, "api_key": "gck_someone-else"}
    assert (await limited.post("/open311/v2/requests.json", data=other)).status_code == 403


async def test_open311_reads_are_limited_per_key_and_per_address(
    limited: httpx.AsyncClient,
) -> None:
    url = "/open311/v2/services.json"
    keyed = [
        (await limited.get(url, params={"api_key": "gck_reader"})).status_code for _ in range(4)
    ]
    assert keyed == [200, 200, 200, 429]
    anonymous = [(await limited.get(url)).status_code for _ in range(4)]
    assert anonymous == [200, 200, 200, 429]
    r = await limited.get(url)
    assert r.json() == [{"code": 429, "description": r.json()[0]["description"]}]
    # Probes and the API's own documents carry no credentials and are never limited.
    for _ in range(5):
        assert (await limited.get("/healthz")).status_code == 200
