"""Live updates from the database: an append announces its case (ids only) when it
commits, never when it rolls back; a department losing a case hears of it; the hub hands a
change only to viewers who may see the case, and asks everyone to refresh after a lost
connection; ``authz.covers`` agrees with ``authz.scope``."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select, text

from application.authz import covers, scope, scope_key
from application.live import RESYNC, LiveHub
from domain import commands as c
from store.db import make_engine
from store.event_store import EventStore
from store.live import CaseChange, changes, conninfo, parse
from store.models import CaseRow
from store.users import Principal
from tests.conftest import new_case_id
from tests.factories import DEPT, DISPATCHER, LEADER, report
from tests.integration.test_event_store import decided, records


async def _next_change(stream: AsyncIterator[CaseChange | None], case_id: str) -> CaseChange:
    async def find() -> CaseChange:
        async for change in stream:
            if change is not None and change.case_id == case_id:
                return change
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(find(), 10)


async def test_an_append_announces_its_case_when_it_commits(store: EventStore) -> None:
    stream = changes(conninfo(store.engine), timeout=1)
    assert await anext(stream) is None  # listening
    case_id = new_case_id("live")
    events = decided(
        case_id,
        [report(), c.FileCase(actor=LEADER), c.DispatchCase(actor=DISPATCHER, department=DEPT)],
    )
    await asyncio.to_thread(store.append, case_id, 0, records(events[:2]))
    first = await _next_change(stream, case_id)
    assert (first.version, first.grid, first.departments) == (2, "410105001001001", frozenset())
    await asyncio.to_thread(store.append, case_id, 2, records(events[2:]))
    dispatched = await _next_change(stream, case_id)
    assert dispatched.version == 3 and dispatched.departments == {DEPT}

    # A transaction that rolls back announces nothing; the next commit is heard alone.
    def rolled_back() -> None:
        with store.engine.connect() as conn, conn.begin() as tx:
            conn.execute(
                text("UPDATE cases SET department = 'roads' WHERE case_id = :c"), {"c": case_id}
            )
            tx.rollback()
        with store.engine.begin() as conn:
            conn.execute(
                text("UPDATE cases SET department = '' WHERE case_id = :c"), {"c": case_id}
            )

    await asyncio.to_thread(rolled_back)
    returned = await _next_change(stream, case_id)
    assert returned.departments == {DEPT}  # the department it left: before the write
    await stream.aclose()


def test_a_payload_that_is_not_a_change_is_ignored() -> None:
    assert parse("not json") is None
    assert parse('{"case": "x"}') is None
    assert parse('{"case":"x","version":1,"grid":"g","department":"","was":"d"}') == CaseChange(
        "x", 1, "g", frozenset({"d"})
    )


def test_a_bulk_loader_may_stay_quiet(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url, pool_size=1)
    try:
        with psycopg.connect(conninfo(engine), autocommit=True) as listener:
            listener.execute("LISTEN gridcase_cases")
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL gridcase.notify = 'off'"))
                conn.execute(insert(CaseRow), [_row("quiet-1", "410105001001001", "")])
            with engine.begin() as conn:
                conn.execute(insert(CaseRow), [_row("loud-1", "410105001001001", "")])
            heard = [parse(n.payload) for n in listener.notifies(timeout=2, stop_after=1)]
        assert [h.case_id for h in heard if h] == ["loud-1"]
    finally:
        engine.dispose()


# -- the hub ------------------------------------------------------------------------------

HANDLER = Principal("h-1", "handler", ("sanitation",))
ROADS = Principal("h-2", "handler", ("municipal_roads",))
SUPERVISOR = Principal("s-1", "supervisor", ("410105002",))
DISPATCHER_P = Principal("d-1", "dispatcher")


class FakeFeed:
    """A hand-written change source: what the test puts in, then a lost connection."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[CaseChange | Exception | None] = asyncio.Queue()
        self.connections = 0

    async def __call__(self, dsn: str) -> AsyncIterator[CaseChange | None]:
        self.connections += 1
        yield None
        while True:
            item = await self.queue.get()
            if isinstance(item, Exception):
                raise item
            yield item


