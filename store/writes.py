"""The statements of one append's transaction, sent to PostgreSQL together (psycopg's
pipeline mode) instead of one round trip each: an append's cost on a busy machine is
mostly waiting for the server between statements, not the statements themselves.

Each statement is compiled once from the SQLAlchemy models (the column lists are said
once, in ``store.models``) and run through the psycopg connection underneath the
engine's pool, so a pooled connection, its credentials and its role are the same as for
every other query.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Engine, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

from store.models import EventRow, NotificationRow

_DIALECT = pg_psycopg.dialect()  # type: ignore[no-untyped-call]

Row = Mapping[str, Any]


def compiled(statement: ClauseElement) -> str:
    """The SQL of ``statement`` for psycopg (``%(name)s`` parameters)."""
    return str(statement.compile(dialect=_DIALECT))


def insert_of(table: Any, columns: Sequence[str]) -> Any:
    """``INSERT INTO table (columns) VALUES (%(column)s, …)``, to build on (on conflict)."""
    return pg_insert(table).values({c: bindparam(c) for c in columns})


EVENT_INSERT_COLUMNS = (
    "case_id",
    "version",
    "type",
    "schema_version",
    "data",
    "actor_id",
    "actor_role",
    "actor_unit",
    "occurred_at",
)
INSERT_EVENTS = compiled(insert_of(EventRow, EVENT_INSERT_COLUMNS))
NOTICE_INSERT_COLUMNS = ("case_id", "event_version", "kind", "audience", "message", "data")
INSERT_NOTICES = compiled(
    insert_of(NotificationRow, NOTICE_INSERT_COLUMNS).on_conflict_do_nothing()
)


@dataclass(frozen=True)
class Write:
    """One statement of an append's transaction, run once per row of ``rows``."""

    sql: str
    rows: Sequence[Row]

    def run(self, conn: psycopg.Connection[Any]) -> None:
        params = [_adapted(row) for row in self.rows]
        if len(params) == 1:
            conn.execute(self.sql, params[0])
        elif params:
            conn.cursor().executemany(self.sql, params)


def _adapted(row: Row) -> dict[str, Any]:
    # JSONB values (event data, notice data) go as JSON; psycopg adapts the rest.
    return {k: Jsonb(v) if isinstance(v, dict) else v for k, v in row.items()}


@contextmanager
def driver_connection(engine: Engine) -> Iterator[psycopg.Connection[Any]]:
    """The psycopg connection of a pooled connection of ``engine``, for the pipeline;
    back to the pool afterwards (rolled back if left in a transaction). psycopg's errors
    come out as SQLAlchemy's, as they would from any other query of the store."""
    pooled = engine.raw_connection()
    try:
        conn = pooled.driver_connection
        assert isinstance(conn, psycopg.Connection)
        try:
            yield conn
        except psycopg.Error as exc:
            broken = conn.broken
            if broken:
                pooled.invalidate()
            raise DBAPIError.instance(
                None,
                None,
                exc,
                psycopg.Error,
                connection_invalidated=broken,
                dialect=engine.dialect,
            ) from exc
    finally:
        pooled.close()
