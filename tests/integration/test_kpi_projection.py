"""The ``kpi_facts`` projection: written with every append, rebuildable from the log, and
aggregated in SQL to exactly what the pure domain computation gives.

The property: on random months of random cases (the walk of test_kpi_month.py, appended
in pieces as a workflow would), ``store.kpi.evaluate`` (SQL over the projection) equals
``domain.kpi.evaluate_facts`` over the facts folded from every stream of the log, for every
kind of object, by month, week and day, with and without ``as_of``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from domain.codec import to_record
from domain.kpi import ObjectKind, PeriodKind, evaluate_facts, periods_between
from domain.kpi_facts import CaseFacts, case_facts
from store.codec import EVENT_COLUMNS, row_to_event
from store.db import make_engine
from store.event_store import EventStore
from store.kpi import evaluate
from store.models import Base, EventRow
from store.projections import rebuild_cases
from tests.conftest import new_database
from tests.integration.test_kpi_month import simulate

pytestmark = pytest.mark.integration

CST = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def kpi_store(pg_server: object) -> Iterator[EventStore]:
    engine = make_engine(new_database(pg_server, f"gc_kpi_{uuid.uuid4().hex[:12]}"))
    yield EventStore(engine)
    engine.dispose()


def append_random_cases(store: EventStore, seed: int, cases: int, first: datetime) -> None:
    rng = random.Random(seed)
    for n in range(cases):
        start = first + timedelta(minutes=rng.uniform(0, 34 * 24 * 60))
        events = simulate(rng, f"p{seed}-{n:03d}", start)
        # In pieces, as a workflow appends them (each append rewrites the case's facts).
        cuts = sorted({rng.randint(1, len(events)) for _ in range(rng.randint(1, 3))})
        done = 0
        for cut in [*cuts, len(events)]:
            if cut > done:
                store.append(events[0].case_id, done, [to_record(e) for e in events[done:cut]])
                done = cut


def folded_facts(store: EventStore) -> list[CaseFacts]:
    """The reference: every stream of the log folded by the domain."""
    query = select(*EVENT_COLUMNS).order_by(EventRow.case_id, EventRow.version)
    with Session(store.engine) as session:
        rows = session.execute(query).all()
    found = []
    for _, stream in groupby(rows, key=lambda r: r.case_id):
        facts = case_facts(row_to_event(r) for r in stream)
        assert facts is not None
        found.append(facts)
    return found


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=0, max_value=10**6),
    cases=st.integers(min_value=30, max_value=90),
    month=st.sampled_from([(2026, 3), (2026, 6), (2026, 10), (2027, 1)]),
    cut=st.floats(min_value=0.0, max_value=1.0),
)
def test_kpi_from_the_projection_equals_kpi_from_the_fold(
    kpi_store: EventStore, seed: int, cases: int, month: tuple[int, int], cut: float
) -> None:
    first = datetime(*month, 1, tzinfo=CST) - timedelta(days=3)
    append_random_cases(kpi_store, seed, cases, first)
    facts = folded_facts(kpi_store)
    start = datetime(*month, 1, tzinfo=CST)
    for period_kind, end in (
        (PeriodKind.MONTH, None),
        (PeriodKind.WEEK, start + timedelta(days=31)),
        (PeriodKind.DAY, start + timedelta(days=6)),
    ):
        last = end or start
        periods = periods_between(period_kind, start, max(last, start), CST)
        window = (periods[0].start, periods[-1].end)
        as_of_choices = [None, window[0] + (window[1] - window[0]) * cut]
        for object_kind in ObjectKind:
            for as_of in as_of_choices:
                table = evaluate(
                    kpi_store.engine, period_kind, start, end, object_kind, as_of=as_of
                )
                reference = evaluate_facts(
                    facts,
                    period_kind=period_kind,
                    start=window[0],
                    end=window[1],
                    object_kind=object_kind,
                    tz=CST,
                    as_of=as_of,
                )
                assert table.rows == reference, (period_kind, object_kind, as_of)


def test_the_projection_rebuilds_from_the_log_and_matches_its_migration(
    kpi_store: EventStore,
) -> None:
    append_random_cases(kpi_store, seed=99, cases=40, first=datetime(2026, 11, 1, tzinfo=CST))
    report = rebuild_cases(kpi_store.engine)
    assert report.clean, (report.kpi_missing, report.kpi_extra, report.differences[:5])
    with kpi_store.engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM kpi_facts")).scalar_one()
        cases = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        assert count == cases == report.cases
        # A lost write shows in the comparison, and --apply repairs it.
        conn.execute(text("UPDATE kpi_facts SET disposal_on_time = NOT disposal_on_time"))
        conn.execute(text("DELETE FROM kpi_facts WHERE case_id = 'p99-000'"))
        conn.commit()
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert not [d for d in diffs if "kpi_facts" in repr(d)], diffs
    broken = rebuild_cases(kpi_store.engine)
    assert broken.kpi_missing == ["p99-000"]
    assert {d.column for d in broken.differences} == {"kpi_facts.disposal_on_time"}
    assert rebuild_cases(kpi_store.engine, apply=True).applied
    assert rebuild_cases(kpi_store.engine).clean
