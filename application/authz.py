"""Authorization: which roles may use what (the gates), which cases a caller may see (辖区,
jurisdiction), and whose personal data he may read. Every front end goes through these,
so the API and the CLI never differ in what they allow.

Jurisdiction is one SQL condition per principal (``scope``), used by every list and by
every single-case read or action:

- center staff (acceptor, shift leader, dispatcher) and admins: every case;
- a grid worker: cases in the unit grids he patrols, and a case he was sent to verify
  while that verification is his open task (an acceptor may send him just outside his
  grids; he must see the task he was given, and only for as long as it is his);
- a handler: cases now with his department (the projection's ``department``: dispatched
  to it and not returned);
- a supervisor or leader: cases whose grid code starts with one of his area codes
  (district, street or community);
- an unbounded principal (an ad-hoc CLI identity placed nowhere): every case.

A case outside the caller's jurisdiction is answered exactly like a case that does not
exist (``NotFound``), so its existence does not leak.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, exists, false, or_, select, true
from sqlalchemy.orm import aliased

from application.errors import Forbidden, NotFound
from store.auth_models import USER_ROLES
from store.models import CaseRow, EventRow
from store.users import CENTER_ROLES, SUPERVISION_STAFF, Principal

# The supervision and command centers' staff, and admins: the center's queues.
CENTER_STAFF = CENTER_ROLES | {"admin"}


class Use(StrEnum):
    """What a caller asks to do, each gated by role (jurisdiction comes after)."""

    REPORT = "report"  # 上报
    TASKS = "tasks"  # a grid worker's verify and check tasks
    CENTER_INBOX = "center_inbox"
    DEPARTMENT_INBOX = "department_inbox"
    OVERDUE = "overdue"  # the overdue list and its counts
    KPI = "kpi"  # evaluation tables and rankings
    UPLOAD_PHOTO = "upload_photo"


MAY: dict[Use, frozenset[str]] = {
    # A grid worker reports what he finds on patrol; an acceptor what the public brings.
    Use.REPORT: frozenset({"grid_worker", "acceptor"}),
    Use.TASKS: frozenset({"grid_worker"}),
    # Leaders decide suspensions, so they read the request queue too (within their area).
    Use.CENTER_INBOX: CENTER_STAFF | {"leader"},
    Use.DEPARTMENT_INBOX: frozenset({"handler", "admin"}),
    Use.OVERDUE: SUPERVISION_STAFF,
    Use.KPI: SUPERVISION_STAFF,
    # Everyone who reports or acts on cases; an admin administers users and attaches nothing.
    Use.UPLOAD_PHOTO: frozenset(r for r in USER_ROLES if r != "admin"),
}
if set(MAY) != set(Use):  # a new use without a gate would be open to everyone
    raise ImportError(f"application.authz: no gate for {sorted(set(Use) - set(MAY))}")


def require(who: Principal, use: Use) -> Principal:
    """``who`` if his role may ``use``; ``Forbidden`` otherwise."""
    allowed = MAY[use]
    if who.role not in allowed:
        raise Forbidden(f"role {who.role} may not use this; only {', '.join(sorted(allowed))}")
    return who


def open_verifications(user_id: str) -> ColumnElement[bool]:
    """Cases whose open verification (核实) task is ``user_id``'s: at stage verify, the
    verification requested and not recorded yet, and the latest request sent to him (a
    task sent to another worker since is no longer his). Index
    ix_events_verification_assignee finds the requests."""
    later = aliased(EventRow)
    sent_to_him = select(EventRow.case_id).where(
        EventRow.type == "VerificationRequested",
        EventRow.data["assignee"].astext == user_id,
        ~exists().where(
            later.case_id == EventRow.case_id,
            later.type == "VerificationRequested",
            later.version > EventRow.version,
        ),
    )
    return and_(
        CaseRow.stage == "verify",
        CaseRow.verification == "requested",
        CaseRow.case_id.in_(sent_to_him),
    )


def scope(who: Principal) -> ColumnElement[bool]:
    """The condition on ``cases`` rows that ``who`` may see."""
    if who.role in CENTER_STAFF or who.unbounded:
        return true()
    if who.role == "grid_worker":
        mine = open_verifications(who.user_id)
        return or_(CaseRow.grid.in_(who.units), mine) if who.units else mine
    if who.role == "handler":
        return CaseRow.department == who.units[0] if who.units else false()
    if who.role in ("supervisor", "leader") and who.units:
        return or_(*(CaseRow.grid.startswith(unit, autoescape=True) for unit in who.units))
    return false()


def visible_case(engine: Engine, who: Principal, case_id: str) -> dict[str, Any]:
    """The case's projection row if ``who`` may see it; ``NotFound`` otherwise."""
    with engine.connect() as conn:
        row = conn.execute(
            select(CaseRow.__table__).where(CaseRow.case_id == case_id, scope(who))
        ).first()
    if row is None:
        raise NotFound(f"no case {case_id!r}")
    return dict(row._mapping)


def must_redact(who: Principal, person_id: str) -> bool:
    """Whether ``person_id`` (a grid worker: a reporter, an assignee) is hidden from ``who``:
    supervision staff see everyone, a grid worker himself, a handler nobody."""
    return not who.sees_personal_data and person_id != who.user_id
