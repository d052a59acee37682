"""Acting on a case: one route per human step, all through ``perform`` and the application
service (``CaseService.act``).

Order of checks: authentication (401), jurisdiction over the case (404, as if it did not
exist), the photos named (422), then the domain's own rules inside the workflow's update
validator: role (403), stage (409), fields and org unit (422 / 403). The actor is the
authenticated caller.
"""

# No "from __future__ import annotations": the endpoints built below are annotated with
# a body model chosen at run time, which FastAPI must see as a real class.

from typing import Annotated

from fastapi import APIRouter, Body, Depends

from api.auth import Caller
from api.problems import PROBLEM_RESPONSES
from api.schemas import ActionOut
from api.site import GeoPosition, parse_position
from api.steps import StepBody, body_is_optional
from application.cases import CALLER
from application.context import Services, services
from application.principals import Principal
from domain.case import COMMAND_LABELS
from workflows.steps import HUMAN_STEPS

Svc = Annotated[Services, Depends(services)]


async def perform(
    svc: Services,
    who: Principal,
    case_id: str,
    step: str,
    body: StepBody,
    position: str | None = None,
) -> ActionOut:
    site = parse_position(position)
    result = await svc.cases.act(who, case_id, step, body.command(CALLER), site=site)
    return ActionOut(
        case_id=result.case_id,
        version=result.version,
        status=result.status,
        stage=result.stage,
        stage_due_at=result.stage_due_at,
        events=list(result.events),
    )


def add_step_route(
    router: APIRouter, step: str, model: type[StepBody], *, path: str = "", summary: str = ""
) -> None:
    """``POST /v1/cases/{case_id}/<path or step>`` taking ``model`` as its body."""
    label = COMMAND_LABELS[HUMAN_STEPS[step]]
    doc = (model.__doc__ or "").strip()
    description = f"{label}. {doc}" if doc and not doc.startswith("!") else label

    if body_is_optional(model):

        async def endpoint(
            case_id: str,
            who: Caller,
            svc: Svc,
            body: Annotated[model | None, Body()] = None,  # type: ignore[valid-type]
            position: GeoPosition = None,
        ) -> ActionOut:
            return await perform(svc, who, case_id, step, body or model(), position)

    else:

        async def endpoint(  # type: ignore[misc]
            case_id: str,
            who: Caller,
            svc: Svc,
            body: Annotated[model, Body()],  # type: ignore[valid-type]
            position: GeoPosition = None,
        ) -> ActionOut:
            return await perform(svc, who, case_id, step, body, position)

    router.add_api_route(
        f"/v1/cases/{{case_id}}/{path or step}",
        endpoint,
        methods=["POST"],
        response_model=ActionOut,
        summary=summary or label,
        description=description,
        operation_id=f"case_{(path or step)}",
        responses=PROBLEM_RESPONSES,
    )
