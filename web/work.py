"""The work queues: intake (受理立案), the dispatch board (派遣), the requests to decide
(审批) and a department's inbox (部门待办). Each queue is a read model of
``application.read_models.queues``, within the viewer's jurisdiction; each refreshes
itself when its cases change (``/work/rows/<queue>``). A row offers inline the steps of
its queue that the viewer may take now (``web.steps``: derived from the declarations);
every other step is on the case page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from application.context import services
from application.read_models import (
    CenterQueue,
    DepartmentQueue,
    Page,
    case_states,
    center_inbox,
    department_inbox,
)
from store.users import Principal
from web.auth import SignedIn, csrf_protect
from web.i18n import LANG_COOKIE, pick_lang
from web.names import Names
from web.nav import area
from web.pages import page
from web.steps import CaseChoices, forms_for, routing_suggestion

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

LIMIT = 50
Reader = Callable[[Request, Principal, int], Page]


def _center(queue: CenterQueue) -> Reader:
    def read(request: Request, who: Principal, offset: int) -> Page:
        return center_inbox(services(request).engine, who, queue, LIMIT, offset)

    return read


def _department(queue: DepartmentQueue) -> Reader:
    def read(request: Request, who: Principal, offset: int) -> Page:
        engine = services(request).engine
        return department_inbox(engine, who, "", queue, datetime.now(UTC), LIMIT, offset)

    return read


@dataclass(frozen=True)
class Queue:
    key: str  # also its title's message key
    read: Reader
    inline: frozenset[str] = frozenset()  # steps offered on the row
    columns: str = "center"  # which extra columns its table shows


QUEUES: dict[str, Queue] = {
    q.key: q
    for q in (
        Queue("to_file", _center(CenterQueue.TO_FILE)),
        Queue("to_close", _center(CenterQueue.TO_CLOSE), frozenset({"close"})),
        Queue("to_dispatch", _center(CenterQueue.TO_DISPATCH), frozenset({"dispatch"}), "dispatch"),
        Queue(
            "requests",
            _center(CenterQueue.REQUESTS),
            frozenset({"decide_extension", "decide_return", "decide_suspension"}),
            "requests",
        ),
        Queue("to_sign_for", _department(DepartmentQueue.TO_SIGN_FOR), frozenset({"sign_for"})),
        Queue("in_hand", _department(DepartmentQueue.IN_HAND), columns="department"),
    )
}
# Which queues each work area (web.nav) shows.
AREAS: dict[str, tuple[str, ...]] = {
    "intake": ("to_file", "to_close"),
    "dispatch": ("to_dispatch",),
    "requests": ("requests",),
    "department": ("to_sign_for", "in_hand"),
}


def rows_context(
    request: Request, who: Principal, queue: Queue, offset: int, back: str
) -> dict[str, Any]:
    """A page of ``queue`` for ``who``; ``back``: the page its forms return to."""
    svc = services(request)
    rows, total = queue.read(request, who, offset)
    names = Names(svc.intake, pick_lang(request.cookies.get(LANG_COOKIE)))
    states = case_states(svc.engine, who, [r["case_id"] for r in rows]) if queue.inline else {}
    forms: dict[str, list[Any]] = {}
    suggestions: dict[str, str] = {}
    for r in rows:
        if queue.columns == "dispatch":
            suggestions[r["case_id"]] = routing_suggestion(svc.intake, r["category"], r["grid"])
        state = states.get(r["case_id"])
        if state is not None:
            choices = CaseChoices(names, svc.intake, r["category"], r["grid"])
            forms[r["case_id"]] = forms_for(state, who, choices, only=queue.inline)
    return {
        "queue": queue,
        "rows": rows,
        "total": total,
        "offset": offset,
        "limit": LIMIT,
        "forms": forms,
        "suggestions": suggestions,
        "states": states,
        "now_utc": datetime.now(UTC),
        "back": back,
    }


def _area_page(key: str) -> Callable[..., HTMLResponse]:
    work = area(key)

    def show(request: Request, user: SignedIn) -> HTMLResponse:
        if user.role not in work.roles:
            raise HTTPException(404, "no such page")
        back = work.path or "/"
        sections = [
            rows_context(request, user, QUEUES[q], _offset(request, q), back) for q in AREAS[key]
        ]
        context = {"area": work, "sections": sections, "live": True}
        return page(request, "work.html", context)

    return show


def _offset(request: Request, queue: str) -> int:
    raw = request.query_params.get(f"{queue}_offset", "0")
    return max(0, int(raw)) if raw.isdigit() else 0


for _key in AREAS:
    router.add_api_route(
        area(_key).path or f"/{_key}",
        _area_page(_key),
        methods=["GET"],
        response_class=HTMLResponse,
        name=f"work_{_key}",
    )


@router.get("/work/rows/{queue}", response_class=HTMLResponse)
def queue_rows(
    request: Request,
    user: SignedIn,
    queue: str,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    found = QUEUES.get(queue)
    mine = [
        area(k) for k, queues in AREAS.items() if queue in queues and user.role in area(k).roles
    ]
    if found is None or not mine:
        raise HTTPException(404, "no such list")
    context = rows_context(request, user, found, offset, mine[0].path or "/")
    return page(request, "work_rows.html", {"s": context})
