"""The landing page of every role: who you are, where your work will be, this session."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from application.context import services
from application.intake import Intake
from web.auth import SignedIn, csrf_protect
from web.i18n import LANG_COOKIE, Lang, pick_lang
from web.pages import page

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


def unit_name(intake: Intake, code: str, lang: Lang) -> str:
    """A unit's name from the reference data (district, street, community, grid,
    department), or "" when it is not loaded."""
    district = intake.district
    for department in intake.taxonomy.departments:
        if department.code == code:
            return department.name_zh if lang == "zh" else department.name_en
    if district is None:
        return ""
    try:
        if code == district.code:
            return district.name_zh if lang == "zh" else district.name_en
        if len(code) == 9:
            street = district.street(code)
            return street.name_zh if lang == "zh" else street.name_en or street.name_zh
        if len(code) == 12:
            community = district.community(code)
            return community.name_zh if lang == "zh" else community.name_en or community.name_zh
        if len(code) == 15:
            return district.grid(code).name
    except LookupError:
        return ""
    return ""


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: SignedIn) -> HTMLResponse:
    lang = pick_lang(request.cookies.get(LANG_COOKIE))
    intake = services(request).intake
    units = [(code, unit_name(intake, code, lang)) for code in user.units]
    return page(request, "home.html", {"units": units})
