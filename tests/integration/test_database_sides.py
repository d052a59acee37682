"""Supervision and disposal kept apart by PostgreSQL (监督与处置相分离): each side's role
appends only its side's event types, through the store and through the activity; no role
rewrites the log; each role holds exactly the privileges store/access.py lists; the
mapping type → side follows the step declarations at every migration."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command as alembic
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import DBAPIError
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.worker import Worker

from activities.disposal import DisposalActivities
from activities.supervision import SupervisionActivities
from activities.types import AppendInput, AppendResult
from domain import commands as c
from domain.case import decide, evolve, initial_state
from domain.codec import from_record, to_record
from domain.steps import Side, step_of
from store.access import (
    APPEND_PROJECTIONS,
    GRANTS,
    OWNER_ONLY,
    DatabaseRoles,
    connection_access,
    event_sides,
)
from store.codec import record_to_row_values
from store.db import alembic_config, make_engine, migrate
from store.errors import AppendRefused
from store.event_store import EventStore
from store.models import EventRow
from tests.conftest import ROLES, as_role, new_case_id
from tests.factories import main_line, report
from workers.run import check_database_role

SIDE_ROLES = {"supervision": ROLES.supervision, "disposal": ROLES.disposal}


@pytest.fixture(scope="module")
def role_engines(db_url: str) -> Iterator[dict[str, Engine]]:
    engines = {
        workload: make_engine(as_role(db_url, role), pool_size=2)
        for workload, role in ROLES.by_workload().items()
    }
    yield engines
    for engine in engines.values():
        engine.dispose()


def steps_of(case_id: str, commands: list[c.Command]) -> Iterator[tuple[Side, int, list[dict]]]:
    """(side, expected version, records) of each command, decided one after the other."""
    state, now = initial_state(case_id), datetime.now(UTC)
    for command in commands:
        now += timedelta(minutes=3)
        events = decide(state, command, now)
        yield step_of(command).side, state.version, [to_record(e) for e in events]
        for event in events:
            state = evolve(state, event)


def test_each_side_appends_its_steps_and_the_database_refuses_the_others(
    side_stores: dict[str, EventStore], store: EventStore
) -> None:
    case_id = new_case_id("sides")
    for side, version, records in steps_of(case_id, [report(), *main_line()]):
        other = "disposal" if side is Side.SUPERVISION else "supervision"
        types = [r["type"] for r in records]
        with pytest.raises(AppendRefused) as refused:
            side_stores[other].append(case_id, version, records)
        assert refused.value.wrong_side, refused.value
        assert f"as role {SIDE_ROLES[other]}" in str(refused.value)
        assert "row-level security" in str(refused.value)
        assert len(store.events(case_id)) == version  # nothing of it was written
        outcome = side_stores[side.value].append(case_id, version, records)
        assert outcome.appended == len(types)
    assert store.case(case_id)["status"] == "closed"


def test_a_disposal_workers_case_closed_is_refused(
    side_stores: dict[str, EventStore], store: EventStore
) -> None:
    """The principle's own example: the body that handles a case cannot close it."""
    case_id = new_case_id("close")
    *before, (_, version, closing) = steps_of(case_id, [report(), *main_line()])
    for side, at, records in before:
        side_stores[side.value].append(case_id, at, records)
    assert [r["type"] for r in closing] == ["CaseClosed"]
    with pytest.raises(AppendRefused, match="CaseClosed as role gridcase_disposal"):
        side_stores["disposal"].append(case_id, version, closing)
    assert store.case(case_id)["status"] == "open"


def _insert_raw(engine: Engine, event_type: str) -> None:
    """One row of ``event_type`` straight into the log, rolled back: what the role may."""
    with engine.connect() as conn, conn.begin() as tx:
        conn.execute(
            text(
                "INSERT INTO events (case_id, version, type, schema_version, data, actor_id, "
                "actor_role, occurred_at) VALUES (:case_id, 1, :type, 1, '{}', 'x', 'x', now())"
            ),
            {"case_id": f"raw-{uuid.uuid4().hex[:8]}", "type": event_type},
        )
        tx.rollback()


def test_every_event_type_only_by_its_own_side_and_an_unknown_type_by_none(
    role_engines: dict[str, Engine],
) -> None:
    sides = event_sides()
    assert len(sides) > 30
    for event_type, side in sides.items():
        for workload in ("supervision", "disposal"):
            if workload == side.value:
                _insert_raw(role_engines[workload], event_type)
                continue
            with pytest.raises(DBAPIError, match="row-level security"):
                _insert_raw(role_engines[workload], event_type)
    for workload in ("supervision", "disposal"):
        with pytest.raises(DBAPIError, match="row-level security"):
            _insert_raw(role_engines[workload], "CaseQuietlyForgotten")
    with pytest.raises(DBAPIError, match="permission denied for table events"):
        _insert_raw(role_engines["api"], "CaseClosed")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET data = '{}' WHERE case_id = :case_id",
        "DELETE FROM events WHERE case_id = :case_id",
        "TRUNCATE events",
    ],
)
def test_no_role_may_rewrite_the_log(
    role_engines: dict[str, Engine], store: EventStore, statement: str
) -> None:
    case_id = new_case_id("rewrite")
    (_, _, records), *_ = steps_of(case_id, [report()])
    store.append(case_id, 0, records)
    for engine in role_engines.values():
        # Refused by the grants, before the append-only trigger is even reached.
        with (
            pytest.raises(DBAPIError, match="permission denied for table events"),
            engine.begin() as conn,
        ):
            conn.execute(text(statement), {"case_id": case_id})
    assert len(store.events(case_id)) == 1


