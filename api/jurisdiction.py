"""Which cases a caller may see (辖区): one SQL condition per principal, used by every list
and by every single-case read or action, so the rule lives in one place.

- center staff (acceptor, shift leader, dispatcher) and admins: every case;
- a grid worker: cases in the unit grids he patrols, and cases he was sent to verify
  (an acceptor may send him just outside his grids; he must see the task he was given);
- a handler: cases now with his department (the projection's ``department``: dispatched
  to it and not returned);
- a supervisor or leader: cases whose grid code starts with one of his area codes
  (district, street or community).

A case outside the caller's jurisdiction is answered exactly like a case that does not
exist (404), so its existence does not leak.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Engine, false, or_, select, true

from api.problems import not_found
from store.models import CaseRow, EventRow
from store.users import CENTER_ROLES, Principal


def assigned_verifications(user_id: str) -> Any:
    """Case ids a grid worker was sent to verify (index ix_events_verification_assignee)."""
    return select(EventRow.case_id).where(
        EventRow.type == "VerificationRequested",
        EventRow.data["assignee"].astext == user_id,
    )


def scope(who: Principal) -> ColumnElement[bool]:
    """The condition on ``cases`` rows that ``who`` may see."""
    if who.role in CENTER_ROLES or who.role == "admin":
        return true()
    if who.role == "grid_worker":
        mine = CaseRow.case_id.in_(assigned_verifications(who.user_id))
        return or_(CaseRow.grid.in_(who.units), mine) if who.units else mine
    if who.role == "handler":
        return CaseRow.department == who.units[0] if who.units else false()
    if who.role in ("supervisor", "leader") and who.units:
        return or_(*(CaseRow.grid.startswith(unit, autoescape=True) for unit in who.units))
    return false()


def visible_case(engine: Engine, who: Principal, case_id: str) -> dict[str, Any]:
    """The case's projection row if ``who`` may see it; a 404 problem otherwise."""
    with engine.connect() as conn:
        row = conn.execute(
            select(CaseRow.__table__).where(CaseRow.case_id == case_id, scope(who))
        ).first()
    if row is None:
        raise not_found(f"no case {case_id!r}")
    return dict(row._mapping)
