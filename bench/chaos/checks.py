"""What must hold once the drive is over and the stack has recovered:

1. every acknowledged step is in its case's log exactly once, no step is there twice, and
   the case's steps are there in the order the harness took them;
2. every stream's versions run 1..n without a gap;
3. the ``cases`` projection equals the fold of the log (``store.projections.rebuild_cases``,
   the logic of `gridcase rebuild-projections`);
4. Temporal agrees with the projection: a running workflow's ``view`` query and search
   attributes equal the case's row, nothing pending on it (no activity retrying, no failing
   workflow task); a case in a final state has a completed workflow;
5. no case is stuck: each is where the harness's plan left it (closed, rejected, cancelled,
   merged, or open at the stage the plan stops at).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, text
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from bench.chaos.driver import CaseRun, recorded
from bench.chaos.plans import TERMINAL
from store.models import CaseRow
from store.projections import rebuild_cases
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow
from workflows.client import workflow_id


@dataclass(frozen=True)
class Violation:
    case_id: str
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.case_id}: {self.detail}"


Events = dict[str, list[tuple[int, str, str, str]]]


def read_log(engine: Engine) -> Events:
    found: Events = defaultdict(list)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT case_id, version, type, actor_role, data::text FROM events ORDER BY 1, 2")
        )
        for case_id, version, kind, role, data in rows:
            found[case_id].append((version, kind, role, data))
    return found


def steps_recorded(runs: list[CaseRun], log: Events) -> list[Violation]:
    """Check 1: acknowledged once, nothing twice, in order."""
    out: list[Violation] = []
    for run in runs:
        events = log.get(run.plan.case_id, [])
        seen: Counter[str] = Counter()
        for result in run.results:
            step = result.step
            if step.marker:
                times = recorded(events, step, 0)
            else:  # the n-th step of this event type must exist and nothing beyond them
                times = 1 if recorded(events, step, seen[step.event]) else 0
            if result.outcome in ("acked", "found"):
                seen[step.event] += 1
            what = f"{step.name} ({step.event}, {step.marker or 'no text'})"
            if result.outcome == "acked" and times == 0:
                out.append(
                    Violation(run.plan.case_id, "lost", f"{what} acknowledged, not in the log")
                )
            if times > 1:
                out.append(Violation(run.plan.case_id, "twice", f"{what} recorded {times} times"))
        expected = [r.step.event for r in run.taken]
        kinds = set(expected)
        actual = [kind for _, kind, role, _ in events if kind in kinds and role != "system"]
        if actual != expected and not any(v.case_id == run.plan.case_id for v in out):
            out.append(
                Violation(run.plan.case_id, "order", f"log has {actual}, harness took {expected}")
            )
        unmarked = Counter(r.step.event for r in run.taken if not r.step.marker)
        for kind, taken in unmarked.items():
            there = sum(1 for _, k, role, _ in events if k == kind and role != "system")
            if there > taken:
                out.append(
                    Violation(run.plan.case_id, "twice", f"{kind} {there} times, taken {taken}")
                )
    return out


def version_gaps(log: Events) -> list[Violation]:
    """Check 2."""
    out = []
    for case_id, events in log.items():
        versions = [v for v, _, _, _ in events]
        if versions != list(range(1, len(versions) + 1)):
            out.append(Violation(case_id, "gap", f"versions {versions}"))
    return out


def projection_is_fold(engine: Engine) -> tuple[list[Violation], dict[str, Any]]:
    """Check 3."""
    report = rebuild_cases(engine)
    out = [Violation(c, "projection", "row missing for a stream") for c in report.missing]
    out += [Violation(c, "projection", "row without events") for c in report.extra]
    out += [
        Violation(d.case_id, "projection", f"{d.column}: live {d.live!r}, fold {d.rebuilt!r}")
        for d in report.differences
    ]
    figures = {"cases": report.cases, "events": report.events, "seconds": round(report.seconds, 2)}
    return out, figures


def rows(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        return {r.case_id: dict(r._mapping) for r in conn.execute(select(CaseRow.__table__))}


def _same_time(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs((a - b).total_seconds()) < 0.001


def _compare(case_id: str, what: str, got: dict[str, Any], row: dict[str, Any]) -> list[Violation]:
    out = []
    for name, value in got.items():
        want = row[name]
        same = _same_time(value, want) if name == "stage_due_at" else value == want
        if not same:
            out.append(Violation(case_id, "temporal", f"{what} {name}={value!r}, row {want!r}"))
    return out


async def _one_workflow(client: Client, case_id: str, row: dict[str, Any]) -> list[Violation]:
    handle = client.get_workflow_handle(workflow_id(case_id))
    try:
        described = await handle.describe()
    except RPCError as exc:
        return [Violation(case_id, "temporal", f"no workflow: {exc.message}")]
    final = row["status"] in TERMINAL
    want = WorkflowExecutionStatus.COMPLETED if final else WorkflowExecutionStatus.RUNNING
    if described.status != want:
        status = described.status.name if described.status else "?"
        return [Violation(case_id, "temporal", f"workflow {status}, case {row['status']}")]
    found = described.typed_search_attributes
    attributes = {
        "status": found.get(sa.CASE_STATUS),
        "stage": found.get(sa.CASE_STAGE),
        "department": found.get(sa.CASE_DEPARTMENT) or "",
        "grid": found.get(sa.CASE_GRID),
        "category": found.get(sa.CASE_CATEGORY),
        "stage_overdue": found.get(sa.CASE_OVERDUE),
        "light": found.get(sa.CASE_LIGHT),
        "supervision_level": (found.get(sa.CASE_SUPERVISION) or "").replace("none", ""),
        "stage_due_at": found.get(sa.CASE_DUE_AT),
    }
    out = _compare(case_id, "search attribute", attributes, row)
    if final:
        return out
    raw = described.raw_description
    if raw.pending_activities:
        names = [a.activity_type.name for a in raw.pending_activities]
        out.append(Violation(case_id, "stuck", f"activities pending: {names}"))
    if raw.HasField("pending_workflow_task") and raw.pending_workflow_task.attempt > 1:
        attempt = raw.pending_workflow_task.attempt
        out.append(Violation(case_id, "stuck", f"workflow task failing (attempt {attempt})"))
    view = await handle.query(CaseWorkflow.view)
    shown = {
        "version": view.version,
        "status": view.status,
        "stage": view.stage,
        "department": view.department,
        "grid": view.grid,
        "category": view.category,
        "stage_due_at": view.stage_due_at,
        "stage_overdue": view.stage_overdue,
        "light": view.light,
        "pending_request": view.pending_request,
        "supervision_level": view.supervision_level,
    }
    return out + _compare(case_id, "query view", shown, row)


async def temporal_agrees(client: Client, live: dict[str, dict[str, Any]]) -> list[Violation]:
    """Check 4, a few workflows at a time."""
    gate = asyncio.Semaphore(8)

    async def one(case_id: str, row: dict[str, Any]) -> list[Violation]:
        async with gate:
            return await _one_workflow(client, case_id, row)

    found = await asyncio.gather(*(one(c, r) for c, r in live.items()))
    return [v for part in found for v in part]


def where_the_plans_left_them(
    runs: list[CaseRun], live: dict[str, dict[str, Any]]
) -> list[Violation]:
    """Check 5 (a case whose plan was cut short by a violation is judged by that one)."""
    out = []
    for run in runs:
        plan = run.plan
        if len(run.taken) < len(plan.steps):
            continue
        row = live.get(plan.case_id)
        if row is None:
            out.append(Violation(plan.case_id, "stuck", "reported, but no row in cases"))
        elif row["status"] != plan.final_status or (
            plan.final_stage and row["stage"] != plan.final_stage
        ):
            want = f"{plan.final_status} {plan.final_stage}".strip()
            out.append(
                Violation(
                    plan.case_id,
                    "stuck",
                    f"{plan.scenario}: {row['status']} at {row['stage']}, plan ends {want}",
                )
            )
    return out


def drive_violations(runs: list[CaseRun]) -> list[Violation]:
    """Refusals the log does not explain, and steps that never got an answer."""
    out = []
    for run in runs:
        for r in run.results:
            if r.outcome == "refused":
                out.append(
                    Violation(run.plan.case_id, "refused", f"{r.step.name} {r.status}: {r.detail}")
                )
            elif r.outcome == "hung":
                detail = r.detail or f"no answer in {r.seconds:.0f} s ({r.tries} tries)"
                out.append(Violation(run.plan.case_id, "hung", f"{r.step.name}: {detail}"))
    return out
