"""deploy/'s way on a real PostgreSQL: an administrator runs roles.sql (here with roles of
other names), the migrate Job runs `gridcase migrate` as the owner, who may not create
roles, and each side's role is then held to its events."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from domain.case import decide, evolve, initial_state
from domain.codec import to_record
from domain.steps import Side
from store.access import DatabaseRoles, MissingRoles, connection_access, event_sides
from store.db import make_engine, migrate
from store.errors import AppendRefused
from store.event_store import EventStore
from tests.factories import main_line, report

ROLES_SQL = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "base" / "files" / "roles.sql"


def test_roles_sql_then_migrate_as_the_owner(pg_server: object) -> None:
    tag = uuid.uuid4().hex[:6]
    names = {w: f"gc_{w}_{tag}" for w in ("owner", "supervision", "disposal", "api")}
    psql = [str(pg_server.bin_path / "psql"), "-h", str(pg_server.pgdata), "-U", "postgres"]  # type: ignore[attr-defined]
    variables = [
        arg
        for workload, name in names.items()
        for arg in ("-v", f"{workload}_role={name}", "-v", f"{workload}_password=pw-{tag}")
    ]
    for _ in range(2):  # idempotent: a second run only sets the passwords again
        done = subprocess.run(
            [*psql, "-d", "postgres", *variables, "-f", str(ROLES_SQL)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    owner_url = f"postgresql+psycopg://{names['owner']}@/gridcase?host={pg_server.pgdata}"  # type: ignore[attr-defined]
    roles = DatabaseRoles(names["supervision"], names["disposal"], names["api"])

    with pytest.raises(MissingRoles, match="may not create them: run deploy"):
        migrate(owner_url, DatabaseRoles("gc_nobody_a", "gc_nobody_b", "gc_nobody_c"))
    engine = make_engine(owner_url, pool_size=1)
    with engine.connect() as conn:  # the schema and the grants go in together, or neither
        assert conn.execute(text("SELECT to_regclass('events')")).scalar() is None
    engine.dispose()
    migrate(owner_url, roles)
    migrate(owner_url, roles)

    def store(role: str) -> EventStore:
        return EventStore(make_engine(owner_url.replace(names["owner"], role, 1), pool_size=1))

    supervision, disposal = store(roles.supervision), store(roles.disposal)
    try:
        assert connection_access(disposal.engine).sides == {"disposal"}
        state, now, case_id = initial_state("deploy-1"), datetime.now(UTC), "deploy-1"
        for command in [report(), *main_line()]:
            events = decide(state, command, now)
            records = [to_record(e) for e in events]
            if records[0]["type"] == "CaseClosed":
                with pytest.raises(AppendRefused, match=f"as role {roles.disposal}"):
                    disposal.append(case_id, state.version, records)
            side = event_sides()[records[0]["type"]]
            (disposal if side is Side.DISPOSAL else supervision).append(
                case_id, state.version, records
            )
            for event in events:
                state = evolve(state, event)
        assert supervision.case(case_id)["status"] == "closed"
    finally:
        for s in (supervision, disposal):
            s.engine.dispose()
