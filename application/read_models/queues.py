"""Work queues on the ``cases`` projection: a grid worker's tasks, the center's inbox and a
department's inbox. Each is gated by role, kept within the caller's jurisdiction, and
answers a page of rows (personal data taken out where the caller may not see it) and the
total."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Engine, and_, case, or_, select, true

from application.authz import Use, open_verifications, require, scope
from application.errors import Forbidden, Invalid
from application.read_models.rows import OPEN, C, Page, cases, page
from store.users import Principal


class CenterQueue(StrEnum):
    TO_FILE = "to_file"  # 待立案 (and self-handling to review)
    TO_DISPATCH = "to_dispatch"  # 待派遣
    REQUESTS = "requests"  # a department's extension, return or suspension to decide


class DepartmentQueue(StrEnum):
    TO_SIGN_FOR = "to_sign_for"  # 待签收
    IN_HAND = "in_hand"  # 处置中 (suspended ones included)


def tasks(engine: Engine, who: Principal, limit: int, offset: int) -> Page:
    """A grid worker's verify (核实) and check (核查) tasks, the soonest due first; each row
    has ``task``: verify or check."""
    require(who, Use.TASKS)
    verify = open_verifications(who.user_id)
    mine = true() if who.unbounded else C.grid.in_(who.units)
    check = and_(C.stage == "check", mine)
    task = case((C.stage == "verify", "verify"), else_="check").label("task")
    query = (
        select(C.__table__, task)
        .where(or_(verify, check), scope(who))
        .order_by(C.stage_due_at.asc().nulls_last(), C.case_id)
    )
    return page(engine, who, query, limit, offset)


def center_inbox(
    engine: Engine, who: Principal, queue: CenterQueue, limit: int, offset: int
) -> Page:
    """The centers' work queues, the soonest due first."""
    require(who, Use.CENTER_INBOX)
    if queue is CenterQueue.TO_FILE:
        where = and_(C.status == "open", C.stage.in_(("verify", "review")))
    elif queue is CenterQueue.TO_DISPATCH:
        where = and_(C.status == "open", C.stage == "dispatch")
    else:
        where = and_(C.status.in_(OPEN), C.pending_request != "")
    query = (
        cases()
        .where(where, scope(who))
        .order_by(C.stage_due_at.asc().nulls_last(), C.reported_at, C.case_id)
    )
    return page(engine, who, query, limit, offset)


def inbox_department(who: Principal, department: str) -> str:
    """The department whose inbox ``who`` reads: a handler his own, an admin the one he
    names."""
    if who.role == "handler" and who.units:
        if department and department != who.units[0]:
            raise Forbidden(f"you act for {who.units[0]}", code="not_your_department")
        return who.units[0]
    if not department:
        raise Invalid(
            "an admin names the department whose inbox to read", code="department_required"
        )
    return department


def department_inbox(
    engine: Engine,
    who: Principal,
    department: str,
    queue: DepartmentQueue | None,
    now: datetime,
    limit: int,
    offset: int,
) -> Page:
    """A department's cases to sign for and in hand: overdue first, then by due time.
    ``department`` may be empty for a handler (his own)."""
    require(who, Use.DEPARTMENT_INBOX)
    department = inbox_department(who, department)
    stages: Sequence[str] = ("sign_for", "handle")
    if queue is DepartmentQueue.TO_SIGN_FOR:
        stages = ("sign_for",)
    elif queue is DepartmentQueue.IN_HAND:
        stages = ("handle",)
    overdue_first = case((C.stage_due_at < now, 0), else_=1)
    query = (
        cases()
        .where(
            C.department == department,
            C.status.in_(OPEN),
            C.stage.in_(stages),
            scope(who),
        )
        .order_by(overdue_first, C.stage_due_at.asc().nulls_last(), C.case_id)
    )
    return page(engine, who, query, limit, offset)