def _privileges(engine: Engine, role: str) -> dict[str, set[str]]:
    """What ``role`` holds on each table: table privileges, and column ones as
    "UPDATE (col)" where it holds them on a column only."""
    held: dict[str, set[str]] = {}
    with engine.connect() as conn:
        for table, privilege in conn.execute(
            text(
                "SELECT c.relname, a.privilege_type FROM pg_class c, aclexplode(c.relacl) a "
                "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' "
                "AND a.grantee = CAST(:role AS regrole)"
            ),
            {"role": role},
        ):
            held.setdefault(table, set()).add(privilege)
        for table, column, privilege in conn.execute(
            text(
                "SELECT c.relname, att.attname, a.privilege_type "
                "FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid, "
                "aclexplode(att.attacl) a "
                "WHERE c.relnamespace = 'public'::regnamespace "
                "AND a.grantee = CAST(:role AS regrole)"
            ),
            {"role": role},
        ):
            held.setdefault(table, set()).add(f"{privilege} ({column})")
    return held


def test_each_role_holds_exactly_what_access_py_lists(store: EventStore) -> None:
    for workload, role in ROLES.by_workload().items():
        expected = {table: set(privileges) for table, privileges in GRANTS[workload].items()}
        assert _privileges(store.engine, role) == expected, workload
    for table in APPEND_PROJECTIONS:
        for side in ("supervision", "disposal"):
            assert {"SELECT", "INSERT", "UPDATE"} <= set(GRANTS[side][table])


def test_every_table_has_a_decided_grant(store: EventStore) -> None:
    """A new table is granted to the workloads that use it, or said to be the owner's."""
    with store.engine.connect() as conn:
        tables = set(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        )
    decided = set(OWNER_ONLY).union(*(set(g) for g in GRANTS.values()))
    hint = "grant it in store/access.py (GRANTS, APPEND_PROJECTIONS) or list it in OWNER_ONLY"
    assert tables - decided == set(), hint
    assert decided - tables == set(), "store/access.py names a table the schema lacks"


def test_event_sides_follow_the_declarations_and_only_the_owner_writes_them(
    fresh_db_url: str,
) -> None:
    owner = make_engine(fresh_db_url, pool_size=1)
    try:
        with owner.connect() as conn:
            stored = dict(conn.execute(text("SELECT type, side FROM event_sides")).all())
        assert stored == {t: s.value for t, s in event_sides().items()}
        for role in SIDE_ROLES.values():
            engine = make_engine(as_role(fresh_db_url, role), pool_size=1)
            try:
                for statement in (
                    "UPDATE event_sides SET side = 'disposal'",
                    "INSERT INTO event_sides VALUES ('CaseQuietlyForgotten', 'disposal')",
                    "DELETE FROM event_sides",
                ):
                    with (
                        pytest.raises(DBAPIError, match="permission denied"),
                        engine.begin() as conn,
                    ):
                        conn.execute(text(statement))
            finally:
                engine.dispose()
        # Whatever is changed by hand, the next migration says again what the steps say.
        with owner.begin() as conn:
            conn.execute(text("UPDATE event_sides SET side = 'disposal' WHERE type = 'CaseClosed'"))
            conn.execute(
                text("INSERT INTO event_sides VALUES ('CaseQuietlyForgotten', 'disposal')")
            )
        migrate(fresh_db_url)
        with owner.connect() as conn:
            again = dict(conn.execute(text("SELECT type, side FROM event_sides")).all())
        assert again == stored
    finally:
        owner.dispose()


def test_a_database_with_cases_in_flight_upgrades_and_downgrades(pg_server: object) -> None:
    """A data directory of the release before: its cases go on, each side on its role."""
    name = f"gc_up_{uuid.uuid4().hex[:8]}"
    pg_server.psql(f"CREATE DATABASE {name};")  # type: ignore[attr-defined]
    url = f"postgresql+psycopg://postgres@/{name}?host={pg_server.pgdata}"  # type: ignore[attr-defined]
    alembic.upgrade(alembic_config(url), "0009")
    owner = EventStore(make_engine(url, pool_size=1))
    case_id = new_case_id("inflight")
    steps = list(steps_of(case_id, [report(), *main_line()]))
    # Reported and filed before the upgrade, by that release: its events in its log (this
    # release's append writes tables that schema has not got yet).
    with owner.engine.begin() as conn:
        for _, _, records in steps[:2]:
            conn.execute(
                insert(EventRow),
                [
                    record_to_row_values(r) | {"occurred_at": from_record(r).occurred_at}
                    for r in records
                ],
            )
    migrate(url)
    stores = {
        s: EventStore(make_engine(as_role(url, r), pool_size=1)) for s, r in SIDE_ROLES.items()
    }
    try:
        for side, version, records in steps[2:]:
            stores[side.value].append(case_id, version, records)
        assert owner.case(case_id)["status"] == "closed"
        alembic.downgrade(alembic_config(url), "0009")
        with owner.engine.connect() as conn:
            assert not conn.execute(
                text("SELECT relrowsecurity FROM pg_class WHERE relname = 'events'")
            ).scalar()
        migrate(url)
        assert connection_access(stores["disposal"].engine).sides == {"disposal"}
    finally:
        for s in (*stores.values(), owner):
            s.engine.dispose()


