"""The use cases that change a case: report one, act on one. Every front end (the API,
Open311, the CLI, and the console and mobile app to come) calls these, so none allows what
another refuses. A ``CaseService`` is built once by each composition root.

Order of checks in both: the caller's role for the use (``authz``), his jurisdiction over
the case (a case outside it is not found), the photos he names, then the domain's own
rules in the workflow's validator (role, stage, fields, org unit). The actor of a command
is always the caller's, never what a front end put in it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from sqlalchemy import Engine

from application import requests
from application.authz import Use, require, visible_case
from application.errors import Forbidden, Invalid, NotFound
from application.intake import Intake
from application.photos import require_photos
from application.read_models.case import CaseView, case_view, recorded_case_view
from application.steps import CALLER, check_assignee, update_step
from application.temporal import TemporalGateway, temporal_errors
from domain import commands as c
from domain.errors import DomainError
from domain.events import Location, SiteFix
from domain.geo import distance_m
from domain.inputs import check_inputs
from domain.roles import Role
from domain.sources import DEFAULT_SOURCE, listed, stated_sources
from store.users import Principal
from workflows import client as cases
from workflows.types import ActionResult

__all__ = ["CALLER", "CaseService", "NewReport", "Reported", "routed"]

log = structlog.get_logger(__name__)

# Command fields that name photos (``sha256:…`` ids from an upload).
_PHOTO_FIELDS = ("photos", "result_photos")


class Intakes(Protocol):
    """The current rules, grids and routing (``application.intake.IntakeSource``)."""

    def get(self) -> Intake: ...


@dataclass(frozen=True)
class NewReport:
    """What a reporter sends (上报). ``photos`` are uploaded photos (``sha256:…``) the
    reporter may see; ``media_urls`` links to pictures kept elsewhere (Open311's
    ``media_url``), recorded beside them as they are. ``source`` None: the reporter's usual
    channel (a grid worker's own, else the 12345 hotline). ``self_handled``: what was done
    on the spot (自行处置), None when it was not."""

    category: str
    description: str
    grid: str = ""
    location: Location | None = None
    photos: Sequence[str] = ()
    source: str | None = None
    self_handled: str | None = None
    result_photos: Sequence[str] = ()
    media_urls: Sequence[str] = ()


@dataclass(frozen=True)
class Reported:
    case_id: str
    workflow_id: str
    run_id: str | None
    created: bool  # False: the same report again (an idempotent repeat), the same case
    grid: str
    # The case as the reporter may see it, with its record; None when the record was not
    # visible in time (the case exists and records the report when its worker runs).
    view: CaseView | None


class CaseService:
    def __init__(
        self,
        engine: Engine,
        intakes: Intakes,
        temporal: TemporalGateway,
        *,
        record_wait: float = cases.RECORD_WAIT,
    ) -> None:
        self.engine = engine
        self.intakes = intakes
        self.temporal = temporal
        self.record_wait = record_wait

    @property
    def intake(self) -> Intake:
        return self.intakes.get()

    async def report(
        self, who: Principal, what: NewReport, report_id: str, *, now: datetime | None = None
    ) -> Reported:
        """上报: start the case ``report_id`` for ``what`` and answer with it as recorded,
        in one call to Temporal (update-with-start; ``workflows.client.report_case``). The
        same report sent again is the same case, the same id with a different report is
        ``Duplicate``. When the record is not visible within ``record_wait`` (no worker?)
        the case exists all the same: ``view`` is None. A grid worker reports only in the
        grids he patrols, from his own channel."""
        require(who, Use.REPORT)
        cases.check_case_id(report_id)
        source = _source(who, what.source)
        photos = [*what.photos, *what.result_photos]
        await asyncio.to_thread(require_photos, self.engine, who, photos)
        intake = await asyncio.to_thread(self.intakes.get)
        command = intake.report(
            actor=who.actor(),
            category=what.category,
            description=what.description,
            grid=what.grid,
            location=what.location,
            photos=[*what.photos, *what.media_urls],
            source=source,
            self_handled=what.self_handled is not None,
            self_handling_result=what.self_handled or "",
            result_photos=what.result_photos,
        )
        if who.role == "grid_worker":
            if not who.unbounded and command.grid not in who.units:
                raise Forbidden(
                    f"grid {command.grid} is not one you patrol ({', '.join(who.units)})",
                    code="not_your_grid",
                )
            # He reports as the worker of the grid the case is in.
            command = replace(command, actor=who.actor(grid=command.grid))
        client = await self.temporal.get()
        with temporal_errors():
            receipt = await cases.report_case(
                client, report_id, command, now or datetime.now(UTC), wait=self.record_wait
            )
        view = await self._view(who, receipt)
        log.info(
            "case_reported",
            case_id=report_id,
            actor=str(command.actor),
            created=receipt.created,
            recorded=view is not None,
            grid=command.grid,
            source=source,
        )
        return Reported(
            case_id=receipt.case_id,
            workflow_id=receipt.workflow_id,
            run_id=receipt.run_id,
            created=receipt.created,
            grid=command.grid,
            view=view,
        )

    async def _view(self, who: Principal, receipt: cases.ReportReceipt) -> CaseView | None:
        """The reported case as ``who`` may see it: from the records the case answered
        with while it stands as reported (no read of the store), else as stored now (it
        has moved on, or finished); None while its record is not visible."""
        if not receipt.recorded:
            log.warning("case_record_not_visible_yet", case_id=receipt.case_id)
            return None
        records = receipt.records
        if records and receipt.version == records[-1]["version"]:
            return recorded_case_view(who, receipt.case_id, records)
        try:
            return await asyncio.to_thread(case_view, self.engine, who, receipt.case_id)
        except NotFound:  # a case whose report could not be recorded (its workflow failed)
            log.warning("case_record_missing", case_id=receipt.case_id)
            return None

    async def act(
        self,
        who: Principal,
        case_id: str,
        step: str,
        command: c.Command,
        *,
        idempotency_key: str | None = None,
        site: SiteFix | None = None,
    ) -> ActionResult:
        """Take the human step ``step`` (``domain.steps.UPDATE_STEPS``) on a case the
        caller may see, as the caller; a refusal raises the domain's error.

        ``idempotency_key``: the same key from the same caller on the same case answers
        the first result and records nothing new (``application.requests``); without
        one, a new key is made and the step is not repeatable. ``site``: where the
        caller's phone was (a step on site: 核实, 核查), recorded with its distance to the
        case's point."""
        declared = update_step(step)
        if declared.command is not type(command):
            raise Invalid(
                f"{type(command).__name__} is not the command of step {step!r}",
                code="unknown_step",
            )
        if not cases.CASE_ID.match(case_id):
            raise NotFound(f"no case {case_id!r}")
        check_inputs(command)  # before anything: a bad text never reaches Temporal
        request = requests.step_request(who, declared, command, idempotency_key)
        earlier = await asyncio.to_thread(requests.answered, self.engine, case_id, request)
        if earlier is not None:
            log.info("case_step_repeated", case_id=case_id, step=step, version=earlier.version)
            return earlier
        row = await asyncio.to_thread(visible_case, self.engine, who, case_id)
        await asyncio.to_thread(require_photos, self.engine, who, _photos_of(command))
        command = replace(command, actor=who.actor(grid=row["grid"]))
        if site is not None:
            command = on_site(command, row, site, await asyncio.to_thread(self.intakes.get))
        if isinstance(command, c.RequestVerification):
            district = (await asyncio.to_thread(self.intakes.get)).district
            await asyncio.to_thread(check_assignee, self.engine, district, command.assignee)
        if isinstance(command, c.DispatchCase):
            command = routed(command, row, await asyncio.to_thread(self.intakes.get))
        client = await self.temporal.get()
        with temporal_errors():
            result = await cases.act(client, case_id, command, request)
        requests.same_request(result, request)
        log.info(
            "case_step",
            case_id=case_id,
            step=step,
            actor=str(command.actor),
            stage=result.stage,
            events=result.events,
        )
        return result


def routed(command: c.DispatchCase, case: dict[str, Any], intake: Intake) -> c.DispatchCase:
    """派遣 with routing's suggestion recorded: a department the dispatcher names is taken
    as it is (the suggestion empty where routing has none); without one, the suggested
    department, and a refusal when routing has none."""
    try:
        suggested = intake.suggest_department(case["category"], case["grid"])
    except DomainError as exc:
        if not command.department:
            raise Invalid(
                f"routing suggests no department for case {case['case_id']} "
                f"(category {case['category']} in grid {case['grid']}: {exc.message}); "
                "name the department to dispatch to",
                code="no_routing",
            ) from None
        suggested = ""
    return replace(
        command, department=command.department or suggested, suggested_department=suggested
    )


def on_site(command: c.Command, case: dict[str, Any], site: SiteFix, intake: Intake) -> c.Command:
    """The step with where the phone was, its distance to the case's point and whether
    that is farther than the center's policy allows; only steps taken on site carry it."""
    if "site" not in {f.name for f in fields(command)}:
        raise Invalid(
            f"{type(command).__name__} is not a step on site; send no position with it",
            code="position_not_taken",
        )
    distance = None
    if case.get("lon") is not None and case.get("lat") is not None:
        distance = round(distance_m((site.lon, site.lat), (case["lon"], case["lat"])), 1)
    limit = intake.policy.site_distance_warning_m
    fix = replace(site, distance_m=distance, far=distance is not None and distance > limit)
    return replace(command, site=fix)  # type: ignore[call-arg]


def _source(who: Principal, source: str | None) -> str:
    """The source of a report by ``who``: his front end's own channel (Open311), else the
    one he names among those his role may state (``domain.sources``), else his usual."""
    if who.channel:
        if source not in (None, who.channel):
            raise Invalid(f"reports here come from {who.channel}", code="invalid_source")
        return who.channel
    role = Role(who.role)
    if source is None:
        return DEFAULT_SOURCE[role].value
    allowed = stated_sources(role)
    if source not in allowed:
        shown = source if len(source) <= 40 else source[:40] + "…"
        raise Invalid(
            f"source {shown!r} is not one a {role.label} may report from; "
            f"choose one of {listed(allowed)}",
            code="invalid_source",
        )
    return source


def _photos_of(command: c.Command) -> list[str]:
    return [
        photo
        for f in fields(command)
        if f.name in _PHOTO_FIELDS
        for photo in getattr(command, f.name)
    ]
