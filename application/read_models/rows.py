"""What every read model shares: the projection's table, pages, and the rows as a caller
may see them (a grid worker's identity taken out for those who may not read it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, Engine, Select, func, literal_column, select

from application.authz import must_redact
from store.models import CaseRow
from store.users import Principal

Row = dict[str, Any]
Page = tuple[list[Row], int]  # one page of rows, and how many there are in all
C = CaseRow
OPEN = ("open", "suspended")
# The same as a literal condition, written as the partial indexes on live cases have it
# (ix_cases_live_*), so the planner matches them whatever plan it caches.
LIVE: ColumnElement[bool] = literal_column("cases.status IN ('open', 'suspended')", Boolean)


def cases() -> Select[Any]:
    return select(C.__table__)


def seen_by(who: Principal, row: Row) -> Row:
    """The projection row as ``who`` may see it: ``reporter_id`` None and ``redacted``
    True when the reporter's identity is not his to read."""
    redact = must_redact(who, row["reporter_id"])
    return row | {"reporter_id": None if redact else row["reporter_id"], "redacted": redact}


def page(engine: Engine, who: Principal, query: Select[Any], limit: int, offset: int) -> Page:
    """A page of case rows as ``who`` may see them, and the total."""
    rows, total = plain_page(engine, query, limit, offset)
    return [seen_by(who, r) for r in rows], total


def plain_page(engine: Engine, query: Select[Any], limit: int, offset: int) -> Page:
    """A page of rows that name nobody (e.g. counts), and the total."""
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        return [dict(r) for r in rows], int(total.scalar_one())
