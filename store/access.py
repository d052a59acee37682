"""Who may do what in the database, said once: the role of each workload, the side of each
event type, and every privilege a role holds. ``store.db.migrate`` applies it after the
schema migrations, every time (``apply``); deploy/k8s/base/files/grants.sql is its text
(``render_sql``, compared by a test).

Supervision and disposal are kept apart by PostgreSQL itself (监督与处置相分离): each side's
worker connects as its own role, row-level security on ``events`` lets a role insert only
the event types its side's steps emit, and the mapping type → side (``event_sides``) is
synchronised from the step declarations (``domain.steps``) at every migration, writable by
the owner alone. The table owner and superusers bypass row-level security: migrations and
administration run as them, never a worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import structlog
from sqlalchemy import Connection, Engine, text

from domain.steps import STEPS, Side
from store.errors import StoreError

log = structlog.get_logger(__name__)

# Tables an append writes besides ``events``, in the same transaction: the projections
# kept with the log. Each side's role may SELECT, INSERT and UPDATE them (an upsert). A
# projection written on every append needs its name here, nothing else.
APPEND_PROJECTIONS: tuple[str, ...] = ("cases", "kpi_facts")

READ = ("SELECT",)
UPSERT = ("SELECT", "INSERT", "UPDATE")
READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")

# What both sides' workers need (store/event_store.py::append, the calendar at start).
_SIDE: dict[str, tuple[str, ...]] = {
    # the stream is read under the case's lock; INSERT passes only the side's event
    # types (the policy below); no UPDATE, DELETE or TRUNCATE (the trigger refuses them too)
    "events": ("SELECT", "INSERT"),
    "event_sides": READ,  # the INSERT policy reads it as the inserting role
    **{table: UPSERT for table in APPEND_PROJECTIONS},
    # notices written with the events that cause them; the ORM's bulk insert returns
    # their ids (RETURNING id), which needs SELECT on that column
    "notifications": ("INSERT", "SELECT (id)"),
    # each worker logs at start what the working calendar covers (store/calendar.py)
    "reference_versions": READ,
    "calendar_years": READ,
    # a person's step records its request (idempotency key, fingerprint, answer) with its
    # events, in the same transaction; the first answer stands (ON CONFLICT DO NOTHING)
    "step_requests": ("INSERT",),
}

_REFERENCE = (
    "departments",
    "major_classes",
    "categories",
    "org_units",
    "responsibility_grids",
    "grid_workers",
    "routing_rules",
    "reference_versions",
    "calendar_years",
)

# Every privilege of every workload's role, per table; column privileges as "UPDATE (col)".
GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "supervision": _SIDE
    | {
        # the notification drain (activities/notify.py, store/outbox.py): claim due
        # notices FOR UPDATE SKIP LOCKED, mark them, count what is left
        "notifications": ("SELECT", "INSERT", "UPDATE"),
        "webhook_subscriptions": READ,
    },
    "disposal": dict(_SIDE),
    # The HTTP API and the web pages read cases, the log and reference data, and keep
    # their own bookkeeping; every change of a case goes through its workflow, so the API
    # never writes the log or the projection.
    "api": {
        "events": READ,
        "cases": READ,
        "kpi_facts": READ,  # evaluation (store/kpi.py)
        "notifications": READ,
        **{table: READ for table in _REFERENCE},
        "users": ("SELECT", "UPDATE (password_hash)"),  # a hash of older parameters, renewed
        "user_units": READ,
        # When a token was last used; the mobile app's sign-in issues a token and its
        # sign-out revokes it (web.mobile.auth).
        "api_tokens": ("SELECT", "INSERT", "UPDATE (last_used_at)", "UPDATE (revoked_at)"),
        "api_clients": READ,  # Open311 keys
        "web_sessions": READ_WRITE,
        "sign_in_throttle": READ_WRITE,
        "photos": ("SELECT", "INSERT"),
        "step_requests": READ,  # a repeated key answered from its first answer
    },
}
# Tables only the owner touches (migrations, `gridcase` administration).
OWNER_ONLY: tuple[str, ...] = ("alembic_version",)

SIDES: dict[str, Side] = {side.value: side for side in Side}
APPEND_POLICY = "events_append_{side}"


@dataclass(frozen=True)
class DatabaseRoles:
    """The login (or group) roles of the workloads: GRIDCASE_DB_*_ROLE."""

    supervision: str = "gridcase_supervision"
    disposal: str = "gridcase_disposal"
    api: str = "gridcase_api"

    def __post_init__(self) -> None:
        names = list(self.by_workload().values())
        if len(set(names)) != len(names):
            raise ValueError(f"each workload needs a role of its own, got {names}")

    def by_workload(self) -> dict[str, str]:
        return {"supervision": self.supervision, "disposal": self.disposal, "api": self.api}

    def of_side(self, side: Side) -> str:
        return self.by_workload()[side.value]


class MissingRoles(StoreError):
    def __init__(self, names: Iterable[str], who: str) -> None:
        listed = ", ".join(sorted(names))
        super().__init__(
            f"database roles {listed} do not exist and {who} may not create them: run "
            "deploy/k8s/base/files/roles.sql as an administrator first, or name existing "
            "roles with GRIDCASE_DB_SUPERVISION_ROLE / GRIDCASE_DB_DISPOSAL_ROLE / "
            "GRIDCASE_DB_API_ROLE"
        )


def event_sides() -> dict[str, Side]:
    """Each event type and the side that records it, from the step declarations."""
    return {emitted.event.__name__: step.side for step in STEPS for emitted in step.emits}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sync_event_sides(conn: Connection) -> None:
    """Make ``event_sides`` say exactly what the declarations say."""
    sides = event_sides()
    rows = ", ".join(f"({_literal(t)}, {_literal(s.value)})" for t, s in sorted(sides.items()))
    conn.execute(
        text(
            f"INSERT INTO event_sides (type, side) VALUES {rows} "
            "ON CONFLICT (type) DO UPDATE SET side = excluded.side "
            "WHERE event_sides.side IS DISTINCT FROM excluded.side"
        )
    )
    conn.execute(
        text("DELETE FROM event_sides WHERE NOT (type = ANY(:types))"), {"types": list(sides)}
    )


def grant_statements(roles: DatabaseRoles) -> list[str]:
    """Everything each role holds, from nothing: revoke all, then grant what GRANTS lists,
    and the per-side INSERT policies on ``events``."""
    by_workload = {w: _quote(r) for w, r in roles.by_workload().items()}
    everyone = ", ".join(by_workload.values())
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {everyone}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {everyone}",
        f"GRANT USAGE ON SCHEMA public TO {everyone}",
    ]
    for workload, tables in GRANTS.items():
        for table, privileges in tables.items():
            statements.append(
                f"GRANT {', '.join(privileges)} ON {table} TO {by_workload[workload]}"
            )
    for side in Side:
        policy = APPEND_POLICY.format(side=side.value)
        statements += [
            f"DROP POLICY IF EXISTS {policy} ON events",
            f"CREATE POLICY {policy} ON events FOR INSERT TO {_quote(roles.of_side(side))} "
            "WITH CHECK (EXISTS (SELECT 1 FROM event_sides s "
            f"WHERE s.type = events.type AND s.side = {_literal(side.value)}))",
        ]
    return statements


def _missing_roles(conn: Connection, roles: DatabaseRoles) -> set[str]:
    wanted = list(roles.by_workload().values())
    found = conn.execute(
        text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)"), {"names": wanted}
    ).scalars()
    return set(wanted) - set(found)


def ensure_roles(conn: Connection, roles: DatabaseRoles) -> None:
    """Create the missing roles (LOGIN, no password) when the connected role may; else
    ``MissingRoles``. Production creates them with passwords beforehand (roles.sql)."""
    missing = _missing_roles(conn, roles)
    if not missing:
        return
    who, may = conn.execute(
        text(
            "SELECT current_user, rolsuper OR rolcreaterole FROM pg_roles "
            "WHERE rolname = current_user"
        )
    ).one()
    if not may:
        raise MissingRoles(missing, who)
    for name in sorted(missing):
        # Roles are cluster-wide: another database's migration may create it meanwhile.
        conn.execute(
            text(
                "DO $$ BEGIN CREATE ROLE " + _quote(name) + " LOGIN; "
                "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
        )
        log.info("database_role_created", role=name)


def apply(conn: Connection, roles: DatabaseRoles) -> None:
    """The event sides, the roles and their privileges, in the caller's transaction."""
    # Two migrations at once would interleave their revokes and grants.
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gridcase.access'))"))
    sync_event_sides(conn)
    ensure_roles(conn, roles)
    for statement in grant_statements(roles):
        conn.execute(text(statement))
    log.info("database_access_applied", **roles.by_workload())


