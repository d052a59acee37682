"""Open311 GeoReport v2 (docs/field-facts.md §8) under ``/open311/v2/``: the citizen intake standard
that FixMyStreet, SeeClickFix, Mark-a-Spot and uReport speak.

Every resource takes its format as a suffix, ``.xml`` (required by the spec) or ``.json``;
errors are the spec's ``{code, description}`` list in that format (``api.open311_format``).

Decisions where the spec leaves a choice:

- Services are the taxonomy's categories (小类): ``service_code`` is the category code,
  ``group`` its major class, ``description`` its filing conditions. Every service has
  ``metadata`` false and a definition with no attributes: what the center needs beyond the
  report (the filing condition, 立案条件) is judged by staff after on-site verification,
  not asked of a citizen. ``attribute[…]`` fields sent with a request are ignored.
- POST requests needs an ``api_key`` of an Open311 client (``gridcase users client add
  NAME``). The report becomes a case with source ``open311``, a public source that is
  verified on site (核实) before it can be filed. It is reported by the acceptor role
  (受理员), the role that takes public reports (as from the 12345 hotline), on behalf of
  the client app: ``Actor(id="open311:<client id>", role=acceptor)``. The client's id, not
  its free-text name, so the actor is stable and reads cleanly as ``role:id``; the name is
  in ``api_clients``. The acceptor role gives the app nothing else: these routes only report.
- The point (``lat``/``long``) is required: it is located to its unit grid by the intake;
  a point outside every grid is a 400. ``address_string`` is kept as the case's address
  text but cannot be located alone (there is no geocoder), so without a point: 400.
- Personal data (``email``, ``first_name``, ``last_name``, ``phone``, ``device_id``,
  ``account_id``) is dropped: it goes into no event, projection, search attribute or log.
  The citizen follows the request by its ``service_request_id``.
- ``service_request_id`` is the case id, ``o311-<uuid>``, known at once, so POST returns
  it directly (no token); ``tokens/{token}`` accepts that id as a token and resolves it
  to itself. POST is not idempotent (the spec has no request key): a client that repeats a
  POST makes a second case, which the center merges as a duplicate (合并).
- GET requests lists public cases, those a citizen brought in: ``open311``, the 12345
  hotline, the web portal and WeChat (``application.read_models.public``); grid workers'
  patrol reports are internal. What a listed case shows follows ``domain.disclosure``
  (docs/privacy.md): an Open311 request keeps the point, address text, description and
  ``media_url`` its client published, with phone numbers, ID card numbers and e-mail
  addresses in the text withheld; a hotline (web, WeChat) case is a caller's private
  report, often about his home: no address, no description, no media, and its point
  moved to the centre of its ~100 m cell.
- ``status`` is open for every open or suspended stage, closed for closed, rejected,
  cancelled and merged; ``status_notes`` names the stage (``待派遣 dispatch``).
  ``agency_responsible`` is the department the case is dispatched to, ``expected_datetime``
  the open stage's deadline, ``updated_datetime`` the time of the case's latest event.
- GET requests: by default the last 90 days, at most 90 days, at most 1000 requests, the
  most recent first; ``service_request_id`` (comma list) overrides every other filter.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from api.open311_format import Format, Open311Error, error_response, format_of, render
from api.open311_views import request_filter, request_out, service_out
from api.problems import DATABASE_DOWN, RETRY_AFTER, Problem, database_unavailable
from api.ratelimit import RateLimits
from application.cases import NewReport
from application.context import Services, services
from application.errors import Forbidden, Invalid, NotFound, ServiceError, Unavailable
from application.principals import Principal
from application.read_models.public import OPEN311_SOURCE, public_request, public_requests
from domain import commands as c
from domain.errors import DomainError
from domain.events import Location
from domain.inputs import rule_of
from domain.taxonomy import Category, UnknownCategory
from domain.text import TextRule, text_problem

log = structlog.get_logger(__name__)

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-28T00:00:00+00:00"  # when this endpoint's contract last changed
MAX_DESCRIPTION = 4000  # characters (the spec)
SERVICE_NOTICE = (
    "已受理 received: the center verifies the report on site (核实) before it is filed "
    "(立案); follow it with GET requests/{id}."
)
_CONTROLS = r"\x00-\x1f\x7f"
_CONTROL = re.compile(f"[{_CONTROLS}]")
_PERSONAL = ("email", "first_name", "last_name", "phone", "device_id", "account_id")
_ERROR_LIST = {  # the spec's error list, as JSON (the XML is <errors><error>…)
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "required": ["code", "description"],
    },
}
_ERRORS = {
    400: "A parameter or field the spec does not allow (a date out of range, a control "
    "character, a point outside every grid, a body that does not parse)",
    403: "No valid api_key",
    404: "No such service, request or jurisdiction",
    413: "The body is over the limit (read no further)",
    429: "Too many requests from this key or address (Retry-After)",
    503: "PostgreSQL or Temporal does not answer (Retry-After)",
}


def _answers(status: int, *errors: int) -> dict[int | str, dict[str, Any]]:
    """The documented answers of an Open311 operation: ``status`` in XML or JSON, and the
    given error statuses in the spec's error format."""
    found: dict[int | str, dict[str, Any]] = {
        status: {"content": {"text/xml": {}, "application/json": {}}}
    }
    for error in errors:
        content = {"text/xml": {}, "application/json": {"schema": _ERROR_LIST}}
        found[error] = {"description": _ERRORS[error], "content": content}
    return found


