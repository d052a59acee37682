"""`gridcase demo`: the demo district is seeded and a mixed batch runs through the stack."""

from __future__ import annotations

import pytest
from rich.console import Console
from sqlalchemy import text
from temporalio.client import Client

from gridcase.demo import SCENARIOS, run_batch, run_demo
from store.db import make_engine
from tests.integration.helpers import eventually

pytestmark = pytest.mark.usefixtures("workers")


async def test_batch_seeds_the_district_and_runs_every_side_path(
    client: Client, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    console = Console(record=True, width=120)
    done = await run_batch(client, console, size=40, seed=7, drill=False, concurrency=6)
    assert sum(done.values()) == 40, console.export_text()
    assert set(done) <= set(SCENARIOS)
    assert len(done) >= 8  # most side paths are in a batch of 40
    engine = make_engine(db_url, pool_size=1)

    def statuses() -> dict[str, int]:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT status, count(*) FROM cases WHERE description LIKE 'demo %' "
                    "GROUP BY status"
                )
            ).all()
        return {status: n for status, n in rows}

    counts = await eventually(lambda: statuses() if sum(statuses().values()) >= 40 else None)
    assert counts.get("closed", 0) >= done["main_line"]
    assert counts.get("merged", 0) == done.get("merge", 0)
    assert counts.get("rejected", 0) == done.get("reject", 0)
    with engine.connect() as conn:
        seeded = conn.execute(text("SELECT count(*) FROM org_units WHERE level = 'grid'")).scalar()
    assert seeded == 108
    engine.dispose()


async def test_single_demo_case_closes_with_its_timeline(
    client: Client, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    row, records = await run_demo(client, Console(record=True))
    assert row["status"] == "closed"
    types = [r["type"] for r in records]
    assert (types[0], types[-1]) == ("CaseReported", "CaseClosed")
    assert row["condition"]  # filed under a filing condition of its category
