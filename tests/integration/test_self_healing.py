"""`gridcase up` heals itself: PostgreSQL and the Temporal dev server killed with SIGKILL
come back on their own data (the same pg directory, the same SQLite file), the workers
reconnect, and a case reported before the kills is stepped through the HTTP API after
them. `gridcase up` runs as a subprocess on free ports with its own GRIDCASE_HOME, as a
user runs it; every wait polls for readiness (generous on a loaded 2-core machine)."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator

import httpx
import pytest

from bench.upstack import Person, UpStack, up_stack

pytestmark = pytest.mark.integration

GRID = "410105001001001"
POINT = {"lon": 113.6355, "lat": 34.8180}


@pytest.fixture(scope="module")
def stack() -> Iterator[UpStack]:
    with up_stack("gc-heal-") as started:
        yield started


def report(stack: UpStack, gw: Person) -> str:
    case_id = f"heal-{uuid.uuid4().hex[:8]}"
    body = {"report_id": case_id, "category": "E0101", "description": "Bin", "location": POINT}
    answer = httpx.post(f"{stack.api}/v1/reports", json=body, headers=gw.headers, timeout=60)
    assert answer.status_code == 201, answer.text
    return case_id


def step(stack: UpStack, who: Person, case_id: str, name: str, body: dict[str, object]) -> str:
    answer = httpx.post(
        f"{stack.api}/v1/cases/{case_id}/{name}", json=body, headers=who.headers, timeout=60
    )
    assert answer.status_code == 200, answer.text
    stage: str = answer.json()["stage"]
    return stage


def test_up_says_it_is_up_only_when_ready(stack: UpStack) -> None:
    # The fixture returned as soon as the line was printed: /readyz must already agree.
    answer = httpx.get(f"{stack.api}/readyz", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ready"


def test_killed_postgres_and_temporal_come_back_and_cases_go_on(stack: UpStack) -> None:
    stack.cli("reference", "seed-demo")
    gw = stack.person("grid_worker", GRID)
    lead, disp = stack.person("shift_leader"), stack.person("dispatcher")
    handler = stack.person("handler", "sanitation")
    before = report(stack, gw)
    assert step(stack, lead, before, "file", {}) == "dispatch"

    postgres = stack.pid("postgres")
    os.kill(postgres, signal.SIGKILL)
    # While it is down (or already back): never a 500.
    during = httpx.get(f"{stack.api}/v1/cases/{before}", headers=lead.headers, timeout=30)
    assert during.status_code in (200, 503), during.text
    if during.status_code == 503:
        assert during.json()["code"] == "database_unavailable" and during.headers["retry-after"]
    stack.restarted("postgres", postgres)
    stack.ready()

    temporal = stack.pid("temporal")
    os.kill(temporal, signal.SIGKILL)
    stack.restarted("temporal", temporal)
    body = stack.ready()
    assert all(check["ok"] for check in body["checks"].values())

    # The case from before both kills goes on (its workflow lives in Temporal's file, its
    # events in PostgreSQL's data directory), and a new one can be reported.
    assert step(stack, disp, before, "dispatch", {}) == "sign_for"
    assert step(stack, handler, before, "sign_for", {}) == "handle"
    after = report(stack, gw)
    assert step(stack, lead, after, "file", {}) == "dispatch"
    shown = httpx.get(f"{stack.api}/v1/cases/{before}", headers=lead.headers, timeout=30)
    assert [e["type"] for e in shown.json()["timeline"]][:4] == [
        "CaseReported",
        "CaseFiled",
        "CaseDispatched",
        "TaskSignedFor",
    ]

    said = stack.output.read_text()
    for child in ("postgres", "temporal"):
        assert f'"child": "{child}"' in said and '"event": "child_restarted"' in said