def render_sql(roles: DatabaseRoles | None = None) -> str:
    """The privileges ``apply`` grants, as a psql script (deploy/k8s/base/files/grants.sql)."""
    roles = roles or DatabaseRoles()
    body = ";\n".join(grant_statements(roles))
    return (
        "-- GENERATED by `gridcase migrate --print-grants` from store/access.py: do not edit.\n"
        "-- `gridcase migrate` applies exactly this after the schema migrations, as the owner,\n"
        "-- in their transaction, with event_sides synchronised from the step declarations;\n"
        "-- it is here to be read and reviewed. tests/unit/test_deploy_files.py keeps it current.\n"
        "\\set ON_ERROR_STOP on\n"
        "BEGIN;\n"
        f"{body};\n"
        "COMMIT;\n"
    )


# -- what a worker's connection may do ------------------------------------------------


@dataclass(frozen=True)
class ConnectionAccess:
    """What the database lets a connection append to ``events``."""

    role: str
    bypasses: bool  # superuser, BYPASSRLS or owner of events: nothing is enforced
    sides: frozenset[str]  # the sides whose INSERT policy applies to the role
    missing_types: Mapping[str, tuple[str, ...]]  # per side, declared types not in event_sides

    def problem_for(self, side: Side) -> str | None:
        """Why a worker of ``side`` would fail or not be held to its side; None when fine."""
        if self.missing_types.get(side.value):
            return (
                f"event types {', '.join(self.missing_types[side.value])} have no side in "
                "the database: run `gridcase migrate` with this release first"
            )
        if self.bypasses:
            return None
        if side.value not in self.sides:
            return f"role {self.role} may not append {side.value} events"
        return None


