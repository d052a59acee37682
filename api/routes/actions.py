"""Acting on a case: one route per person's step, derived from the step declarations
(``POST /v1/cases/{case_id}/<step>``, body ``api.steps.STEP_BODIES``), all through
``perform`` and the application service (``CaseService.act``).

Order of checks: authentication (401), the body and every text in it (422, naming the
field), jurisdiction over the case (404, as if it did not exist), the photos named (422),
then the domain's own rules inside the workflow's update validator: role (403), stage
(409), fields and org unit (422 / 403). The actor is the authenticated caller.

Every step takes an ``Idempotency-Key`` header: the same key from the same user on the
same case answers the first result and records nothing new (``application.requests``).
"""

# No "from __future__ import annotations": the endpoints built below are annotated with
# a body model chosen at run time, which FastAPI must see as a real class.

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Response

from api.auth import Caller
from api.problems import BODY_RESPONSES
from api.schemas import ActionOut
from api.site import GeoPosition, parse_position
from api.steps import STEP_BODIES, StepBody, body_is_optional, describe
from application.context import Services, services
from application.principals import Principal
from application.requests import KEY_RULE, new_idempotency_key
from domain.steps import Step

Svc = Annotated[Services, Depends(services)]

IDEMPOTENCY_KEY = (
    "Makes the step safe to retry: the same key from the same user on the same case "
    "answers the first result again and records nothing new (also after restarts); the "
    "same key with another step or other input is refused (422 idempotency_key_reused). "
    f"Generate one per intended step ({KEY_RULE}) and send it again only to retry that "
    "step. Without it the server makes one (answered in the response's Idempotency-Key "
    "header), and a retry would be a new request."
)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=IDEMPOTENCY_KEY,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        examples=["5f0c9a9e-5d1b-4c3e-9f7a-2b8f0b6d1e42"],
    ),
]


async def perform(
    svc: Services,
    who: Principal,
    case_id: str,
    step: str,
    body: StepBody,
    key: str | None,
    response: Response,
    position: str | None = None,
) -> ActionOut:
    site = parse_position(position)
    key = key or new_idempotency_key()
    response.headers["Idempotency-Key"] = key
    result = await svc.cases.act(who, case_id, step, body.command(), idempotency_key=key, site=site)
    return ActionOut(
        case_id=result.case_id,
        version=result.version,
        status=result.status,
        stage=result.stage,
        stage_due_at=result.stage_due_at,
        events=list(result.events),
    )


def add_step_route(router: APIRouter, step: Step, *, path: str = "") -> None:
    """``POST /v1/cases/{case_id}/<path or step name>`` taking the step's derived body."""
    model = STEP_BODIES[step.name]
    name = step.name

    if body_is_optional(model):

        async def endpoint(
            case_id: str,
            who: Caller,
            svc: Svc,
            response: Response,
            body: Annotated[model | None, Body()] = None,  # type: ignore[valid-type]
            idempotency_key: IdempotencyKey = None,
            position: GeoPosition = None,
        ) -> ActionOut:
            return await perform(
                svc, who, case_id, name, body or model(), idempotency_key, response, position
            )

    else:

        async def endpoint(  # type: ignore[misc]
            case_id: str,
            who: Caller,
            svc: Svc,
            response: Response,
            body: Annotated[model, Body()],  # type: ignore[valid-type]
            idempotency_key: IdempotencyKey = None,
            position: GeoPosition = None,
        ) -> ActionOut:
            return await perform(svc, who, case_id, name, body, idempotency_key, response, position)

    router.add_api_route(
        f"/v1/cases/{{case_id}}/{path or name}",
        endpoint,
        methods=["POST"],
        response_model=ActionOut,
        summary=step.label,
        description=describe(step),
        operation_id=f"case_{path or name}",
        responses=BODY_RESPONSES,
    )