_XML_AND_JSON = _answers(200, 400, 404, 429, 503)


def document(openapi: dict[str, Any]) -> None:
    """FastAPI documents a 422 for every operation with parameters; Open311 answers a bad
    parameter with a 400 in its own format instead, so its operations do not list one."""
    for path, item in openapi["paths"].items():
        if path.startswith(PREFIX):
            for operation in item.values():
                operation["responses"].pop("422", None)


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class Open311Route(APIRoute):
    """Answers every failure of an Open311 route in the spec's error format."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                _check_parameters(request)
                return await handler(request)
            except Open311Error as exc:
                return error_response(format_of(request), exc.status, exc.description)
            except Problem as exc:
                return error_response(format_of(request), exc.status, exc.detail, exc.headers)
            except ServiceError as exc:  # e.g. Temporal unreachable (503)
                return error_response(format_of(request), _status(exc), exc.message)
            except StarletteHTTPException as exc:  # a body too large or that does not parse
                return error_response(format_of(request), exc.status_code, str(exc.detail))
            except DATABASE_DOWN as exc:
                log.warning("open311_database_unavailable", error=str(exc).splitlines()[0])
                problem = database_unavailable()
                return error_response(format_of(request), 503, problem.detail, problem.headers)
            except DomainError as exc:  # the report refused: a point outside every grid, …
                return error_response(format_of(request), 400, exc.message)
            except RequestValidationError as exc:
                return error_response(format_of(request), 400, _invalid(exc))
            except RPCError as exc:
                down = exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)
                log.warning("open311_temporal_error", status=str(exc.status), error=exc.message)
                status, retry = (503, {"Retry-After": RETRY_AFTER}) if down else (500, None)
                return error_response(
                    format_of(request), status, "the case engine is unavailable", retry
                )
            except Exception:
                log.exception("open311_unhandled_error", path=request.url.path)
                return error_response(format_of(request), 500, "unexpected error")

        return guarded


def _status(exc: ServiceError) -> int:
    """The spec's status for an application refusal: a bad request is a 400 here."""
    for cls, status in ((NotFound, 404), (Forbidden, 403), (Invalid, 400), (Unavailable, 503)):
        if isinstance(exc, cls):
            return status
    return 500