async def test_the_hub_tells_each_viewer_of_his_cases_only() -> None:
    feed = FakeFeed()
    hub = LiveHub("unused", source=feed, backoff_max=0.05)
    boxes = {p.user_id: hub.subscribe(p) for p in (HANDLER, ROADS, SUPERVISOR, DISPATCHER_P)}
    await asyncio.wait_for(hub.connected.wait(), 5)
    await feed.queue.put(CaseChange("a", 3, "410105001001001", frozenset({"sanitation"})))
    await feed.queue.put(CaseChange("b", 2, "410105002001003", frozenset()))
    await feed.queue.put(CaseChange("c", 5, "410105002001003", frozenset({"municipal_roads"})))
    assert await boxes["d-1"].wait(5)
    await asyncio.sleep(0.05)
    assert boxes["d-1"].take() == ["a", "b", "c"]
    assert boxes["h-1"].take() == ["a"]
    assert boxes["h-2"].take() == ["c"]
    assert boxes["s-1"].take() == ["b", "c"]
    assert not await boxes["h-1"].wait(0.05)

    # The connection is lost: the hub reconnects, and everyone refreshes everything.
    await feed.queue.put(psycopg.OperationalError("server closed the connection"))
    assert await boxes["h-2"].wait(5)
    assert boxes["h-2"].take() == [RESYNC]
    assert feed.connections == 2
    hub.unsubscribe(boxes["h-1"])
    await feed.queue.put(CaseChange("d", 1, "410105001001001", frozenset({"sanitation"})))
    await asyncio.sleep(0.1)
    assert "d" not in boxes["h-1"].pending
    await hub.close()


# -- covers agrees with scope ------------------------------------------------------------

GRIDS = ("410105001001001", "410105001002003", "410105002001001", "410105003004002")
DEPARTMENTS = ("", "sanitation", "municipal_roads")
PRINCIPALS = (
    Principal("acc", "acceptor"),
    Principal("adm", "admin"),
    Principal("gw", "grid_worker", (GRIDS[0], GRIDS[1])),
    Principal("h", "handler", ("sanitation",)),
    Principal("h0", "handler", ()),
    Principal("sup", "supervisor", ("410105001",)),
    Principal("lead", "leader", ("410105002001", "410105003")),
    Principal("lead0", "leader", ()),
    Principal("odd", "grid_worker", (), unbounded=True),
)


def _row(case_id: str, grid: str, department: str) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "case_id": case_id,
        "version": 1,
        "status": "open",
        "stage": "handle",
        "category": "E0101",
        "grid": grid,
        "department": department,
        "source": "grid_worker",
        "reporter_id": "someone",
        "description": "",
        "reported_at": now,
        "stage_entered_at": now,
    }


@pytest.fixture(scope="module")
def scope_db(pg_server: object) -> Iterator[Engine]:
    from tests.conftest import new_database

    engine = make_engine(new_database(pg_server, f"gc_scope_{random.randint(0, 10**9)}"))
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL gridcase.notify = 'off'"))
        conn.execute(
            insert(CaseRow),
            [_row(f"{g}-{d or 'none'}", g, d) for g in GRIDS for d in DEPARTMENTS],
        )
    yield engine
    engine.dispose()


@settings(max_examples=30, deadline=None)
@given(who=st.sampled_from(PRINCIPALS))
def test_covers_is_scope_on_one_change(scope_db: Engine, who: Principal) -> None:
    with scope_db.connect() as conn:
        visible = set(conn.execute(select(CaseRow.case_id).where(scope(who))).scalars())
    for g in GRIDS:
        for d in DEPARTMENTS:
            case_id = f"{g}-{d or 'none'}"
            change = CaseChange(case_id, 1, g, frozenset({d} - {""}))
            assert covers(who, change) == (case_id in visible), (who, case_id)


def test_scope_keys_tell_scopes_apart() -> None:
    keys = {p.user_id: scope_key(p) for p in PRINCIPALS}
    assert keys["acc"] == keys["adm"] == keys["odd"] == "all"
    assert len({keys[k] for k in ("gw", "h", "h0", "sup", "lead", "lead0")}) == 6
    assert scope_key(Principal("h9", "handler", ("sanitation",))) == keys["h"]
