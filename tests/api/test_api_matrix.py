"""Authorization matrix: every operation of /openapi.json × every role × a case (or photo)
inside and outside the caller's jurisdiction, against the table below.

A cell is ``inside/outside``:
  A  allowed: 2xx, or 409/422 (the domain's stage or content rules, past every gate)
  F  403: the role may not do this
  N  404: outside the caller's jurisdiction, answered as if it did not exist
  U  401: no credentials
Inside: the role's own case, in grid A.grid(0, 1) of street A and with department
``landscaping`` (so every jurisdiction-bound role sees it); outside: one in street B with
``street_lighting``. Operations without a case (lists, reports, uploads) use the same two
columns for "in my area" and "elsewhere" where that means something, and repeat the cell
where it does not. A new operation without a row fails ``test_matrix_covers_openapi``.

Besides the status, every answer is searched for what must not be in it: for a caller with
a limited jurisdiction, nothing of a case outside it (its description, reporter, or id
other than the one he asked for); for a caller who may not see personal data, no
reporter's id.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.api.conftest import Area, People, User, new_area, report_body
from tests.api.test_api_main_line import step
from tests.api.test_api_photos import photo_dir, png, uploaded  # noqa: F401 (a fixture)

ROLES = (
    "grid_worker",
    "acceptor",
    "shift_leader",
    "dispatcher",
    "handler",
    "supervisor",
    "leader",
    "admin",
    "anonymous",
)
LIMITED = frozenset({"grid_worker", "handler", "supervisor", "leader", "anonymous"})
NO_PERSONAL_DATA = frozenset({"grid_worker", "handler", "anonymous"})
DEPARTMENT, OTHER_DEPARTMENT = "landscaping", "street_lighting"

# fmt: off
MATRIX: dict[tuple[str, str], str] = {
    #                                                   gw  acc  sl  dsp  hdl  sup  ldr  adm  anon
    ("GET", "/v1/cases/{case_id}"):                    "A/N A/A A/A A/A A/N A/N A/N A/A U/U",
    ("GET", "/v1/cases/overdue"):                      "F/F A/A A/A A/A F/F A/A A/A A/A U/U",
    ("GET", "/v1/cases/overdue/counts"):               "F/F A/A A/A A/A F/F A/A A/A A/A U/U",
    ("GET", "/v1/tasks"):                              "A/A F/F F/F F/F F/F F/F F/F F/F U/U",
    ("GET", "/v1/inbox/center"):                       "F/F A/A A/A A/A F/F F/F A/A A/A U/U",
    ("GET", "/v1/inbox/department"):                   "F/F F/F F/F F/F A/A F/F F/F A/A U/U",
    ("GET", "/v1/kpi"):                                "F/F A/A A/A A/A F/F A/A A/A A/A U/U",
    ("GET", "/v1/kpi/ranking"):                        "F/F A/A A/A A/A F/F A/A A/A A/A U/U",
    ("POST", "/v1/reports"):                           "A/F A/A F/F F/F F/F F/F F/F F/F U/U",
    ("POST", "/v1/photos"):                            "A/A A/A A/A A/A A/A A/A A/A F/F U/U",
    ("GET", "/v1/photos/{photo_id}"):                  "A/N A/A A/A A/A A/N A/N A/N A/A U/U",
    ("POST", "/v1/cases/{case_id}/verification"):      "A/N F/F F/F F/F F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/record_verification"): "A/N F/F F/F F/F F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/check"):             "A/N F/F F/F F/F F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/file"):              "F/N A/A A/A F/F F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/reject"):            "F/N A/A A/A F/F F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/request_verification"): "F/N A/A A/A F/F F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/review_self_handling"): "F/N A/A A/A F/F F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/merge"):             "F/N A/A A/A F/F F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/cancel"):            "F/N F/F A/A F/F F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/close"):             "F/N F/F A/A F/F F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/dispatch"):          "F/N F/F F/F A/A F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/decide_extension"):  "F/N F/F A/A A/A F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/decide_return"):     "F/N F/F A/A A/A F/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/decide_suspension"): "F/N F/F F/F A/A F/N F/N A/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/resume"):            "F/N F/F F/F A/A F/N F/N A/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/sign_for"):          "F/N F/F F/F F/F A/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/feedback"):          "F/N F/F F/F F/F A/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/request_extension"): "F/N F/F F/F F/F A/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/request_return"):    "F/N F/F F/F F/F A/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/request_suspension"): "F/N F/F F/F F/F A/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/reply_supervision"): "F/N F/F F/F F/F A/N F/N F/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/urge"):              "F/N F/F F/F F/F F/N A/N A/N F/F U/U",
    ("POST", "/v1/cases/{case_id}/supervise"):         "F/N F/F F/F F/F F/N A/N A/N F/F U/U",
    # Open311 (GeoReport v2) is the public, citizens' face: its reads need no token and
    # show no one's identity; creating needs an Open311 client's api_key, not a token.
    ("GET", "/open311/v2/discovery.{fmt}"):            "A/A A/A A/A A/A A/A A/A A/A A/A A/A",
    ("GET", "/open311/v2/services.{fmt}"):             "A/A A/A A/A A/A A/A A/A A/A A/A A/A",
    ("GET", "/open311/v2/services/{service_code}.{fmt}"): "A/A A/A A/A A/A A/A A/A A/A A/A A/A",
    ("GET", "/open311/v2/requests.{fmt}"):             "A/A A/A A/A A/A A/A A/A A/A A/A A/A",
    # Only what the public brought in (Open311, the hotline) is public: a grid worker's
    # case is not there for anyone, a token or a staff member's credentials included.
    ("GET", "/open311/v2/requests/{service_request_id}.{fmt}"): "N/N N/N N/N N/N N/N N/N N/N N/N N/N",  # noqa: E501
    ("GET", "/open311/v2/tokens/{token}.{fmt}"):       "N/N N/N N/N N/N N/N N/N N/N N/N N/N",
    ("POST", "/open311/v2/requests.{fmt}"):            "F/F F/F F/F F/F F/F F/F F/F F/F F/F",
}
# fmt: on
PUBLIC_PREFIX = "/open311/"
EXPECTED = {"A": (200, 201, 409, 422), "F": (403,), "N": (404,), "U": (401,)}

STEP_BODIES: dict[str, Callable[[World, str], object]] = {
    "verification": lambda w, r: {"confirmed": True},
    "record_verification": lambda w, r: {"confirmed": True},
    "check": lambda w, r: {"passed": True},
    "file": lambda w, r: {},
    "reject": lambda w, r: {"reason": "not a case"},
    "request_verification": lambda w, r: {"assignee": w.users["grid_worker"].id},
    "review_self_handling": lambda w, r: {"approve": True},
    "merge": lambda w, r: {"into": w.cases[r][1]},
    "cancel": lambda w, r: {"reason": "erroneous"},
    "close": lambda w, r: None,
    "dispatch": lambda w, r: {"department": DEPARTMENT},
    # Decisions deny: an approved return would take the case from the department.
    "decide_extension": lambda w, r: {"approve": False, "note": "no"},
    "decide_return": lambda w, r: {"approve": False, "note": "no"},
    "decide_suspension": lambda w, r: {"approve": False, "note": "no"},
    "resume": lambda w, r: None,
    "sign_for": lambda w, r: None,
    "feedback": lambda w, r: {"result": "done"},
    "request_extension": lambda w, r: {"reason": "parts", "amount": "1 working_days"},
    "request_return": lambda w, r: {"reason": "not ours"},
    "request_suspension": lambda w, r: {"reason": "winter"},
    "reply_supervision": lambda w, r: {"reply": "on it"},
    "urge": lambda w, r: {"message": "hurry"},
    "supervise": lambda w, r: {"message": "hurry"},
}


@dataclass
class World:
    inside: Area
    outside: Area
    users: dict[str, User]
    reporters: tuple[User, User]  # inside, outside: grid workers nobody else is
    cases: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (in, out)
    photos: dict[str, tuple[str, str]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)  # case id -> its text


def cells(row: str) -> dict[str, tuple[str, str]]:
    found = row.split()
    assert len(found) == len(ROLES), row
    return {role: (cell[0], cell[2]) for role, cell in zip(ROLES, found, strict=True)}


def operations(openapi: dict[str, Any]) -> set[tuple[str, str]]:
    return {(m.upper(), p) for p, ops in openapi["paths"].items() for m in ops}


async def test_matrix_covers_openapi(http: httpx.AsyncClient) -> None:
    documented = operations((await http.get("/openapi.json")).json())
    missing = sorted(documented - set(MATRIX))
    stale = sorted(set(MATRIX) - documented)
    assert not missing, f"operations without a row in MATRIX: {missing}"
    assert not stale, f"rows for operations the API does not have: {stale}"
    for row in MATRIX.values():
        for inside, outside in cells(row).values():
            assert inside in EXPECTED and outside in EXPECTED, row


async def _world(http: httpx.AsyncClient, people: People) -> World:
    inside, outside = new_area(), new_area()
    grid_in, grid_out = inside.grid(0, 1), outside.grid(0, 1)
    units = {
        "grid_worker": (grid_in,),
        "handler": (DEPARTMENT,),
        "supervisor": (inside.street,),
        "leader": (inside.street,),
    }
    users = {r: people.make(r, *units.get(r, ())) for r in ROLES if r != "anonymous"}
    reporters = (people.make("grid_worker", grid_in), people.make("grid_worker", grid_out))
    world = World(inside, outside, users, reporters)
    leader, dispatcher = people.make("shift_leader"), people.make("dispatcher")

    async def case(reporter: User, grid: str, department: str) -> tuple[str, str]:
        photo = await uploaded(http, reporter)
        case_id = f"mx-{uuid.uuid4().hex[:10]}"
        text = f"pothole {uuid.uuid4().hex}"
        body = report_body(grid, report_id=case_id, description=text, photos=[photo])
        r = await http.post("/v1/reports", json=body, headers=reporter.headers)
        assert r.status_code == 201, r.text
        await step(http, leader, case_id, "file")
        await step(http, dispatcher, case_id, "dispatch", {"department": department})
        world.descriptions[case_id] = text
        return case_id, photo

    made = await asyncio.gather(
        *(case(reporters[0], grid_in, DEPARTMENT) for _ in ROLES),
        *(case(reporters[1], grid_out, OTHER_DEPARTMENT) for _ in ROLES),
    )
    for n, role in enumerate(ROLES):
        (in_case, in_photo), (out_case, out_photo) = made[n], made[n + len(ROLES)]
        world.cases[role], world.photos[role] = (in_case, out_case), (in_photo, out_photo)
    return world


def _request(world: World, role: str, method: str, path: str, side: int) -> dict[str, Any]:
    """The request for one cell: the path filled in, a body that passes validation."""
    case_id, photo = world.cases[role][side], world.photos[role][side]
    url = (
        path.replace("{case_id}", case_id)
        .replace("{photo_id}", photo)
        .replace("{service_request_id}", case_id)
        .replace("{token}", case_id)
        .replace("{service_code}", "E0101")
        .replace("{fmt}", "json")
    )
    user = world.users.get(role)
    request: dict[str, Any] = {
        "method": method,
        "url": url,
        "headers": user.headers if user else {},
        "params": {},
    }
    grid = (world.inside, world.outside)[side].grid(0, 1)
    if path.startswith("/v1/cases/{case_id}/"):
        body = STEP_BODIES[path.rsplit("/", 1)[1]](world, role)
        if body is not None:
            request["json"] = body
    elif path == "/v1/reports":
        request["json"] = report_body(grid, report_id=f"mxr-{uuid.uuid4().hex[:10]}")
    elif path == "/v1/photos":
        request["files"] = {"file": ("p.png", png(), "image/png")}
    elif path == "/open311/v2/requests.{fmt}" and method == "POST":
        request["data"] = {"service_code": "E0101", "lat": "34.78", "long": "113.68"}
    elif path == "/v1/inbox/center":
        request["params"] = {"queue": "to_dispatch"}
    elif path == "/v1/cases/overdue/counts":
        request["params"] = {"group_by": "department"}
    elif path.startswith("/v1/kpi"):
        request["params"] = {"period": "day"}
    return request


def _leaks(world: World, role: str, url: str, body: str, public: bool) -> list[str]:
    found = []
    if role in LIMITED and not public:
        for other in (w for w in ROLES if w != "anonymous"):
            outside = world.cases[other][1]
            if world.descriptions[outside] in body:
                found.append(f"the description of {outside}")
            if outside in body and outside not in url:
                found.append(f"the case id {outside}")
        if world.reporters[1].id in body:
            found.append("the outside reporter's id")
    if role in NO_PERSONAL_DATA:
        found += [f"reporter id {r.id}" for r in world.reporters if r.id in body]
    return found


@pytest.mark.usefixtures("photo_dir")
async def test_authorization_matrix(http: httpx.AsyncClient, people: People) -> None:
    world = await _world(http, people)
    failures: list[str] = []

    async def run(role: str) -> int:
        cells_of_role = [
            (method, path, side, cells(row)[role][side])
            for (method, path), row in MATRIX.items()
            for side in (0, 1)
        ]
        # Refusals first: an allowed step may move or end the role's case, which must not
        # turn a later refusal (403 by role) into a stage conflict (409).
        cells_of_role.sort(key=lambda c: c[3] == "A")
        for method, path, side, code in cells_of_role:
            request = _request(world, role, method, path, side)
            r = await http.request(**request)
            where = f"{role} {method} {path} {'inside' if side == 0 else 'outside'}"
            if r.status_code not in EXPECTED[code]:
                failures.append(f"{where}: expected {code}, got {r.status_code} {r.text[:200]}")
            for leak in _leaks(world, role, request["url"], r.text, path.startswith(PUBLIC_PREFIX)):
                failures.append(f"{where}: leaks {leak}")
        return len(cells_of_role)

    counted = await asyncio.gather(*(run(role) for role in ROLES))
    assert sum(counted) == len(MATRIX) * len(ROLES) * 2
    assert not failures, "\n".join(failures)
