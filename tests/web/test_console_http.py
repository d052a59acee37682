"""The console over HTTP without a browser: each page admits its roles only (404 for any
other, as the API answers outside one's jurisdiction), a step without the CSRF token is
refused, a step form sent twice is one step, the map's data keeps to jurisdiction, and a
basemap setting widens the CSP."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from sqlalchemy import Engine, text

from application.config import ConfigError, Settings
from store.users import UserStore
from tests.web.conftest import MakeUser
from tests.web.console_helpers import grid_point, png
from tests.web.test_web_http import hidden_csrf, sign_in
from web.nav import WORK_AREAS
from web.pages import content_policy

PAGES = {
    "/intake": {"acceptor", "shift_leader"},
    "/dispatch": {"dispatcher"},
    "/requests": {"dispatcher", "shift_leader", "leader"},
    "/department": {"handler"},
    "/overdue": {"acceptor", "shift_leader", "dispatcher", "supervisor", "leader", "admin"},
    "/overdue.csv": {"acceptor", "shift_leader", "dispatcher", "supervisor", "leader", "admin"},
    "/evaluation": {"acceptor", "shift_leader", "dispatcher", "supervisor", "leader", "admin"},
    "/map": {
        "grid_worker",
        "acceptor",
        "shift_leader",
        "dispatcher",
        "handler",
        "supervisor",
        "leader",
    },
    "/map/data.json": {
        "grid_worker",
        "acceptor",
        "shift_leader",
        "dispatcher",
        "handler",
        "supervisor",
        "leader",
    },
    "/screen": {"acceptor", "shift_leader", "dispatcher", "leader", "admin"},
    "/screen/data.json": {"acceptor", "shift_leader", "dispatcher", "leader", "admin"},
}
UNITS = {
    "grid_worker": ("410105001001001",),
    "handler": ("sanitation",),
    "supervisor": ("410105001",),
    "leader": ("410105",),
}


def test_the_navigation_names_every_page() -> None:
    paths = {a.path for a in WORK_AREAS if a.path}
    assert {p for p in PAGES if "." not in p} <= paths
    for area in WORK_AREAS:
        if area.path in PAGES:
            assert area.roles == PAGES[area.path], area.key


@pytest.mark.parametrize(
    "role",
    [
        "grid_worker",
        "acceptor",
        "shift_leader",
        "dispatcher",
        "handler",
        "supervisor",
        "leader",
        "admin",
    ],
)
async def test_each_page_admits_its_roles_only(
    role: str, web_client: httpx.AsyncClient, web_users: MakeUser
) -> None:
    user = web_users(role, *UNITS.get(role, ()))
    assert (await sign_in(web_client, user)).status_code == 303
    for path, roles in PAGES.items():
        r = await web_client.get(path)
        assert r.status_code == (200 if role in roles else 404), (role, path, r.status_code)


async def test_a_step_without_the_csrf_token_is_refused(
    web_client: httpx.AsyncClient, web_users: MakeUser
) -> None:
    user = web_users("shift_leader")
    await sign_in(web_client, user)
    refused = await web_client.post("/cases/any/steps/file", data={"note": "x"})
    assert refused.status_code == 403
    token = hidden_csrf((await web_client.get("/")).text)
    missing = await web_client.post("/cases/no-such-case/steps/file", data={"csrf_token": token})
    assert missing.status_code == 404  # a case one may not see does not exist
    unknown = await web_client.post("/cases/x/steps/fly", data={"csrf_token": token})
    assert unknown.status_code == 404


async def test_the_map_data_keeps_to_jurisdiction(
    web_client: httpx.AsyncClient, web_users: MakeUser
) -> None:
    roads = web_users("handler", "municipal_roads")
    await sign_in(web_client, roads)
    data = (await web_client.get("/map/data.json")).json()
    assert set(data) == {"grids", "markers", "total", "at"}
    # Whatever the web tests reported so far, none of it went to municipal roads.
    assert data["markers"] == [] and data["total"] == 0


def test_a_basemap_widens_the_image_policy_only() -> None:
    tiles = "https://t0.tianditu.gov.cn/vec_w/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=k"
    assert Settings.from_env({"GRIDCASE_MAP_TILES": tiles}).map_tiles == tiles
    policy = content_policy(tiles)
    assert "img-src 'self' data: blob: https://t0.tianditu.gov.cn;" in policy
    assert "connect-src 'self';" in policy and "script-src 'self';" in policy
    with pytest.raises(ConfigError, match="GRIDCASE_MAP_TILES"):
        Settings.from_env({"GRIDCASE_MAP_TILES": "http://tiles.example/{z}/{x}/{y}.png"})


async def test_the_case_page_says_what_each_photo_shows(
    web_client: httpx.AsyncClient, web_users: MakeUser, web_engine: Engine
) -> None:
    """A grid worker's 近景/远景 (near/far) photos, as his phone uploads them, are named so
    on the console's case page."""
    grid, lon, lat = grid_point(3)
    worker = web_users("grid_worker", grid)
    token = UserStore(web_engine).issue_token(worker.id, "test").secret
    bearer = {"Authorization": f"Bearer {token}"}
    ids = {}
    for kind in ("near", "far"):
        r = await web_client.post(
            "/v1/photos",
            files={"file": (f"{kind}.png", png(40, 30), "image/png")},
            data={"kind": kind},
            headers=bearer,
        )
        assert r.status_code == 201, r.text
        ids[kind] = r.json()["photo"]
    case_id = f"web-{uuid.uuid4().hex[:10]}"
    r = await web_client.post(
        "/v1/reports",
        headers=bearer,
        json={
            "report_id": case_id,
            "category": "E0101",
            "description": "垃圾暴露",
            "location": {"lon": lon, "lat": lat},
            "photos": [ids["near"], ids["far"]],
        },
    )
    assert r.status_code == 201, r.text
    leader = web_users("shift_leader")
    assert (await sign_in(web_client, leader)).status_code == 303
    page = (await web_client.get(f"/cases/{case_id}")).text
    assert '<span class="photo-kind">近景</span>' in page
    assert '<span class="photo-kind">远景</span>' in page


