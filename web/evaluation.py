"""Evaluation (综合评价): rankings of departments, streets, communities, grids and grid
workers for a day, week or month, as a table and an ECharts chart. Each figure shows its
formula (the score's weights, each rate's numerator and denominator) and links to the
cases behind it. The figures are ``application.read_models.kpi`` (the API's and the
CLI's); the cases behind a rate are the same evaluation run on each case alone
(``kpi_cases``).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from application.authz import MAY, Use
from application.context import services
from application.errors import Invalid
from application.read_models import kpi_cases, kpi_table
from domain.kpi import DEFAULT_WEIGHTS, RATES, ObjectKind, PeriodKind
from store.users import Principal
from web.auth import csrf_protect, page_for
from web.i18n import LANG_COOKIE, Lang, pick_lang, translator
from web.names import Names
from web.pages import page

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Evaluator = Depends(page_for(*MAY[Use.KPI]))

KINDS = (
    ObjectKind.DEPARTMENT,
    ObjectKind.STREET,
    ObjectKind.COMMUNITY,
    ObjectKind.GRID,
    ObjectKind.GRID_WORKER,
)
# What each rate counts: (numerator, denominator) in Chinese and English.
RATE_TERMS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "on_time_disposal": (("按期处置的案件", "disposed on time"), ("应处置的案件", "due")),
    "disposal": (("已处置（核查通过）的案件", "disposed (check passed)"), ("应处置的案件", "due")),
    "closing": (("已结案的案件", "closed"), ("应处置的案件", "due")),
    "on_time_closing": (("按期结案的案件", "closed on time"), ("应处置的案件", "due")),
    "rework": (("返工过的案件", "reworked"), ("应处置的案件", "due")),
    "extension": (("延期过的案件", "extended"), ("应处置的案件", "due")),
    "accurate_dispatch": (
        ("未回退、未返工的派遣", "dispatched, neither returned nor reworked"),
        ("派遣的案件", "dispatched"),
    ),
    "on_time_filing": (("按时立案的案件", "filed on time"), ("应立案的案件", "due to be filed")),
    "valid_report": (("有效上报", "valid reports"), ("已判定的上报", "decided reports")),
    "on_time_verify": (("按期核实的任务", "verified on time"), ("核实任务", "verify tasks")),
    "on_time_check": (("按期核查的任务", "checked on time"), ("核查任务", "check tasks")),
    "missed_report": (
        ("本人上报的案件", "reported by himself"),
        ("其网格内上报的案件", "reported in his grids"),
    ),
}
RATE_EN = {name: name.replace("_", " ") for name in RATES}
COMPONENT_WORDS = {
    "count": ("数量得分（应处置数 ÷ 同类最多者）", "count score (due ÷ the busiest)"),
    "no_rework": ("（1 − 返工率）", "(1 − rework rate)"),
}


def rate_label(name: str, lang: Lang) -> str:
    return RATES[name] if lang == "zh" else RATE_EN[name]


def component_label(name: str, lang: Lang) -> str:
    if name in COMPONENT_WORDS:
        return COMPONENT_WORDS[name][0 if lang == "zh" else 1]
    return rate_label(name, lang)


def shown_rates(kind: ObjectKind) -> list[str]:
    """The rates behind the score's components, then the others worth a column."""
    weights = DEFAULT_WEIGHTS[kind]
    found = [n for n in weights if n in RATES]
    if "no_rework" in weights:
        found.append("rework")
    return found


def _choice(request: Request) -> tuple[ObjectKind, PeriodKind, date | None]:
    q = request.query_params
    try:
        kind = ObjectKind(q.get("by", "department"))
        period = PeriodKind(q.get("period", "month"))
        day = date.fromisoformat(q["date"]) if q.get("date") else None
    except ValueError:
        raise HTTPException(404, "no such evaluation") from None
    return kind, period, day


def object_name(names: Names, kind: ObjectKind, key: str) -> str:
    if kind is ObjectKind.GRID_WORKER:
        return key
    return names.unit(key) or key


@router.get("/evaluation", response_class=HTMLResponse)
def evaluation_page(request: Request, user: Principal = Evaluator) -> HTMLResponse:
    svc = services(request)
    kind, period, day = _choice(request)
    lang = pick_lang(request.cookies.get(LANG_COOKIE))
    names, t = Names(svc.intake, lang), translator(lang)
    now = datetime.now(UTC)
    try:
        table, rows = kpi_table(svc.engine, user, period, day, kind, now)
    except Invalid:
        raise HTTPException(404, "no such evaluation") from None
    span = table.periods[0]
    base = {"by": kind.value, "period": period.value, "date": span.start.date().isoformat()}
    rates = shown_rates(kind)
    weights = DEFAULT_WEIGHTS[kind]
    terms = " + ".join(
        f"{round(w * 100)}% × {component_label(n, lang)}" for n, w in weights.items()
    )
    ranked = [r for r in rows if r.score is not None]
    chart = {
        "names": [object_name(names, kind, r.key) for r in ranked][::-1],
        "scores": [round(r.score or 0, 1) for r in ranked][::-1],
        "title": t("score"),
    }
    return page(
        request,
        "evaluation.html",
        {
            "kind": kind.value,
            "period": period.value,
            "day": base["date"],
            "period_label": span.label,
            "kinds": [(k.value, t(f"kind_{k.value}")) for k in KINDS],
            "periods": [(p.value, t(f"period_{p.value}")) for p in PeriodKind],
            "rows": rows,
            "rates": [(n, rate_label(n, lang)) for n in rates],
            "formulas": [
                (rate_label(n, lang), *(term[0 if lang == "zh" else 1] for term in RATE_TERMS[n]))
                for n in rates
            ],
            "score_formula": t("score_formula", terms=terms),
            "object_name": lambda key: object_name(names, kind, key),
            "cases_link": lambda key, rate: (
                "/evaluation/cases?" + urlencode({**base, "key": key, "rate": rate})
            ),
            "chart_json": json.dumps(chart, ensure_ascii=False),
        },
    )


@router.get("/evaluation/cases", response_class=HTMLResponse)
def evaluation_cases(request: Request, user: Principal = Evaluator) -> HTMLResponse:
    svc = services(request)
    kind, period, day = _choice(request)
    key, rate = request.query_params.get("key", ""), request.query_params.get("rate", "")
    if rate not in RATES or not key:
        raise HTTPException(404, "no such figure")
    lang = pick_lang(request.cookies.get(LANG_COOKIE))
    names, t = Names(svc.intake, lang), translator(lang)
    now = datetime.now(UTC)
    found: list[tuple[str, bool]] = []
    if rate != "missed_report":
        try:
            found = kpi_cases(svc.engine, user, period, day, kind, key, rate, now)
        except Invalid:
            raise HTTPException(404, "no such figure") from None
    numerator, denominator = (term[0 if lang == "zh" else 1] for term in RATE_TERMS[rate])
    label = rate_label(rate, lang)
    back = "/evaluation?" + urlencode({"by": kind.value, "period": period.value, "date": day or ""})
    return page(
        request,
        "evaluation_cases.html",
        {
            "title": t(
                "cases_behind_title",
                rate=label,
                object=object_name(names, kind, key),
                period=request.query_params.get("date", ""),
            ),
            "formula": t("rate_formula", rate=label, hits=numerator, of=denominator),
            "cases": found,
            "hits": sum(1 for _, hit in found if hit),
            "missed_report": rate == "missed_report",
            "back": back,
        },
    )
