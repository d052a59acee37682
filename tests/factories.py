"""Actors and commands for tests, in one place."""

from __future__ import annotations

from datetime import UTC, datetime

from domain import commands as c
from domain.events import Location
from domain.roles import Actor, Role

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DEPT = "sanitation"
GRID = "410105001001001"

WORKER = Actor(id="gw-001", role=Role.GRID_WORKER, unit=GRID)
ACCEPTOR = Actor(id="acc-01", role=Role.ACCEPTOR)
LEADER = Actor(id="lead-01", role=Role.SHIFT_LEADER)
DISPATCHER = Actor(id="disp-01", role=Role.DISPATCHER)
HANDLER = Actor(id="h-san-01", role=Role.HANDLER, unit=DEPT)
OTHER_HANDLER = Actor(id="h-road-01", role=Role.HANDLER, unit="roads")
SUPERVISOR = Actor(id="sup-01", role=Role.SUPERVISOR)


def report(stage_limits: dict[str, float] | None = None, **kw: object) -> c.ReportCase:
    fields: dict[str, object] = {
        "actor": WORKER,
        "category": "E0101",
        "grid": GRID,
        "description": "exposed garbage next to the bus stop",
        "location": Location(lon=113.68, lat=34.78, address="Wenhua Rd 1"),
        "photos": ("sha256:abc",),
        "stage_limits": stage_limits or {},
    }
    fields.update(kw)
    return c.ReportCase(**fields)  # type: ignore[arg-type]


def main_line() -> list[c.Command]:
    """The human steps after the report, report to close."""
    return [
        c.FileCase(actor=LEADER, note="meets filing condition E0101-01"),
        c.DispatchCase(actor=DISPATCHER, department=DEPT),
        c.SignFor(actor=HANDLER),
        c.SubmitFeedback(actor=HANDLER, result="cleared", photos=("sha256:after",)),
        c.RecordClosureCheck(actor=WORKER, passed=True, note="clean now"),
        c.CloseCase(actor=LEADER),
    ]


# Added for the side-path tests: the commander (指挥长), who approves suspensions and
# issues 督办, and a grid worker of another grid (a second verifier).
COMMANDER = Actor(id="cmd-01", role=Role.LEADER)
OTHER_WORKER = Actor(id="gw-002", role=Role.GRID_WORKER, unit="410105001001002")