async def test_a_step_form_sent_twice_is_one_step(
    web_client: httpx.AsyncClient, web_users: MakeUser, web_engine: Engine
) -> None:
    grid, lon, lat = grid_point(3)
    worker = web_users("grid_worker", grid)
    token = UserStore(web_engine).issue_token(worker.id, "test").secret
    case_id = f"web-{uuid.uuid4().hex[:10]}"
    reported = await web_client.post(
        "/v1/reports",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "report_id": case_id,
            "category": "E0101",
            "description": "sent twice",
            "location": {"lon": lon, "lat": lat},
        },
    )
    assert reported.status_code == 201, reported.text
    leader = web_users("leader", "410105")
    await sign_in(web_client, leader)
    page = (await web_client.get(f"/cases/{case_id}")).text
    form = re.search(r'<form [^>]*data-step="urge">(.*?)</form>', page, re.S)
    assert form, "no urge form on the case page"
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.group(1))
    assert key, "the step form carries no idempotency key"
    sent = {"csrf_token": hidden_csrf(page), "idempotency_key": key.group(1), "message": "now"}
    for _ in range(2):  # a double click, or a resend after a lost answer
        done = await web_client.post(f"/cases/{case_id}/steps/urge", data=sent)
        assert done.status_code == 303, done.text
    with web_engine.connect() as conn:
        urged = conn.execute(
            text("SELECT count(*) FROM events WHERE case_id = :c AND type = 'CaseUrged'"),
            {"c": case_id},
        ).scalar_one()
    assert urged == 1
    again = (await web_client.get(f"/cases/{case_id}")).text
    assert key.group(1) not in again  # the next rendering is a new step