def connection_access(engine: Engine) -> ConnectionAccess:
    with engine.connect() as conn:
        role, bypasses = conn.execute(
            text(
                "SELECT current_user, r.rolsuper OR r.rolbypassrls "
                "OR pg_has_role(current_user, c.relowner, 'USAGE') "
                "FROM pg_roles r, pg_class c "
                "WHERE r.rolname = current_user AND c.oid = 'events'::regclass"
            )
        ).one()
        sides = set()
        for side in Side:
            member = conn.execute(
                text(
                    "SELECT bool_or(CASE WHEN r = 'public' THEN true "
                    "ELSE pg_has_role(current_user, r, 'USAGE') END) "
                    "FROM pg_policies, unnest(roles) AS r "
                    "WHERE schemaname = current_schema() AND tablename = 'events' "
                    "AND policyname = :policy"
                ),
                {"policy": APPEND_POLICY.format(side=side.value)},
            ).scalar()
            if member:
                sides.add(side.value)
        readable = conn.execute(
            text("SELECT has_table_privilege(current_user, 'event_sides', 'SELECT')")
        ).scalar()
        # A role that cannot read the sides passes no INSERT policy anyway.
        recorded = (
            {t: s for t, s in conn.execute(text("SELECT type, side FROM event_sides"))}
            if readable
            else None
        )
    declared = event_sides()
    if recorded is None:
        return ConnectionAccess(role, bool(bypasses), frozenset(sides), {})
    missing = {
        side.value: tuple(
            sorted(t for t, s in declared.items() if s is side and recorded.get(t) != s.value)
        )
        for side in Side
    }
    return ConnectionAccess(role, bool(bypasses), frozenset(sides), missing)
