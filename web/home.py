"""The landing page of every role: who you are, where your work is, this session."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from application.context import services
from web.auth import SignedIn, csrf_protect
from web.i18n import LANG_COOKIE, pick_lang
from web.names import Names
from web.pages import page

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: SignedIn) -> HTMLResponse:
    names = Names(services(request).intake, pick_lang(request.cookies.get(LANG_COOKIE)))
    units = [(code, names.unit(code)) for code in user.units]
    return page(request, "home.html", {"units": units})
