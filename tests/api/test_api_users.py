"""Users, units and tokens (store and CLI); the app without Temporal; the OpenAPI document."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from api.app import create_app
from application.config import Settings
from domain.errors import WrongRole
from domain.roles import Role
from gridcase.cli import app as cli_app
from store.auth_models import ApiTokenRow
from store.users import UserError, UserStore, check_units
from tests.api.conftest import People, new_area, problem, report_body


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    ("role", "units", "message"),
    [
        ("mayor", [], "unknown role 'mayor'"),
        ("grid_worker", [], "at least one 15-digit"),
        ("grid_worker", ["410105001001"], "is a community code"),
        ("grid_worker", ["41010500100100x"], "6, 9, 12 or 15 ascii digits"),
        ("handler", ["sanitation", "municipal_roads"], "exactly one"),
        ("handler", ["bakery"], "unknown department 'bakery'"),
        ("supervisor", ["410105001001001"], "is a grid code"),
        ("leader", [], "at least one area"),
        ("dispatcher", ["410105001"], "6-digit district"),
    ],
)
def test_units_must_fit_the_role(role: str, units: list[str], message: str) -> None:
    departments = ["sanitation", "municipal_roads"]
    with pytest.raises(UserError, match=message):
        check_units(role, units, departments)


def test_tokens_are_stored_as_hashes_and_touched_once_a_minute(
    people: People, api_engine: Engine
) -> None:
    users = people.users
    user = users.create_user(uid("gw"), "Wang", "grid_worker", ["410105001001001"])
    issued = users.issue_token(user.id, "phone")
    assert issued.secret.startswith("gc_") and len(issued.secret) >= 3 + 43
    with api_engine.connect() as conn:
        row = conn.execute(select(ApiTokenRow).where(ApiTokenRow.id == issued.id)).one()
    assert row.token_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert issued.secret not in str(row._mapping.values())
    first = users.authenticate(issued.secret)
    assert first is not None and first.units == ("410105001001001",)
    touched = users.get_user(user.id).tokens[0].last_used_at
    assert touched is not None
    assert users.authenticate(issued.secret) == first
    assert users.get_user(user.id).tokens[0].last_used_at == touched  # not again within a minute
    assert users.authenticate(issued.secret[:-1]) is None
    with pytest.raises(UserError, match="already exists"):
        users.create_user(user.id, "Wang", "grid_worker", ["410105001001001"])


def test_principal_actor_mapping(people: People) -> None:
    users = people.users
    grids = ["410105001001002", "410105001001001"]
    worker = users.create_user(uid("gw"), "Li", "grid_worker", grids)
    assert worker.units == tuple(grids)  # binding order kept: the first is his default
    principal = users.authenticate(users.issue_token(worker.id).secret)
    assert principal is not None
    assert principal.actor().unit == grids[0]
    assert principal.actor(grid=grids[1]).unit == grids[1]  # acting in a grid he patrols
    assert principal.actor(grid="410105009009009").unit == grids[0]
    handler = users.create_user(uid("h"), "Zhao", "handler", ["sanitation"])
    acting = users.authenticate(users.issue_token(handler.id).secret)
    assert acting is not None and acting.actor(grid=grids[0]).unit == "sanitation"
    assert acting.actor().role is Role.HANDLER
    admin = users.create_user(uid("adm"), "Root", "admin", [])
    boss = users.authenticate(users.issue_token(admin.id).secret)
    assert boss is not None
    with pytest.raises(WrongRole):
        boss.actor()


def test_cli_users_tokens_and_clients(db_url: str, api_engine: Engine) -> None:
    runner = CliRunner()

    def cli(*args: str) -> Any:
        return runner.invoke(
            cli_app,
            ["users", *args],
            env={"DATABASE_URL": db_url, "GRIDCASE_LOG_FORMAT": "console"},
        )

    user_id = uid("cli-gw")
    added = cli("add", user_id, "--name", "Zhou", "--role", "grid_worker",
                "--unit", "410105001001001", "--unit", "410105001001002")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "410105001001001, 410105001001002" in added.stdout
    bad = cli("add", uid("x"), "--name", "X", "--role", "mayor")
    assert bad.exit_code == 2 and "unknown role 'mayor'" in bad.output
    bad = cli("add", uid("x"), "--name", "X", "--role", "grid_worker", "--unit", "4101")
    assert bad.exit_code == 2 and "15-digit grid" in bad.output

    issued = cli("token", "issue", user_id, "--name", "phone")
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip().splitlines()[-1]
    users = UserStore(api_engine)
    assert token.startswith("gc_") and users.authenticate(token) is not None
    token_id = users.get_user(user_id).tokens[0].id
    listed = cli("list")
    assert user_id in listed.stdout and token not in listed.stdout
    assert cli("token", "revoke", token_id).exit_code == 0
    assert users.authenticate(token) is None
    assert cli("token", "revoke", "tok_nope").exit_code == 2
    assert cli("deactivate", user_id).exit_code == 0
    assert cli("token", "issue", user_id).exit_code == 2  # deactivated

    name = uid("open311-app")
    client = cli("client", "add", name)
    assert client.exit_code == 0, client.output
    key = client.stdout.strip().splitlines()[-1]
    found = users.authenticate_client(key)
    assert found is not None and found.name == name
    assert users.authenticate(key) is None  # a client key is not a user token
    assert cli("client", "add", name).exit_code == 2


async def test_temporal_unreachable_is_503_and_reads_still_work(
    api_engine: Engine, people: People
) -> None:
    settings = dataclasses.replace(Settings.from_env(), temporal_address="127.0.0.1:9")
    app = create_app(settings, engine=api_engine)
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    acceptor = people.make("acceptor")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            body = report_body(area.grid(0, 1), report_id=uid("down"))
            r = await http.post("/v1/reports", json=body, headers=worker.headers)
            problem(r, 503, "temporal_unavailable")
            assert r.headers["retry-after"] == "5"
            r = await http.get("/v1/inbox/center?queue=to_file&limit=1", headers=acceptor.headers)
            assert r.status_code == 200, r.text


async def test_openapi_and_docs(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    assert {"/v1/reports", "/v1/tasks", "/v1/cases/{case_id}", "/v1/cases/overdue"} <= set(
        spec["paths"]
    )
    assert "/v1/cases/{case_id}/decide_extension" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    docs = await http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    # Swagger UI from our own static files, never a CDN (the page must work offline).
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/static/vendor/swagger-ui/") for a in assets), assets
    for asset in assets:
        r = await http.get(asset)
        assert r.status_code == 200 and len(r.content) > 500, asset
    r = await http.get("/v1/nowhere")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem")
