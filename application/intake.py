"""Turning what a person submits into commands the domain can decide: the report's rules
(center policy × category × working calendar), its unit grid (located from the point when a
district is loaded) and the department routing suggests. Used by the application service
(``application.cases``) and the demo."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from application.config import Settings
from domain import commands as c
from domain.calendar import WorkingCalendar
from domain.errors import InvalidCommand
from domain.events import Location
from domain.org import District, InvalidOrgCode, Level, code_level
from domain.policy import CenterPolicy
from domain.roles import Actor
from domain.routing import Router
from domain.taxonomy import Taxonomy
from store.calendar import calendar_sources, today
from store.reference import NoDistrictLoaded, load_district, load_router, reference_version


@dataclass(frozen=True)
class Intake:
    policy: CenterPolicy
    calendar: WorkingCalendar
    taxonomy: Taxonomy
    router: Router
    district: District | None

    @classmethod
    def load(cls, settings: Settings, engine: Engine) -> Intake:
        router = load_router(engine)
        try:
            district: District | None = load_district(engine)
        except NoDistrictLoaded:
            district = None
        # New cases get the newest calendar version, for their year and the next ones.
        calendar = calendar_sources(engine, settings.calendar_notices()).for_cases(today())
        return cls(settings.policy(), calendar, router.taxonomy, router, district)

    def grid_for(self, grid: str, location: Location | None) -> str:
        """The report's unit grid: located from its point, or checked as given."""
        if self.district is not None and location is not None:
            located = self.district.locate(location.lon, location.lat)  # PointOutsideGrids
            if grid and grid != located:
                raise InvalidCommand(
                    f"the point ({location.lon}, {location.lat}) lies in grid {located}, "
                    f"not in the grid {grid} given"
                )
            return located
        if not grid:
            raise InvalidCommand("a grid code, or a point inside the district, is required")
        try:
            if code_level(grid) is not Level.GRID:
                raise InvalidCommand(f"{grid!r} is not a 15-digit unit grid code (单元网格编码)")
        except InvalidOrgCode as exc:
            raise InvalidCommand(str(exc)) from None
        if self.district is not None:
            self.district.grid(grid)  # UnknownOrgUnit for a grid of another district
        return grid

    def report(
        self,
        *,
        actor: Actor,
        category: str,
        description: str,
        grid: str = "",
        location: Location | None = None,
        photos: Sequence[str] = (),
        source: str = "grid_worker",
        self_handled: bool = False,
        self_handling_result: str = "",
        result_photos: Sequence[str] = (),
    ) -> c.ReportCase:
        found = self.taxonomy.category(category)  # UnknownCategory says what is known
        return c.ReportCase(
            actor=actor,
            category=found.code,
            grid=self.grid_for(grid, location),
            description=description,
            location=location,
            photos=tuple(photos),
            source=source,
            rules=self.policy.rules_for(found, self.calendar),
            self_handled=self_handled,
            self_handling_result=self_handling_result,
            result_photos=tuple(result_photos),
        )

    def suggest_department(self, category: str, grid: str) -> str:
        return self.router.route(category, grid).department


class IntakeSource:
    """The current Intake of a long-running process (the API): reloaded when reference
    data (holiday notices included) is imported again or a new year begins (the calendar
    window moves on), checked at most every ``ttl`` seconds (one small query)."""

    def __init__(self, settings: Settings, engine: Engine, ttl: float = 5.0) -> None:
        self.settings = settings
        self.engine = engine
        self.ttl = ttl
        self._lock = threading.Lock()
        self._intake = Intake.load(settings, engine)
        self._version = reference_version(engine)
        self._year = today().year
        self._checked = time.monotonic()

    def get(self) -> Intake:
        if time.monotonic() - self._checked < self.ttl:
            return self._intake
        with self._lock:
            self._checked = time.monotonic()
            version, year = reference_version(self.engine), today().year
            if (version, year) != (self._version, self._year):
                self._intake = Intake.load(self.settings, self.engine)
                self._version, self._year = version, year
        return self._intake
