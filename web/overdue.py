"""The overdue board (超期督办) for supervisors, leaders and the centers: the overdue list
of ``application.read_models.overdue`` (the one behind the API and the CLI) with its
filters (street, community, grid, department, category, stage, light, and cases on
yellow), its sorting, its counts, a CSV of the same selection, and 催办/督办 on each row
from the step declarations. The rows refresh themselves as cases change, and as a
deadline passes (the clock's overdue mark is an event like any other).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from application.authz import MAY, Use
from application.context import services
from application.csv_text import csv_text
from application.read_models import (
    GroupBy,
    LateFilters,
    LateOrder,
    case_states,
    late_cases,
    late_counts,
)
from store.users import Principal
from web.auth import csrf_protect, page_for
from web.i18n import LANG_COOKIE, local_time, pick_lang, translator
from web.names import Names
from web.pages import page
from web.steps import CaseChoices, forms_for

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Overseer = Depends(page_for(*MAY[Use.OVERDUE]))

LIMIT = 50
EXPORT_MAX = 10_000
FILTERS = ("street", "community", "grid", "department", "category", "stage", "light")
ORDERS: dict[LateOrder, str] = {
    LateOrder.LATE: "order_late",
    LateOrder.REPORTED: "order_reported",
    LateOrder.DEPARTMENT: "department",
    LateOrder.STREET: "street",
    LateOrder.COMMUNITY: "community",
    LateOrder.GRID: "grid",
    LateOrder.CATEGORY: "category",
    LateOrder.STAGE: "stage",
}
INLINE = frozenset({"urge", "supervise"})
OPEN_STAGES = ("verify", "review", "dispatch", "sign_for", "handle", "check", "close")


def _filters(request: Request) -> tuple[LateFilters, LateOrder, dict[str, str]]:
    q = request.query_params
    chosen = {k: q.get(k, "").strip()[:40] for k in FILTERS}
    at_risk = q.get("at_risk") == "1"
    try:
        order = LateOrder(q.get("order", "late"))
    except ValueError:
        order = LateOrder.LATE
    query = {k: v for k, v in chosen.items() if v}
    if at_risk:
        query["at_risk"] = "1"
    if order is not LateOrder.LATE:
        query["order"] = order.value
    filters = LateFilters(
        street=chosen["street"],
        community=chosen["community"],
        grid=chosen["grid"],
        department=chosen["department"],
        category=chosen["category"],
        stage=chosen["stage"],
        light=chosen["light"],
        at_risk=at_risk,
    )
    return filters, order, query


def _offset(request: Request) -> int:
    raw = request.query_params.get("offset", "0")
    return max(0, int(raw)) if raw.isdigit() else 0


def board(request: Request, who: Principal) -> dict[str, Any]:
    svc = services(request)
    filters, order, query = _filters(request)
    now = datetime.now(UTC)
    offset = _offset(request)
    rows, total = late_cases(svc.engine, who, filters, now, LIMIT, offset, order)
    names = Names(svc.intake, pick_lang(request.cookies.get(LANG_COOKIE)))
    states = case_states(svc.engine, who, [r["case_id"] for r in rows])
    back = "/overdue" + (f"?{urlencode(query)}" if query else "")
    forms = {
        case_id: forms_for(state, who, CaseChoices(names, svc.intake), only=INLINE)
        for case_id, state in states.items()
    }
    return {
        "rows": rows,
        "total": total,
        "offset": offset,
        "limit": LIMIT,
        "chosen": {k: getattr(filters, k) for k in FILTERS},
        "at_risk": filters.at_risk,
        "order": order.value,
        "orders": [(o.value, key) for o, key in ORDERS.items()],
        "query": urlencode(query),
        "back": back,
        "forms": forms,
        "now_utc": now,
        "stage_choices": [(s, names.stage(s)) for s in OPEN_STAGES],
        "light_choices": [(light, names.light(light)) for light in ("green", "yellow", "red")],
        "live": True,
    }


@router.get("/overdue", response_class=HTMLResponse)
def overdue_page(request: Request, user: Principal = Overseer) -> HTMLResponse:
    return page(request, "overdue.html", board(request, user))


@router.get("/overdue/rows", response_class=HTMLResponse)
def overdue_rows(request: Request, user: Principal = Overseer) -> HTMLResponse:
    return page(request, "overdue_rows.html", board(request, user))


@router.get("/overdue/counts", response_class=HTMLResponse)
def overdue_counts(request: Request, user: Principal = Overseer) -> HTMLResponse:
    """How many of the selection each department holds (a part the board fetches apart:
    it counts the whole selection)."""
    filters, _, query = _filters(request)
    now = datetime.now(UTC)
    counts, _ = late_counts(services(request).engine, user, filters, GroupBy.DEPARTMENT, now, 12, 0)
    return page(request, "overdue_counts.html", {"counts": counts, "query": urlencode(query)})


@router.get("/overdue.csv")
def overdue_csv(request: Request, user: Principal = Overseer) -> Response:
    """The board's selection as a spreadsheet: every row (up to 10,000), with codes and
    names, times in the display zone with their offset."""
    svc = services(request)
    filters, order, _ = _filters(request)
    now = datetime.now(UTC)
    rows, total = late_cases(svc.engine, user, filters, now, EXPORT_MAX, 0, order)
    lang = pick_lang(request.cookies.get(LANG_COOKIE))
    names, t = Names(svc.intake, lang), translator(lang)
    zone = svc.settings.display_zone

    def when(value: datetime | None) -> str:
        return local_time(value, zone) if value is not None else ""

    records = [
        {
            "case_id": r["case_id"],
            "late_by_minutes": round(r["late_by_seconds"] / 60),
            "stage": names.stage(r["stage"]),
            "light": names.light(r["light"]),
            "stage_due_at": when(r["stage_due_at"]),
            "department": r["department"],
            "department_name": names.department(r["department"]) if r["department"] else "",
            "category": r["category"],
            "category_name": names.category(r["category"]),
            "street": names.unit(r["street"]) or r["street"],
            "community": names.unit(r["community"]) or r["community"],
            "grid": r["grid"],
            "source": names.source(r["source"]),
            "reported_at": when(r["reported_at"]),
            "supervision": names.supervision(r["supervision_level"])
            if r["supervision_level"]
            else "",
            "description": r["description"],
        }
        for r in rows
    ]
    columns = list(CSV_HEADERS)
    headers = [t(CSV_HEADERS[c]) for c in columns]
    body = "\ufeff" + csv_text(records, columns, headers=headers)  # BOM: Excel reads UTF-8
    stamp = now.astimezone(zone).strftime("%Y%m%d-%H%M")
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="overdue-{stamp}.csv"',
            "X-Total-Count": str(total),
            "Cache-Control": "no-store",
        },
    )


CSV_HEADERS = {
    "case_id": "case_id",
    "late_by_minutes": "csv_late_minutes",
    "stage": "stage",
    "light": "light",
    "stage_due_at": "deadline",
    "department": "csv_department_code",
    "department_name": "department",
    "category": "csv_category_code",
    "category_name": "category",
    "street": "street",
    "community": "community",
    "grid": "grid",
    "source": "source",
    "reported_at": "reported_at",
    "supervision": "supervision_level",
    "description": "description",
}
