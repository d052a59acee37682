"""Every error as an RFC 9457 problem (``application/problem+json``).

Body: ``type`` (``/problems/<code>`` for ours, ``about:blank`` for plain HTTP errors),
``title``, ``status``, ``detail``, ``instance`` (the request path) and ``code``, the
domain's stable error code, so a client can branch on it without parsing text.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import RPCError, RPCStatusCode

from api.open311_format import error_response, format_of_path
from application.errors import Duplicate, Forbidden, Invalid, NotFound, ServiceError, Unavailable
from domain.errors import (
    DeadlineNotReached,
    DeadlinePassed,
    DomainError,
    NotYourCase,
    OutOfOrder,
    WrongRole,
    WrongStage,
)
from store.users import TokenExpired

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
OPEN311_PREFIX = "/open311/v2/"  # these paths answer errors in Open311's own format
RETRY_AFTER = "5"  # seconds, when a server behind the API is down
# PostgreSQL refused the connection or dropped it, or no pooled connection came free.
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)

# Domain refusals by HTTP status; any other DomainError (InvalidCommand, UnknownCategory,
# PointOutsideGrids, UnknownOrgUnit, InvalidOrgCode, …) is a 422: the request was
# understood but its content cannot be accepted.
_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (WrongRole, 403),
    (NotYourCase, 403),
    (WrongStage, 409),
    (DeadlineNotReached, 409),
    (DeadlinePassed, 409),
    (OutOfOrder, 409),
)
# The application layer's refusals by HTTP status.
_SERVICE_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (NotFound, 404),
    (Forbidden, 403),
    (Invalid, 422),
    (Duplicate, 409),
    (Unavailable, 503),
)
_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
# Codes of plain HTTP errors (routing, body parsing) that carry none of their own. A 400
# from Starlette is a request body it could not parse (a form without a boundary, a part
# over its size limit).
_HTTP_CODES = {
    400: "invalid_body",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}


class ProblemBody(BaseModel):
    """An RFC 9457 problem detail (for the OpenAPI document)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str = ""
    instance: str = ""
    code: str = ""


class Problem(Exception):
    """Raise to answer with a problem; ``extra`` members are added to the body."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str = "",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers or {}
        self.extra = extra


def not_found(what: str) -> Problem:
    return Problem(404, "not_found", what)


def unauthenticated(detail: str) -> Problem:
    return Problem(401, "unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"})


def token_expired(exc: TokenExpired) -> Problem:
    return Problem(
        401,
        "token_expired",
        f"{exc}; ask an administrator for a new one (gridcase users token rotate {exc.token_id})",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        expired_at=exc.expired_at,
    )


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", detail)


def temporal_unavailable(detail: str) -> Problem:
    return Problem(503, "temporal_unavailable", detail, headers={"Retry-After": RETRY_AFTER})


def database_unavailable() -> Problem:
    return Problem(
        503,
        "database_unavailable",
        "PostgreSQL does not answer; try again shortly",
        headers={"Retry-After": RETRY_AFTER},
    )


def body_too_large(limit: int) -> Problem:
    return Problem(
        413, "body_too_large", f"the request body may have at most {limit} bytes", limit=limit
    )


class BodyTooLarge(StarletteHTTPException):
    """Raised while a request body is read, once it passes its limit (``api.limits``).
    An HTTPException, so FastAPI's body parsing lets it through as it is."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.status, problem.detail)
        self.problem = problem


def problem_response(request: Request, problem: Problem) -> Response:
    return render_problem(request.url.path, problem)


def render_problem(path: str, problem: Problem) -> Response:
    """The problem as RFC 9457 JSON, or in Open311's error format under its paths."""
    if path.startswith(OPEN311_PREFIX):
        return error_response(format_of_path(path), problem.status, problem.detail, problem.headers)
    body: dict[str, Any] = {
        "type": f"/problems/{problem.code}" if problem.code else "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": path,
    }
    if problem.code:
        body["code"] = problem.code
    body.update(jsonable_encoder(problem.extra))
    return JSONResponse(
        body, status_code=problem.status, headers=problem.headers, media_type=MEDIA_TYPE
    )


def from_domain(err: DomainError) -> Problem:
    status = next((s for cls, s in _DOMAIN_STATUS if isinstance(err, cls)), 422)
    return Problem(status, err.code, err.message, title=type(err).__name__)


def from_service(err: ServiceError) -> Problem:
    status = next((s for cls, s in _SERVICE_STATUS if isinstance(err, cls)), 500)
    headers = {"Retry-After": "5"} if status == 503 else None
    return Problem(status, err.code, err.message, headers=headers, **err.extra)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a problem."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return problem_response(request, from_domain(exc))

    async def on_service(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceError)
        return problem_response(request, from_service(exc))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        detail = f"{where}: {first['msg']}" if where else str(first["msg"])
        return problem_response(
            request,
            Problem(422, "validation_error", detail, title="Invalid request", errors=errors),
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc, BodyTooLarge):
            return problem_response(request, exc.problem)
        code = _HTTP_CODES.get(exc.status_code, "")
        problem = Problem(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))
        return problem_response(request, problem)

    async def on_database_down(request: Request, exc: Exception) -> Response:
        log.warning("api_database_unavailable", path=request.url.path, error=_first_line(exc))
        return problem_response(request, database_unavailable())

    async def on_rpc(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RPCError)
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            problem = temporal_unavailable(f"Temporal is unreachable: {exc.message}")
        else:
            log.error("temporal_refused", status=str(exc.status), message=exc.message)
            problem = Problem(500, "temporal_error", f"Temporal refused the call: {exc.message}")
        return problem_response(request, problem)

    async def on_data_error(request: Request, exc: Exception) -> Response:
        # PostgreSQL cannot take a value the request carried (a NUL in a text, a number or
        # time out of its range): the request's fault, not the server's.
        assert isinstance(exc, DataError)
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
        log.info("api_value_refused_by_database", path=request.url.path, reason=reason)
        return problem_response(request, Problem(422, "invalid_value", reason))

    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("api_unhandled_error", path=request.url.path)
        return problem_response(request, Problem(500, "internal_error", "unexpected error"))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(ServiceError, on_service)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RPCError, on_rpc)
    app.add_exception_handler(DataError, on_data_error)
    for down in DATABASE_DOWN:
        app.add_exception_handler(down, on_database_down)
    app.add_exception_handler(Exception, on_error)


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]


def problem_doc(description: str) -> dict[str, Any]:
    """An OpenAPI response that is a problem (the schema under application/problem+json,
    the media type it is sent with; a ``model`` would file it under application/json)."""
    return {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": ProblemBody.model_json_schema()}},
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: problem_doc(title)
    for status, title in _TITLES.items()
    # 413: every body is capped (api.limits); 429: every caller is rate limited.
    if status in (401, 403, 404, 409, 413, 422, 429, 503)
}
# Operations that read a body: one Starlette cannot parse (bytes that are no text in the
# declared charset, a form without a boundary) is a 400 ``invalid_body``.
BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    400: problem_doc("A body that cannot be parsed"),
}