def test_a_worker_says_its_role_and_will_not_start_on_the_other_sides(
    role_engines: dict[str, Engine], store: EventStore
) -> None:
    disposal = connection_access(role_engines["disposal"])
    assert (disposal.role, disposal.sides, disposal.bypasses) == (
        ROLES.disposal,
        {"disposal"},
        False,
    )
    assert disposal.problem_for(Side.DISPOSAL) is None
    assert disposal.problem_for(Side.SUPERVISION) == (
        f"role {ROLES.disposal} may not append supervision events"
    )
    check_database_role("disposal", role_engines["disposal"])
    with pytest.raises(SystemExit, match="the supervision worker cannot append"):
        check_database_role("supervision", role_engines["disposal"])
    with pytest.raises(SystemExit, match="may not append disposal events"):
        check_database_role("disposal", role_engines["api"])
    owner = connection_access(store.engine)  # the superuser: nothing enforced, a warning
    assert owner.bypasses and owner.problem_for(Side.SUPERVISION) is None


# -- through the activity, on a real worker -------------------------------------------


@workflow.defn(sandboxed=False)
class AppendOnce:
    """Schedules one append as the case workflow does (unlimited retries unless refused)."""

    @workflow.run
    async def run(self, name: str, queue: str, inp: AppendInput) -> AppendResult:
        return await workflow.execute_activity(
            name,
            inp,
            task_queue=queue,
            result_type=AppendResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3),
        )


async def _append_on_misconfigured_worker(
    client: Client, activities: list, activity: str, inp: AppendInput
) -> ApplicationError:
    queue = f"misconfigured-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(2) as executor:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[AppendOnce],
            activities=activities,
            activity_executor=executor,
        ):
            with pytest.raises(WorkflowFailureError) as failed:
                await client.execute_workflow(
                    AppendOnce.run,
                    args=[activity, queue, inp],
                    id=f"append-once-{uuid.uuid4().hex[:8]}",
                    task_queue=queue,
                )
    attempt = failed.value.cause
    # Failed at its first attempt: the policy allowed three.
    assert isinstance(attempt, ActivityError), attempt
    assert attempt.retry_state == RetryState.NON_RETRYABLE_FAILURE
    refusal = attempt.cause
    assert isinstance(refusal, ApplicationError), refusal
    return refusal


async def test_through_the_activity_a_refusal_is_clear_and_not_retried(
    client: Client, side_stores: dict[str, EventStore], store: EventStore
) -> None:
    case_id = new_case_id("activity")
    steps = list(steps_of(case_id, [report(), *main_line()]))
    for side, version, records in steps[:-1]:
        side_stores[side.value].append(case_id, version, records)
    _, version, closing = steps[-1]

    # A supervision worker started with the disposal role's credentials: its own check
    # passes CaseClosed (a supervision event), the database refuses it.
    misplaced = SupervisionActivities(side_stores["disposal"])
    refusal = await _append_on_misconfigured_worker(
        client, [misplaced.append], "append_supervision", AppendInput(case_id, version, closing)
    )
    assert refusal.type == "AppendRefused" and refusal.non_retryable
    assert refusal.message.startswith(
        f"case {case_id}: the database refused to append CaseClosed as role {ROLES.disposal}: "
        'new row violates row-level security policy for table "events"'
    )
    assert store.case(case_id)["status"] == "open"

    # And the other way round: a disposal worker on the supervision role signs for nothing.
    other = new_case_id("activity")
    steps = list(steps_of(other, [report(), *main_line()]))
    for side, version, records in steps[:3]:
        side_stores[side.value].append(other, version, records)
    _, version, signed = steps[3]
    assert [r["type"] for r in signed] == ["TaskSignedFor"]
    misplaced_disposal = DisposalActivities(side_stores["supervision"])
    refusal = await _append_on_misconfigured_worker(
        client, [misplaced_disposal.append], "append_disposal", AppendInput(other, version, signed)
    )
    assert (refusal.type, refusal.non_retryable) == ("AppendRefused", True)
    assert f"TaskSignedFor as role {ROLES.supervision}" in refusal.message


def test_roles_must_differ() -> None:
    with pytest.raises(ValueError, match="a role of its own"):
        DatabaseRoles(supervision="gridcase_workers", disposal="gridcase_workers")
