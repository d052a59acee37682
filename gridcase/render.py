"""Text for people: a case and its timeline, overdue lists."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from domain.labels import EVENT_LABELS
from domain.roles import Role
from domain.stages import Stage

# Times are shown in the center's zone (the calendar's), not the machine's.
DISPLAY_ZONE = ZoneInfo(os.environ.get("GRIDCASE_DISPLAY_TZ", "Asia/Shanghai"))


def when(value: datetime | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(DISPLAY_ZONE).strftime("%Y-%m-%d %H:%M:%S %z")


def stage_label(value: str) -> str:
    try:
        return Stage(value).label
    except ValueError:
        return value


def _details(record: dict[str, Any]) -> str:
    data = record["data"]
    keep = (
        "department",
        "reason",
        "result",
        "note",
        "stage",
        "cycle",
        "category",
        "grid",
        "condition",
        "amount",
        "level",
        "message",
        "reply",
        "into",
        "duplicate",
        "assignee",
        "confirmed",
        "closing_type",
    )
    parts = [f"{k}={data[k]}" for k in keep if data.get(k) not in (None, "", [])]
    if data.get("due_at"):
        parts.append(f"due {when(data['due_at'])}")
    return ", ".join(parts)


def print_case(console: Console, row: dict[str, Any], records: list[dict[str, Any]]) -> None:
    console.print(f"[bold]Case {row['case_id']}[/bold]  {row['category']} in grid {row['grid']}")
    console.print(f"  {row['description']}")
    overdue = " [red](overdue 超期)[/red]" if row["stage_overdue"] else ""
    late = " · [red]disposal late 处置超期[/red]" if row.get("disposal_late") else ""
    console.print(
        f"  status {row['status']} · stage {stage_label(row['stage'])}{overdue} · "
        f"due {when(row['stage_due_at'])} · department {row['department'] or '-'} · "
        f"rework cycles {row['rework_count']}{late}"
    )
    table = Table(title="Timeline (from the event log)", title_justify="left")
    for column in ("v", "time", "event", "by", "details"):
        table.add_column(column)
    for r in records:
        actor = r["actor"]
        who = f"{Role(actor['role']).label} {actor['id'] or '(hidden)'}"
        if actor.get("unit"):
            who += f"@{actor['unit']}"
        table.add_row(
            str(r["version"]),
            when(r["occurred_at"]),
            EVENT_LABELS.get(r["type"], r["type"]),
            who,
            _details(r),
        )
    console.print(table)


def print_overdue(console: Console, rows: list[dict[str, Any]], now: datetime) -> None:
    if not rows:
        console.print("No overdue cases.")
        return
    table = Table(title=f"Overdue cases at {when(now)}", title_justify="left")
    for column in ("case", "stage", "due", "late by", "department", "grid", "category"):
        table.add_column(column)
    for r in rows:
        late = now - r["stage_due_at"]
        hours, rest = divmod(int(late.total_seconds()), 3600)
        table.add_row(
            r["case_id"],
            stage_label(r["stage"]),
            when(r["stage_due_at"]),
            f"{hours}h{rest // 60:02d}m",
            r["department"] or "-",
            r["grid"],
            r["category"],
        )
    console.print(table)
