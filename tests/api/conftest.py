"""The API in-process on the real stack: the session's PostgreSQL, Temporal dev server and
workers; httpx talks to the ASGI app directly. Every test area (a street of the demo
district code 410105 nobody else uses) and every user id is fresh, so tests sharing the
session database do not see each other's cases through jurisdiction."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from application.config import Settings
from store.db import make_engine
from store.users import UserStore
from tests.conftest import ROLES, as_role

DISTRICT = "410105"
_used_streets: set[str] = set()


@dataclass(frozen=True)
class Area:
    """A street with two communities of two grids each."""

    street: str

    @property
    def communities(self) -> tuple[str, str]:
        return (f"{self.street}001", f"{self.street}002")

    def grid(self, community: int, n: int) -> str:
        return f"{self.communities[community]}{n:03d}"


@dataclass(frozen=True)
class User:
    id: str
    role: str
    token: str
    token_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


# Streets of the test areas: the other tests use 001; an org code's street part is at most
# 399 (domain.org), which also keeps the Open311 tests' squares (test_open311.py::_corner,
# 0.1° of longitude east of 100° per street) on the globe. (050-099 alone ran out once
# the suite passed fifty areas, and the draw below then looped for ever.)
STREETS = range(50, 400)


def new_area() -> Area:
    free = [n for n in STREETS if f"{DISTRICT}{n:03d}" not in _used_streets]
    if not free:
        raise RuntimeError(f"all {len(STREETS)} test streets are used: widen STREETS")
    street = f"{DISTRICT}{random.choice(free):03d}"
    _used_streets.add(street)
    return Area(street)


class People:
    """Makes users with tokens, ids unique to this run."""

    def __init__(self, users: UserStore) -> None:
        self.users = users

    def make(self, role: str, *units: str, name: str = "") -> User:
        user_id = f"{role.replace('_', '')}-{uuid.uuid4().hex[:8]}"
        self.users.create_user(user_id, name or user_id, role, list(units))
        issued = self.users.issue_token(user_id, "test")
        return User(user_id, role, issued.secret, issued.id)


@pytest.fixture(scope="session")
def api_engine(db_url: str) -> Iterator[Engine]:
    """The owner's engine: what the tests set up (users, tokens) and check directly."""
    engine = make_engine(db_url, pool_size=5)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def people(api_engine: Engine) -> People:
    return People(UserStore(api_engine))


@pytest.fixture(scope="session")
def api_role_engine(db_url: str) -> Iterator[Engine]:
    """The API's own connections: as its database role, as `gridcase up` and deploy/ run it
    (what the API may touch is store/access.py's GRANTS["api"])."""
    engine = make_engine(as_role(db_url, ROLES.api), pool_size=5)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
async def api_app(client: Client, api_role_engine: Engine, workers: None) -> AsyncIterator[FastAPI]:
    app = create_app(Settings.from_env(), temporal_client=client, engine=api_role_engine)
    # httpx's ASGITransport sends no lifespan events; run the lifespan around the session.
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def http(api_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=api_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
        yield c


async def all_items(
    http: httpx.AsyncClient, url: str, user: User, **params: str
) -> list[dict[str, object]]:
    """Every item of a paged list (the shared session database holds other tests' cases)."""
    items: list[dict[str, object]] = []
    offset = 0
    while True:
        r = await http.get(
            url, headers=user.headers, params={**params, "limit": "500", "offset": str(offset)}
        )
        assert r.status_code == 200, r.text
        page = r.json()
        items.extend(page["items"])
        offset += page["limit"]
        if offset >= page["total"]:
            return items


PROBLEM = "application/problem+json"


def report_body(grid: str, **fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "category": "E0101",
        "description": "exposed garbage next to the bus stop",
        "grid": grid,
        "location": {"lon": 113.68, "lat": 34.78, "address": "Wenhua Rd 1"},
    }
    body.update(fields)
    return body


def problem(r: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["code"] == code, body
    assert {"type", "title", "detail", "instance"} <= set(body)
    return body
