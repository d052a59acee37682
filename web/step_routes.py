"""``POST /cases/{id}/steps/{step}``: a step's form, sent to the application service
(``CaseService.act``) as the signed-in user. Photos in the form are uploaded first under
the API's rules (``application.photos.upload``). On success the browser goes back where
the form was (``next``, a path on this site) with ``?done=<step>``; a refusal shows the
case page with the reason and the form as it was sent.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from application.authz import visible_case
from application.cases import CALLER
from application.context import services
from application.errors import Duplicate, Forbidden, NotFound, ServiceError, Unavailable
from application.photos import upload
from domain.errors import DomainError, InvalidCommand, NotYourCase, WrongRole, WrongStage
from domain.steps import UPDATE_STEPS, Step
from store.photos import PhotoStore
from store.users import Principal
from web.auth import SignedIn, csrf_protect
from web.case_page import CaseId, Message, case_context
from web.i18n import LANG_COOKIE, Lang, pick_lang, translator
from web.pages import page
from web.signin import safe_next
from web.steps import FIELD_LABELS, parse_value, routing_suggestion

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

MAX_PHOTOS = 9  # per field of a form
STEP_PATH = re.compile(r"^/cases/[^/]+/steps/[a-z_]+$")


def takes_photos(path: str) -> bool:
    """Whether a request to ``path`` may carry photos (the API's body cap lets it)."""
    return STEP_PATH.match(path) is not None


class Refused(Exception):
    def __init__(self, text: str, status: int) -> None:
        super().__init__(text)
        self.text = text
        self.status = status


def status_of(exc: Exception) -> int:
    for kinds, status in (
        ((WrongRole, NotYourCase, Forbidden), 403),
        ((WrongStage, Duplicate), 409),
        ((Unavailable,), 503),
    ):
        if isinstance(exc, kinds):
            return status
    return 422


async def _values(
    request: Request, who: Principal, step: Step, form: Any, lang: Lang
) -> dict[str, Any]:
    """The command's fields from the form; ``Refused`` naming what is missing."""
    svc = services(request)
    values: dict[str, Any] = {}
    missing: list[str] = []
    for f in step.inputs:
        label = FIELD_LABELS[f.name][0 if lang == "zh" else 1]
        if f.type == tuple[str, ...]:
            files = [u for u in form.getlist(f.name) if isinstance(u, UploadFile) and u.filename]
            if len(files) > MAX_PHOTOS:
                raise Refused(f"{label}: ≤ {MAX_PHOTOS}", 422)
            store = PhotoStore(svc.engine, svc.settings.photos_path)
            ids = []
            for file in files:
                stored = await run_in_threadpool(
                    functools.partial(
                        upload,
                        store,
                        who,
                        file.file,
                        declared=file.content_type or "",
                        max_bytes=svc.settings.photo_max_bytes,
                    )
                )
                ids.append(stored.photo.id)
            values[f.name] = tuple(ids)
            continue
        raw = form.get(f.name)
        value = parse_value(f, raw if isinstance(raw, str) else "")
        if value in ("", None):
            if f.required:
                missing.append(label)
            continue
        values[f.name] = value
    if missing:
        joined = ("、" if lang == "zh" else ", ").join(missing)
        raise Refused(translator(lang)("missing", fields=joined), 422)
    return values


def _dispatch_rule(
    request: Request, values: dict[str, Any], case: dict[str, Any], lang: Lang
) -> None:
    """The console's own rule: dispatching elsewhere than routing suggests takes a reason."""
    proposal = routing_suggestion(services(request).intake, case["category"], case["grid"])
    wanted = values.get("department", "")
    if proposal and wanted and wanted != proposal and not values.get("note"):
        raise Refused(translator(lang)("reason_required_override"), 422)


@router.post("/cases/{case_id}/steps/{step_name}", response_model=None)
async def take_step(
    request: Request, user: SignedIn, step_name: str, case_id: str = CaseId
) -> Response:
    step = UPDATE_STEPS.get(step_name)
    if step is None:
        raise HTTPException(404, "no such step")
    lang = pick_lang(request.cookies.get(LANG_COOKIE))
    form = await request.form(max_files=MAX_PHOTOS + 1, max_fields=40)
    sent = {k: v for k, v in form.items() if isinstance(v, str)}
    svc = services(request)
    try:
        values = await _values(request, user, step, form, lang)
        if step.name == "dispatch":
            case = await run_in_threadpool(_row, request, user, case_id)
            _dispatch_rule(request, values, case, lang)
        command = step.command(actor=CALLER, **values)
        key = sent.get("idempotency_key") or None  # the form's own (web/templates/_steps.html)
        await svc.cases.act(user, case_id, step.name, command, idempotency_key=key)
    except NotFound:
        raise HTTPException(404, "no such case") from None
    except Refused as exc:
        return await _again(request, user, case_id, step, sent, exc.text, exc.status)
    except (ServiceError, DomainError) as exc:
        text = exc.message if isinstance(exc, ServiceError | InvalidCommand) else str(exc)
        return await _again(request, user, case_id, step, sent, text, status_of(exc))
    target = safe_next(sent.get("next"))
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}done={step.name}&case={case_id}", status_code=303)


def _row(request: Request, who: Principal, case_id: str) -> dict[str, Any]:
    return visible_case(services(request).engine, who, case_id)


async def _again(
    request: Request,
    who: Principal,
    case_id: str,
    step: Step,
    sent: dict[str, str],
    text: str,
    status: int,
) -> HTMLResponse:
    lang = pick_lang(request.cookies.get(LANG_COOKIE))
    message = Message(translator(lang)("refused", reason=text), error=True)

    def render() -> HTMLResponse:
        context = case_context(request, who, case_id, message=message, sent={step.name: sent})
        return page(request, "case.html", context, status=status)

    return await run_in_threadpool(render)
