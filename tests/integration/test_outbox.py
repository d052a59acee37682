"""The notification outbox on a real PostgreSQL, delivered to a real HTTP receiver on
127.0.0.1; the drain workflow end to end on a real Temporal dev server. Time is driven by
the clock given to the outbox and the delivery activity, not by sleeping."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session
from temporalio.client import Client

from activities.notify import DeliverInput, NotificationActivities
from application.principals import OPERATOR
from application.read_models import notifications
from domain import commands as c
from domain.case import decide, evolve, initial_state
from domain.codec import to_record
from domain.roles import SYSTEM_ACTOR
from store.db import make_engine
from store.event_store import EventStore, Notice
from store.models import NotificationRow
from store.outbox import (
    InvalidSubscription,
    Outbox,
    SubscriptionExists,
    SubscriptionNotFound,
    audience_matches,
)
from tests.conftest import new_case_id, start_dev_server
from tests.factories import LEADER, T0, report
from tests.integration.helpers import eventually
from workers.run import build_worker
from workflows import client as cases
from workflows.notification_types import DrainInput
from workflows.notifications import DRAIN_WORKFLOW_ID, ensure_drain_running

SECRET = "s3cret-for-tests"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """A webhook receiver: records every POST; answers 500 to the first ``fail_first``."""

    fail_first: int = 0
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append(Received(dict(self.headers.items()), body))
                    failing = receiver.fail_first > 0
                    receiver.fail_first -= failing
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/nobody-listens"


def assert_signed(request: Received, secret: str = SECRET) -> None:
    timestamp = request.headers["X-Gridcase-Timestamp"]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(request.headers["X-Gridcase-Signature"], f"sha256={expected}")


def write_overdue(store: EventStore, case_id: str, audience: str = "supervision") -> None:
    """A report, then its verify stage going overdue with a notice, as notify_overdue does."""
    state = initial_state(case_id)
    reported = decide(state, report(stage_limits={"verify": 60.0}), T0)
    for event in reported:
        state = evolve(state, event)
    store.append(case_id, 0, [to_record(e) for e in reported])
    assert state.stage is not None
    overdue = decide(
        state, c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=state.stage), T0 + timedelta(hours=1)
    )
    records = [to_record(e) for e in overdue]
    notices = [
        Notice(r["version"], "stage_overdue", audience, f"case {case_id} is late", {"n": 1})
        for r in records
    ]
    store.append(case_id, state.version, records, notices)


@pytest.fixture
def engine(fresh_db_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_db_url, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture
def outbox(engine: Engine) -> Outbox:
    return Outbox(engine)


@pytest.fixture
def event_store(engine: Engine) -> EventStore:
    return EventStore(engine)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def clock() -> Clock:
    # Ahead of the database's now(), which stamped the notices as due.
    return Clock(datetime.now(UTC) + timedelta(seconds=1))


def only_notice(event_store: EventStore, case_id: str) -> dict[str, Any]:
    # The table's every column, delivery state too.
    [row] = notifications(event_store.engine, OPERATOR, case_id=case_id)
    return row


@pytest.mark.parametrize(
    ("pattern", "audience", "matches"),
    [
        ("supervision", "supervision", True),
        ("supervision", "supervisions", False),
        ("department:sanitation", "department:sanitation", True),
        ("department:sanitation", "department:roads", False),
        ("department:*", "department:roads", True),
        ("department:*", "departmental", False),
        ("department:*", "supervision", False),
    ],
)
def test_audience_matching(pattern: str, audience: str, matches: bool) -> None:
    assert audience_matches(pattern, audience) is matches


def test_a_notice_written_with_its_event_is_delivered_once_and_signed(
    outbox: Outbox, event_store: EventStore, receiver: Receiver, clock: Clock
) -> None:
    case_id = new_case_id("wh")
    write_overdue(event_store, case_id)
    notice = only_notice(event_store, case_id)
    assert (notice["status"], notice["attempts"]) == ("pending", 0)
    outbox.add_subscription("ops", receiver.url, SECRET, ["supervision"])
    acts = NotificationActivities(outbox, clock=clock)
    sent_at = clock.now

    result = acts.deliver_notifications(DeliverInput(limit=10))
    assert (result.delivered, result.retried, result.failed, result.remaining) == (1, 0, 0, 0)
    clock.advance(3600)  # nothing is due again, however late
    assert acts.deliver_notifications(DeliverInput(limit=10)).delivered == 0

    [request] = receiver.requests
    assert_signed(request)
    assert request.headers["X-Gridcase-Event"] == "stage_overdue"
    assert request.headers["X-Gridcase-Delivery"] == str(notice["id"])
    assert request.headers["X-Gridcase-Timestamp"] == str(int(sent_at.timestamp()))
    body = request.json
    assert body["id"] == notice["id"] and body["case_id"] == case_id
    assert body["kind"] == "stage_overdue" and body["audience"] == "supervision"
    assert body["event_version"] == 2 and body["data"] == {"n": 1}
    delivered = only_notice(event_store, case_id)
    assert delivered["status"] == "delivered" and delivered["attempts"] == 1
    assert delivered["delivered_to"] == ["ops"] and delivered["delivered_at"] is not None
    assert outbox.pending_count() == 0


def test_a_failing_receiver_gets_retries_with_backoff_then_success(
    outbox: Outbox, event_store: EventStore, receiver: Receiver, clock: Clock
) -> None:
    case_id = new_case_id("wh")
    write_overdue(event_store, case_id)
    outbox.add_subscription("ops", receiver.url, SECRET, ["supervision"])
    receiver.fail_first = 3
    acts = NotificationActivities(outbox, clock=clock)

    waits = []
    for _ in range(3):
        failed_at = clock.now
        assert acts.deliver_notifications(DeliverInput()).retried == 1
        notice = only_notice(event_store, case_id)
        assert notice["status"] == "pending" and notice["last_error"] == "ops: HTTP 500"
        waits.append((notice["next_attempt_at"] - failed_at).total_seconds())
        clock.now = notice["next_attempt_at"] - timedelta(seconds=1)
        assert acts.deliver_notifications(DeliverInput()).retried == 0  # not due yet
        clock.advance(1)
    assert waits == [30, 60, 120]

    assert acts.deliver_notifications(DeliverInput()).delivered == 1
    assert len(receiver.requests) == 4
    assert {r.headers["X-Gridcase-Delivery"] for r in receiver.requests} == {str(notice["id"])}
    for request in receiver.requests:
        assert_signed(request)
    done = only_notice(event_store, case_id)
    assert (done["status"], done["attempts"], done["last_error"]) == ("delivered", 4, None)


def test_a_retry_goes_only_to_subscribers_that_did_not_acknowledge(
    outbox: Outbox, event_store: EventStore, receiver: Receiver, clock: Clock
) -> None:
    flaky = Receiver(fail_first=1).start()
    try:
        case_id = new_case_id("wh")
        write_overdue(event_store, case_id, audience="department:sanitation")
        outbox.add_subscription("steady", receiver.url, SECRET, ["department:sanitation"])
        outbox.add_subscription("flaky", flaky.url, "other-secret", ["department:*"])
        acts = NotificationActivities(outbox, clock=clock)
        assert acts.deliver_notifications(DeliverInput()).retried == 1
        assert only_notice(event_store, case_id)["delivered_to"] == ["steady"]
        clock.advance(30)
        assert acts.deliver_notifications(DeliverInput()).delivered == 1
        assert len(receiver.requests) == 1 and len(flaky.requests) == 2
        assert_signed(flaky.requests[-1], "other-secret")
        assert only_notice(event_store, case_id)["delivered_to"] == ["flaky", "steady"]
    finally:
        flaky.stop()


def test_giving_up_leaves_the_notice_failed_and_visible_until_retried(
    outbox: Outbox, event_store: EventStore, receiver: Receiver, clock: Clock
) -> None:
    case_id = new_case_id("wh")
    write_overdue(event_store, case_id)
    outbox.add_subscription("down", closed_port_url(), SECRET, ["supervision"])
    acts = NotificationActivities(outbox, clock=clock, max_attempts=3)
    outcomes = []
    for _ in range(3):
        result = acts.deliver_notifications(DeliverInput())
        outcomes.append((result.retried, result.failed))
        clock.advance(3600)
    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    [failed] = outbox.failed(10)
    assert failed["case_id"] == case_id and failed["status"] == "failed"
    assert failed["attempts"] == 3 and "ConnectionRefusedError" in failed["last_error"]
    assert outbox.pending_count() == 0
    assert acts.deliver_notifications(DeliverInput()).failed == 0  # given up: not retried

    # Someone fixes the receiver and retries the notice by hand.
    outbox.deactivate("down")
    outbox.add_subscription("up", receiver.url, SECRET, ["supervision"])
    assert outbox.retry_failed([failed["id"], 999_999]) == [failed["id"]]
    retried = only_notice(event_store, case_id)
    assert (retried["status"], retried["attempts"]) == ("pending", 0)
    assert acts.deliver_notifications(DeliverInput()).delivered == 1
    assert len(receiver.requests) == 1 and outbox.failed(10) == []


def test_a_notice_nobody_subscribes_to_is_kept_as_no_subscriber(
    outbox: Outbox, event_store: EventStore, receiver: Receiver, clock: Clock
) -> None:
    case_id = new_case_id("wh")
    write_overdue(event_store, case_id, audience="department:roads")
    outbox.add_subscription("ops", receiver.url, SECRET, ["supervision", "department:sanitation"])
    outbox.add_subscription("old", receiver.url, SECRET, ["department:*"])
    outbox.deactivate("old")  # an inactive subscription does not count
    acts = NotificationActivities(outbox, clock=clock)
    assert acts.deliver_notifications(DeliverInput()).no_subscriber == 1
    [kept] = outbox.failed(10)
    assert kept["status"] == "no_subscriber" and "department:roads" in kept["last_error"]
    assert receiver.requests == []

    outbox.add_subscription("old", receiver.url, SECRET, ["department:*"])  # back again
    assert [s.name for s in outbox.subscribers_for("department:roads")] == ["old"]
    assert outbox.retry_failed() == [kept["id"]]
    assert acts.deliver_notifications(DeliverInput()).delivered == 1
    assert receiver.requests[0].json["case_id"] == case_id


def test_subscriptions_are_validated_and_names_unique(outbox: Outbox) -> None:
    outbox.add_subscription("a", "https://example.org/h", "not-in-repr", ["supervision"])
    with pytest.raises(SubscriptionExists):
        outbox.add_subscription("a", "https://example.org/other", "k", ["supervision"])
    for url, audiences in (
        ("file:///etc/passwd", ["x"]),
        ("https://e.org", []),
        ("https://e.org", ["*"]),
    ):
        with pytest.raises(InvalidSubscription):
            outbox.add_subscription("b", url, "k", audiences)
    with pytest.raises(SubscriptionNotFound):
        outbox.deactivate("nope")
    [sub] = outbox.list_subscriptions()
    assert sub.active and sub.audiences == ("supervision",) and "not-in-repr" not in repr(sub)


def _insert_notices(engine: Engine, count: int) -> list[int]:
    rows = [
        {
            "case_id": f"c-{i}",
            "event_version": 1,
            "kind": "stage_overdue",
            "audience": "x",
            "message": "m",
            "data": {},
        }
        for i in range(count)
    ]
    with Session(engine) as session, session.begin():
        return list(session.scalars(insert(NotificationRow).returning(NotificationRow.id), rows))


def test_concurrent_claimers_never_get_the_same_notice(outbox: Outbox, engine: Engine) -> None:
    ids = _insert_notices(engine, 300)
    now = datetime.now(UTC) + timedelta(seconds=1)
    start = threading.Barrier(4)

    def drain() -> list[int]:
        start.wait()
        got: list[int] = []
        while batch := outbox.claim(7, now):
            got.extend(d.id for d in batch)
        return got

    with ThreadPoolExecutor(4) as pool:
        claimed = list(pool.map(lambda _: drain(), range(4)))
    every = [i for got in claimed for i in got]
    assert len(every) == len(set(every)) == 300 and set(every) == set(ids)


def test_a_locked_notice_is_skipped_and_a_lapsed_lease_is_claimed_again(
    outbox: Outbox, engine: Engine
) -> None:
    first, second = _insert_notices(engine, 2)
    now = datetime.now(UTC) + timedelta(seconds=1)
    with engine.connect() as other, other.begin():
        # Another drainer mid-claim holds the first row: skipped, not waited for.
        other.execute(text("SELECT id FROM notifications WHERE id = :id FOR UPDATE"), {"id": first})
        assert [d.id for d in outbox.claim(10, now)] == [second]
    assert [d.id for d in outbox.claim(10, now)] == [first]
    assert outbox.claim(10, now + outbox.lease - timedelta(seconds=1)) == []
    # The drainer holding them died: once the lease lapses they are due again.
    lapsed = outbox.claim(10, now + outbox.lease + timedelta(seconds=1))
    assert sorted(d.id for d in lapsed) == [first, second]


@pytest.fixture(scope="module")
async def own_temporal() -> AsyncIterator[Client]:
    """A dev server of this module's own: the session's workers poll the same task queue
    names against another database."""
    env = await start_dev_server()
    yield env.client
    await env.shutdown()


async def test_the_drain_workflow_delivers_an_overdue_notice_end_to_end(
    own_temporal: Client, fresh_db_url: str, receiver: Receiver
) -> None:
    client = own_temporal
    engine = make_engine(fresh_db_url, pool_size=8)
    store, outbox = EventStore(engine), Outbox(engine)
    outbox.add_subscription("ops", receiver.url, SECRET, ["supervision"])
    executor = ThreadPoolExecutor(16)
    cases_worker = build_worker("cases", client)
    supervision_worker = build_worker("supervision", client, store, executor)
    drain_input = DrainInput(interval_seconds=0.3, iterations_per_run=3)
    try:
        async with cases_worker, supervision_worker:
            handle = await ensure_drain_running(client, drain_input)
            again = await ensure_drain_running(client)
            assert handle.id == again.id == DRAIN_WORKFLOW_ID
            assert again.result_run_id == handle.result_run_id  # one drain, not two

            case_id = new_case_id("e2e")
            await cases.report_case(
                client, case_id, report(stage_limits={"verify": 1.0}), datetime.now(UTC)
            )

            def overdue_requests() -> list[Received]:
                return [r for r in receiver.requests if r.json["kind"] == "stage_overdue"]

            [request] = await eventually(overdue_requests)
            assert_signed(request)
            assert request.json["case_id"] == case_id

            def all_delivered() -> list[dict[str, Any]]:
                rows = notifications(store.engine, OPERATOR, case_id=case_id)
                return rows if all(n["status"] == "delivered" for n in rows) else []

            # Every notice of the case (a warning may precede the overdue one) is delivered.
            notices = await eventually(all_delivered)
            sent = [r.headers["X-Gridcase-Delivery"] for r in receiver.requests]
            assert sorted(sent) == sorted(str(n["id"]) for n in notices)
            await cases.act(client, case_id, c.FileCase(actor=LEADER))  # the case goes on

            # The loop keeps its history small by continuing as new; nothing is sent twice.
            async def current_run() -> str | None:
                return (await client.get_workflow_handle(DRAIN_WORKFLOW_ID).describe()).run_id

            first_run = handle.result_run_id
            for _ in range(60):
                if await current_run() != first_run:
                    break
                await asyncio.sleep(0.25)
            assert await current_run() != first_run
            sent = [r.headers["X-Gridcase-Delivery"] for r in receiver.requests]
            assert len(sent) == len(set(sent))  # nothing sent twice
            await client.get_workflow_handle(DRAIN_WORKFLOW_ID).terminate("test over")
    finally:
        executor.shutdown()
        engine.dispose()
