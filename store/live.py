"""Case changes as PostgreSQL announces them (LISTEN on ``gridcase_cases``).

Migration 0010 puts a trigger on the ``cases`` projection: each write of a row, in the
transaction that appends the case's events, sends a NOTIFY carrying ids only (case,
version, grid, the department now and before). PostgreSQL delivers it when that
transaction commits, to every session listening, in commit order; nothing is sent for a
transaction that rolls back. ``changes`` is one such session: an async iterator over the
changes, which ends with an error when the connection is lost (the caller reconnects and
must assume it missed some).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg
from sqlalchemy import Engine

CHANNEL = "gridcase_cases"


@dataclass(frozen=True)
class CaseChange:
    """A case's projection row was written: where it is and who held it."""

    case_id: str
    version: int
    grid: str
    # The department holding the case after the write, and before it (a return or a
    # re-dispatch moves a case out of one department's inbox): the non-empty ones.
    departments: frozenset[str]


def parse(payload: str) -> CaseChange | None:
    """The change a notification announces; None for a payload that is not one."""
    try:
        data = json.loads(payload)
        return CaseChange(
            case_id=str(data["case"]),
            version=int(data["version"]),
            grid=str(data["grid"]),
            departments=frozenset(d for d in (data["department"], data["was"]) if d),
        )
    except (ValueError, KeyError, TypeError):
        return None


def conninfo(engine: Engine) -> str:
    """libpq's form of the engine's URL (SQLAlchemy's names its driver)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def changes(dsn: str, *, timeout: float = 30.0) -> AsyncIterator[CaseChange | None]:
    """Changes as they are committed, on a connection of their own: first None once
    listening, then each change, and None again after ``timeout`` seconds without one
    (the connection is checked then). Raises ``psycopg.OperationalError`` when the
    connection is lost."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        yield None
        while True:
            got = False
            async for note in conn.notifies(timeout=timeout):
                got = True
                change = parse(note.payload)
                if change is not None:
                    yield change
            if not got:
                await conn.execute("SELECT 1")  # raises if the server went away
                yield None