def _check_parameters(request: Request) -> None:
    """Filters and ids are codes, times and numbers: a control character in one is a
    mistake or an attack (PostgreSQL refuses a NUL in any text), never a value."""
    for name, value in (*request.query_params.multi_items(), *request.path_params.items()):
        if _CONTROL.search(str(value)):
            raise Open311Error(400, f"{name} contains a control character")


def _invalid(exc: RequestValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid request')} (got {first.get('input')!r})"


router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)
Svc = Annotated[Services, Depends(services)]
Fmt = Annotated[Format, Path(description="xml (the spec's required format) or json")]
# A code or id in the path: _check_parameters refuses a control character (400); the
# schema says so ("$" alone would allow a final line feed in Python's reading).
Id = Annotated[str, Path(json_schema_extra={"pattern": f"^[^{_CONTROLS}]*(?!\\x0a)$"})]


# -- services ------------------------------------------------------------------------------
def _category(svc: Services, code: str) -> Category:
    try:
        return svc.intake.taxonomy.category(code)
    except UnknownCategory:
        raise Open311Error(404, f"service_code {code!r} not found") from None


def _check_jurisdiction(svc: Services, params: Mapping[str, str]) -> None:
    wanted = params.get("jurisdiction_id", "").strip()
    district = svc.intake.district
    if wanted and district is not None and wanted != district.code:
        raise Open311Error(404, f"jurisdiction_id {wanted!r} is not served here")


@router.get("/discovery.{fmt}", summary="Open311 service discovery", responses=_XML_AND_JSON)
async def discovery(fmt: Fmt, request: Request) -> Response:
    body = {
        "changeset": CHANGESET,
        "contact": "The district's grid management center (网格化管理中心)",
        "key_service": "API keys are issued by the center (gridcase users client add NAME)",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": str(request.base_url).rstrip("/") + PREFIX,
                "changeset": CHANGESET,
                "type": "production",
                "formats": [Format.XML.media_type, Format.JSON.media_type],
            }
        ],
    }
    return render(fmt, body, root="discovery")


@router.get("/services.{fmt}", summary="Open311 service list", responses=_XML_AND_JSON)
async def list_services(fmt: Fmt, request: Request, svc: Svc) -> Response:
    _check_jurisdiction(svc, request.query_params)
    taxonomy = svc.intake.taxonomy
    body = [service_out(category, taxonomy) for category in taxonomy]
    return render(fmt, body, root="services", item="service")


@router.get(
    "/services/{service_code}.{fmt}",
    summary="Open311 service definition",
    responses=_XML_AND_JSON,
)
async def service_definition(service_code: Id, fmt: Fmt, request: Request, svc: Svc) -> Response:
    _check_jurisdiction(svc, request.query_params)
    category = _category(svc, service_code)
    # No attributes: see the module's docstring.
    return render(fmt, {"service_code": category.code, "attributes": []}, root="service_definition")


# -- requests ------------------------------------------------------------------------------
def _listed(fmt: Format, rows: list[dict[str, Any]], svc: Services) -> Response:
    body = [request_out(row, svc.intake.taxonomy) for row in rows]
    return render(fmt, body, root="service_requests", item="request")


@router.get("/requests.{fmt}", summary="Open311 service requests", responses=_XML_AND_JSON)
async def list_requests(fmt: Fmt, request: Request, svc: Svc) -> Response:
    _check_jurisdiction(svc, request.query_params)
    where = request_filter(request.query_params, datetime.now(UTC))
    rows = await run_in_threadpool(public_requests, svc.engine, where)
    return _listed(fmt, rows, svc)


async def _one(svc: Services, case_id: str) -> dict[str, Any]:
    row = await run_in_threadpool(public_request, svc.engine, case_id)
    if row is None:
        raise Open311Error(404, f"service_request_id {case_id!r} not found")
    return row


@router.get(
    "/requests/{service_request_id}.{fmt}",
    summary="One Open311 service request (a one-item list)",
    responses=_XML_AND_JSON,
)
async def get_request(service_request_id: Id, fmt: Fmt, request: Request, svc: Svc) -> Response:
    _check_jurisdiction(svc, request.query_params)
    return _listed(fmt, [await _one(svc, service_request_id)], svc)


