"""The event store on a real PostgreSQL: append, conflicts, idempotent retries, rebuild."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from domain import commands as c
from domain.case import decide, evolve, fold, initial_state
from domain.codec import to_record
from domain.events import Event
from store.db import make_engine
from store.errors import CaseNotFound, ConcurrencyConflict, DataRefused, StoreError
from store.event_store import EventStore, Notice
from store.projections import case_row_values, rebuild_cases
from tests.conftest import new_case_id
from tests.factories import LEADER, T0, main_line, report
from workers.run import activity_engine


def decided(case_id: str, commands: list[c.Command]) -> list[Event]:
    state, now, out = initial_state(case_id), T0, []
    for command in commands:
        now += timedelta(minutes=3)
        for event in decide(state, command, now):
            state = evolve(state, event)
            out.append(event)
    return out


def records(events: list[Event]) -> list[dict]:
    return [to_record(e) for e in events]


def test_append_and_read_back(store: EventStore) -> None:
    case_id = new_case_id()
    events = decided(case_id, [report(), c.FileCase(actor=LEADER)])
    outcome = store.append(case_id, 0, records(events))
    assert (outcome.version, outcome.appended) == (2, 2)
    assert store.events(case_id) == events
    stored = store.records(case_id)
    assert [r["version"] for r in stored] == [1, 2]
    assert stored[0]["position"] < stored[1]["position"]
    row = store.case(case_id)
    assert row["stage"] == "dispatch" and row["status"] == "open" and row["version"] == 2
    assert row["category"] == "E0101" and row["reporter_id"] == "gw-001"
    assert row["stage_due_at"] == events[1].due_at


def test_expected_version_conflict_is_a_clear_error(store: EventStore) -> None:
    case_id = new_case_id()
    events = decided(case_id, [report(), c.FileCase(actor=LEADER)])
    store.append(case_id, 0, records(events[:1]))
    filed = to_record(events[1])
    with pytest.raises(ConcurrencyConflict, match="expected version 0, the stream is at version 1"):
        store.append(case_id, 0, [{**filed, "version": 1}])
    with pytest.raises(ConcurrencyConflict, match="expected version 3"):
        store.append(case_id, 3, [{**filed, "version": 4}])
    assert len(store.events(case_id)) == 1


def test_reappending_the_same_events_is_a_no_op(store: EventStore) -> None:
    case_id = new_case_id()
    events = decided(case_id, [report(), c.FileCase(actor=LEADER)])
    store.append(case_id, 0, records(events[:1]))
    store.append(case_id, 1, records(events[1:]))
    again = store.append(case_id, 1, records(events[1:]))  # a retried activity
    assert (again.version, again.appended) == (2, 0)
    first_again = store.append(case_id, 0, records(events[:1]))
    assert (first_again.version, first_again.appended) == (2, 0)
    assert [r["version"] for r in store.records(case_id)] == [1, 2]


def test_different_content_at_a_taken_version_is_refused(store: EventStore) -> None:
    case_id = new_case_id()
    [reported] = decided(case_id, [report()])
    store.append(case_id, 0, records([reported]))
    [other] = decided(case_id, [report(description="something else entirely")])
    with pytest.raises(ConcurrencyConflict, match="different events are stored"):
        store.append(case_id, 0, records([other]))
    assert store.events(case_id) == [reported]


def test_malformed_appends_write_nothing(store: EventStore) -> None:
    case_id = new_case_id()
    [reported] = decided(case_id, [report()])
    record = to_record(reported)
    with pytest.raises(StoreError, match="appended to"):
        store.append("another-case", 0, [record])
    with pytest.raises(StoreError, match="run on from the expected version"):
        store.append(case_id, 0, [{**record, "version": 2}])
    with pytest.raises(DataRefused, match="cannot be read back: unknown event type"):
        store.append(case_id, 0, [{**record, "type": "CaseTeleported"}])
    # What PostgreSQL itself refuses (a NUL in a text of the JSONB data) is permanent too.
    poisoned = {**record, "data": {**record["data"], "description": "NUL\x00"}}
    with pytest.raises(DataRefused, match="PostgreSQL refused the events"):
        store.append(case_id, 0, [poisoned])
    with pytest.raises(StoreError, match="at least one"):
        store.append(case_id, 0, [])
    assert store.events(case_id) == []
    with pytest.raises(CaseNotFound):
        store.case(case_id)


def test_the_log_refuses_updates_and_deletes(db_url: str, store: EventStore) -> None:
    case_id = new_case_id()
    store.append(case_id, 0, records(decided(case_id, [report()])))
    engine = make_engine(db_url)
    for statement in (
        "UPDATE events SET type = 'X' WHERE case_id = :c",
        "DELETE FROM events WHERE case_id = :c",
        "TRUNCATE events",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement), {"c": case_id})
    engine.dispose()
    assert len(store.events(case_id)) == 1


def test_rebuild_equals_live_projection_and_finds_tampering(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    store = EventStore(engine)
    ids = []
    for i in range(12):
        case_id = new_case_id("rb")
        steps = [report(), *main_line()][: 1 + i % 7]
        events = decided(case_id, steps)
        for event in events:  # one event per append, as the workflow does
            store.append(case_id, event.version - 1, records([event]))
        ids.append(case_id)
    report_ = rebuild_cases(engine)
    assert report_.clean, report_
    assert (report_.cases, report_.events) == (12, sum(1 + i % 7 for i in range(12)))
    with engine.begin() as conn:
        conn.execute(text("UPDATE cases SET stage = 'handle' WHERE case_id = :c"), {"c": ids[0]})
        conn.execute(text("DELETE FROM cases WHERE case_id = :c"), {"c": ids[1]})
    tampered = rebuild_cases(engine)
    assert [(d.case_id, d.column, d.live, d.rebuilt) for d in tampered.differences] == [
        (ids[0], "stage", "handle", "verify")
    ]
    assert tampered.missing == [ids[1]] and not tampered.applied
    split = rebuild_cases(engine, processes=2)  # the same findings, folded in two processes
    assert [(d.case_id, d.column) for d in split.differences] == [(ids[0], "stage")]
    assert (split.missing, split.cases, split.events) == ([ids[1]], 12, tampered.events)
    fixed = rebuild_cases(engine, apply=True, processes=2)
    assert fixed.applied
    assert rebuild_cases(engine).clean
    engine.dispose()


def test_a_failed_write_leaves_nothing_of_the_append(store: EventStore) -> None:
    """Events, projection and notices are one transaction: a notice PostgreSQL refuses
    (a NUL in its JSON) takes the events and the projection row with it."""
    case_id = new_case_id()
    reported = records(decided(case_id, [report()]))
    bad = Notice(1, "stage_overdue", "supervision", "late", {"note": "\u0000"})
    with pytest.raises(DBAPIError, match="unsupported Unicode escape"):
        store.append(case_id, 0, reported, [bad])
    assert store.events(case_id) == []
    with pytest.raises(CaseNotFound):
        store.case(case_id)
    good = Notice(1, "stage_overdue", "supervision", "late", {"note": "fine"})
    assert store.append(case_id, 0, reported, [good]).appended == 1
    assert store.case(case_id)["version"] == 1


def test_concurrent_writers_of_one_stream(store: EventStore) -> None:
    """Two writers at the same expected version: different events, one wins and the
    other is a conflict; the same events, one writes them and the other is a repeat."""
    case_id = new_case_id()
    events = decided(case_id, [report(), c.FileCase(actor=LEADER)])
    store.append(case_id, 0, records(events[:1]))
    rejected = decided(case_id, [report(), c.RejectCase(actor=LEADER, reason="not public")])
    candidates = [records(events[1:]), records(rejected[1:])]
    barrier = threading.Barrier(2)

    def write(batch: list[dict]) -> object:
        barrier.wait()
        try:
            return store.append(case_id, 1, batch).appended
        except ConcurrencyConflict as exc:
            return exc

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(write, candidates))
    assert sorted(type(o).__name__ for o in outcomes) == ["ConcurrencyConflict", "int"]
    winner = candidates[outcomes.index(1)]
    assert store.records(case_id)[1]["type"] == winner[0]["type"]
    assert store.case(case_id) == case_row_values(fold(case_id, store.events(case_id)))

    again = new_case_id()
    same = records(decided(again, [report()]))
    with ThreadPoolExecutor(2) as pool:
        appended = list(pool.map(lambda b: store.append(again, 0, b).appended, [same, same]))
    assert sorted(appended) == [0, 1] and len(store.events(again)) == 1


def test_an_append_survives_the_server_closing_its_connections(fresh_db_url: str) -> None:
    """The activity workers' engine does not ping pooled connections; an append on one
    the server closed (a restart) goes again on a new one, once."""
    engine = activity_engine(fresh_db_url)
    store = EventStore(engine)
    case_id = new_case_id()
    events = decided(case_id, [report(), c.FileCase(actor=LEADER)])
    store.append(case_id, 0, records(events[:1]))
    killer = make_engine(fresh_db_url, pool_size=1)
    with killer.begin() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    assert killed
    assert store.append(case_id, 1, records(events[1:])).appended == 1
    assert [e.type for e in store.events(case_id)] == ["CaseReported", "CaseFiled"]
    killer.dispose()
    engine.dispose()
