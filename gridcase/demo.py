"""`gridcase demo`: one case through the main line on the running stack."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from temporalio.client import Client

from domain import commands as c
from domain.events import Location
from domain.roles import Actor, Role
from gridcase.config import Settings
from store.db import make_engine
from store.event_store import EventStore
from workflows import client as cases

GRID = "410105001001001"
DEPARTMENT = "sanitation"


async def run_demo(client: Client, console: Console) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    worker = Actor(id="gw-demo", role=Role.GRID_WORKER, unit=GRID)
    leader = Actor(id="leader-demo", role=Role.SHIFT_LEADER)
    dispatcher = Actor(id="dispatcher-demo", role=Role.DISPATCHER)
    handler = Actor(id="handler-demo", role=Role.HANDLER, unit=DEPARTMENT)
    case_id = f"demo-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
    report = c.ReportCase(
        actor=worker,
        category="E0101",
        grid=GRID,
        description="Exposed garbage piled beside the bus stop (暴露垃圾)",
        location=Location(lon=113.6861, lat=34.7806, address="Demo Rd 1"),
    )
    await cases.report_case(client, case_id, report, datetime.now(UTC))
    console.print(f"reported case {case_id}")
    steps: list[tuple[str, c.Command]] = [
        ("立案 file", c.FileCase(actor=leader, note="meets the filing condition")),
        ("派遣 dispatch", c.DispatchCase(actor=dispatcher, department=DEPARTMENT)),
        ("签收 sign for", c.SignFor(actor=handler)),
        ("处理反馈 feedback", c.SubmitFeedback(actor=handler, result="garbage removed")),
        ("核查 check", c.RecordClosureCheck(actor=worker, passed=True, note="site is clean")),
        ("结案 close", c.CloseCase(actor=leader)),
    ]
    for label, command in steps:
        result = await cases.act(client, case_id, command)
        console.print(f"  {label:<18} -> stage {result.stage} (v{result.version})")
    store = EventStore(make_engine(Settings.from_env().db_url, pool_size=1))
    # The projection is written in the same transaction as the last event, so it is there.
    row, records = await asyncio.to_thread(lambda: (store.case(case_id), store.records(case_id)))
    store.engine.dispose()
    return row, records