@router.get(
    "/tokens/{token}.{fmt}",
    summary="The service request of a token (ours: the request id itself)",
    responses=_XML_AND_JSON,
)
async def get_token(token: Id, fmt: Fmt, request: Request, svc: Svc) -> Response:
    _check_jurisdiction(svc, request.query_params)
    row = await _one(svc, token)
    body = [{"service_request_id": row["case_id"], "token": token}]
    return render(fmt, body, root="service_requests", item="request")


def _text(fields: Mapping[str, str], name: str, rule: TextRule) -> str:
    """A text field of the form under the rule of the case's field it becomes, refused
    under its Open311 name."""
    value = fields.get(name, "").strip()
    problem = text_problem(value, rule)
    if problem is not None:
        raise Open311Error(400, f"{name} {problem}")
    return value


def _location(fields: Mapping[str, str]) -> Location:
    lat_text, lon_text = fields.get("lat", "").strip(), fields.get("long", "").strip()
    address = _text(fields, "address_string", rule_of(Location, "address"))
    if not (lat_text and lon_text):
        raise Open311Error(
            400,
            "lat and long are required: a request is located to its unit grid from its "
            "point (address_string or address_id alone cannot be located)",
        )
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise Open311Error(400, f"lat {lat_text!r} / long {lon_text!r} are not numbers") from None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        raise Open311Error(400, f"({lat}, {lon}) is not a WGS84 latitude/longitude")
    return Location(lon=lon, lat=lat, address=address)


def _media(fields: Mapping[str, str]) -> tuple[str, ...]:
    url = fields.get("media_url", "").strip()
    if not url:
        return ()
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise Open311Error(400, "media_url must be an http(s) URL")
    return (url,)


@router.post(
    "/requests.{fmt}",
    status_code=201,
    summary="Open311: report an issue (form-encoded, api_key required)",
    responses=_answers(201, 400, 403, 404, 413, 429, 503),
)
async def create_request(fmt: Fmt, request: Request, svc: Svc) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}  # v2 has no uploads
    api_key = fields.get("api_key") or request.query_params.get("api_key", "")
    if "api_key" not in request.query_params:  # a key in the query was counted already
        limits: RateLimits = request.app.state.rate_limits
        refusal = limits.client_refusal(api_key)
        if refusal is not None:
            raise await refusal.held()
    app = await run_in_threadpool(svc.users.authenticate_client, api_key) if api_key else None
    if app is None:
        raise Open311Error(403, "invalid api_key: can't proceed with create_request")
    _check_jurisdiction(svc, fields)
    code = fields.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    category = _category(svc, code)
    location = _location(fields)
    if svc.intake.district is None:
        raise Open311Error(503, "no district is loaded: requests cannot be located to a grid")
    description = fields.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")
    description = _text(fields, "description", rule_of(c.ReportCase, "description"))
    # Reported by the acceptor role on behalf of the client app (see the module's docstring).
    who = Principal(
        user_id=f"open311:{app.id}", role="acceptor", name=app.name, channel=OPEN311_SOURCE
    )
    what = NewReport(
        category=category.code,
        # The service names the problem when the citizen wrote nothing (optional in v2).
        description=description or f"{category.name_zh} {category.name_en}",
        location=location,
        media_urls=_media(fields),
    )
    case_id = f"o311-{uuid.uuid4().hex}"
    reported = await svc.cases.report(who, what, case_id)
    log.info(
        "open311_request_created",
        case_id=case_id,
        client_id=app.id,
        category=category.code,
        grid=reported.grid,
        personal_fields_dropped=sorted(k for k in _PERSONAL if fields.get(k)),
    )
    body = [{"service_request_id": case_id, "service_notice": SERVICE_NOTICE, "account_id": None}]
    return render(fmt, body, root="service_requests", item="request", status=201)
