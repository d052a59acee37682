"""One case for people: its projection row with its timeline from the event log; the open
cases near it that may be duplicates (合并); the notices left for it and others.

Personal data here is the identity of grid workers: the reporter's id, the actor id of a
grid worker's events and the grid worker a verification was assigned to. Supervision staff
(acceptor, shift leader, dispatcher, supervisor, leader, admin) see them; a grid worker
sees his own id and nobody else's; a handler sees none. Department staff and the center's
own people stay named: they act in an official capacity.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from application.authz import must_redact, scope, visible_case
from application.read_models.rows import C, Row, seen_by
from domain.calendar import CalendarNotCovered, TimeLimit, TimeUnit
from domain.case import CaseState, fold
from domain.codec import decode, from_record
from domain.events import CaseReported, Event
from domain.geo import distance_m
from domain.roles import Role
from domain.rules import CaseRules
from domain.stages import Stage
from store.codec import EVENT_COLUMNS, row_to_event
from store.event_store import EventStore
from store.models import EventRow, NotificationRow
from store.outbox import UNDELIVERED
from store.projections import case_row_values
from store.users import Principal

# Event data fields that name a grid worker.
_GRID_WORKER_FIELDS = ("assignee",)


@dataclass(frozen=True)
class CaseView:
    """A case as ``who`` may see it: the projection row (``seen_by``) and the stored
    records of its events, oldest first, grid workers' ids None where hidden; and its
    state folded from the whole log (``state``: for the rules and clocks, not to show)."""

    row: Row
    records: list[Row]
    state: CaseState | None = None

    @property
    def reported(self) -> dict[str, Any]:
        """The data of its CaseReported (always its first event)."""
        return next((r["data"] for r in self.records if r["type"] == "CaseReported"), {})


def _record_seen_by(who: Principal, record: Row) -> Row:
    actor = record["actor"]
    if actor["role"] == Role.GRID_WORKER.value and must_redact(who, actor["id"]):
        record = record | {"actor": actor | {"id": None}}
    data = record["data"]
    hidden = [k for k in _GRID_WORKER_FIELDS if isinstance(data.get(k), str)]
    hidden = [k for k in hidden if must_redact(who, data[k])]
    if hidden:
        record = record | {"data": data | dict.fromkeys(hidden)}
    return record


def case_view(engine: Engine, who: Principal, case_id: str) -> CaseView:
    """The case and its timeline if ``who`` may see it; ``NotFound`` otherwise."""
    row = visible_case(engine, who, case_id)
    records = EventStore(engine).records(case_id)
    return CaseView(
        row=seen_by(who, row),
        records=[_record_seen_by(who, r) for r in records],
        state=fold(case_id, (from_record(r) for r in records)),
    )


def recorded_case_view(who: Principal, case_id: str, records: list[Row]) -> CaseView:
    """The case as ``who`` may see it, from the records of its whole stream as appended
    (a report's answer, without reading the store back): the projection row is the fold of
    those records through the same code as the live projection and its rebuild."""
    state = fold(case_id, [from_record(r) for r in records])
    return CaseView(
        row=seen_by(who, case_row_values(state)),
        records=[_record_seen_by(who, r) for r in records],
    )


# A case's rules are most of its first record (the working calendar) and the same for
# every case of a category and calendar version: a list of cases decodes each text once.
_RULES: dict[str, CaseRules] = {}
_WITHOUT_RULES = [
    EventRow.data.op("-")("rules").label("data") if c is EventRow.data else c for c in EVENT_COLUMNS
]


def _rules(text: str) -> CaseRules:
    found = _RULES.get(text)
    if found is None:
        if len(_RULES) > 1024:
            _RULES.clear()
        found = _RULES[text] = decode(CaseRules, json.loads(text))
    return found


def case_states(engine: Engine, who: Principal, case_ids: list[str]) -> dict[str, CaseState]:
    """The folded state of each of ``case_ids`` that ``who`` may see (one read of their
    logs): what a list needs to offer each row exactly the steps its viewer may take."""
    if not case_ids:
        return {}
    visible = select(C.case_id).where(C.case_id.in_(case_ids), scope(who))
    query = (
        select(*_WITHOUT_RULES, EventRow.data["rules"].astext.label("rules"))
        .where(EventRow.case_id.in_(visible))
        .order_by(EventRow.case_id, EventRow.version)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()

    def event(row: Any) -> Event:
        found = row_to_event(row)
        if row.rules is not None and isinstance(found, CaseReported):
            found = dataclasses.replace(found, rules=_rules(row.rules))
        return found

    return {
        case_id: fold(case_id, (event(r) for r in stream))
        for case_id, stream in itertools.groupby(rows, key=lambda r: r.case_id)
    }


@dataclass(frozen=True)
class TimeLeft:
    """The open stage's clock as a person reads it, counted in the unit of its limit on
    the case's own calendar (工作时 in working time, 自然日 in local days, …)."""

    due_at: datetime
    unit: TimeUnit
    left: float  # in ``unit``; negative: overdue by that much
    covered: bool = True  # False: the due day lies outside the case's calendar years

    @property
    def overdue(self) -> bool:
        return self.left < 0

    def amount(self) -> TimeLimit | None:
        """The time left (or overdue) as a limit: "3.5工作时"; None when it is nothing."""
        value = round(abs(self.left), 1)
        return TimeLimit(value, self.unit) if value > 0 else None


def time_left(state: CaseState, now: datetime) -> TimeLeft | None:
    """How long the open stage has until its deadline (None: no clock runs — closed,
    suspended, or a stage without a limit)."""
    due = state.stage_due_at
    if due is None or state.stage is None or not state.stage.is_open or state.suspended:
        return None
    rules = state.rules
    limit = (
        rules.disposal_limit(state.condition)
        if state.stage is Stage.HANDLE
        else rules.stage_limit(state.stage.value)
    )
    unit = limit.unit if limit is not None else TimeUnit.MINUTES
    calendar = rules.working_calendar
    try:
        if now <= due:
            return TimeLeft(due, unit, calendar.elapsed(now, due, unit))
        return TimeLeft(due, unit, -calendar.elapsed(due, now, unit))
    except CalendarNotCovered:
        seconds = (due - now).total_seconds()
        return TimeLeft(due, TimeUnit.MINUTES, seconds / 60, covered=False)


def merge_candidates(
    engine: Engine, who: Principal, case_id: str, *, radius_m: float = 200.0, limit: int = 20
) -> list[Row]:
    """Open cases of the same category within ``radius_m`` of this case's point that
    ``who`` may see, nearest first (each with ``distance_m``): the duplicates a center
    would merge (合并)."""
    me = visible_case(engine, who, case_id)
    if me["lon"] is None or me["lat"] is None:
        return []
    # A box first (index), then the exact distance on a sphere.
    dlat = radius_m / 111_320.0
    dlon = dlat / max(0.01, math.cos(math.radians(me["lat"])))
    query = select(C.__table__).where(
        C.status == "open",
        C.category == me["category"],
        C.case_id != case_id,
        C.lon.between(me["lon"] - dlon, me["lon"] + dlon),
        C.lat.between(me["lat"] - dlat, me["lat"] + dlat),
        scope(who),
    )
    found = []
    with engine.connect() as conn:
        for r in conn.execute(query).mappings():
            distance = distance_m((me["lon"], me["lat"]), (r["lon"], r["lat"]))
            if distance <= radius_m:
                found.append(seen_by(who, dict(r)) | {"distance_m": round(distance, 1)})
    return sorted(found, key=lambda row: (row["distance_m"], row["case_id"]))[:limit]


def notifications(
    engine: Engine,
    who: Principal,
    *,
    case_id: str | None = None,
    undelivered: bool = False,
    limit: int | None = None,
) -> list[Row]:
    """Notices (with their delivery state) of the cases ``who`` may see, oldest first;
    ``undelivered``: only those given up or without a subscriber."""
    query = (
        select(NotificationRow.__table__)
        .where(NotificationRow.case_id.in_(select(C.case_id).where(scope(who))))
        .order_by(NotificationRow.id)
    )
    if case_id is not None:
        query = query.where(NotificationRow.case_id == case_id)
    if undelivered:
        query = query.where(NotificationRow.status.in_(UNDELIVERED))
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
