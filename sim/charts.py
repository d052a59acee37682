"""Two PNG charts of a run: open cases over time, and on-time disposal per day.

matplotlib runs headless (Agg); the figures carry no date metadata, so a rerun writes
the same pictures for the same seed and config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and in tests; must precede pyplot

import matplotlib.pyplot as plt

from sim.engine import CENTER, SimResult

_METADATA = {"Software": None}  # keeps matplotlib's version out of the file bytes


def _colors(n: int) -> list[Any]:
    cmap = plt.get_cmap("tab20")
    return [cmap(i % 20) for i in range(n)]


def _busiest(result: SimResult, limit: int) -> list[str]:
    """The departments with the most cases: 18 lines on one chart are unreadable."""
    routed: dict[str, int] = {}
    for case in result.cases:
        routed[case.department] = routed.get(case.department, 0) + 1
    return sorted(routed, key=lambda d: (-routed[d], d))[:limit]


def _day_axis(ax: Any, result: SimResult) -> None:
    first = result.start.astimezone(result.tz).date()
    ax.set_xlabel(f"days from {first.isoformat()} ({first:%A}); gridlines at local midnight")
    ax.set_xlim(0, result.config.days)
    step = 1 if result.config.days <= 14 else 7
    ax.set_xticks(range(0, result.config.days + 1, step))


def backlog_chart(result: SimResult, path: Path, limit: int = 10) -> Path:
    start = result.start.timestamp()
    times = [(ts - start) / 86400 for ts, _ in result.backlog]
    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=100)
    holders = [CENTER, *_busiest(result, limit)]
    for holder, color in zip(holders, _colors(len(holders)), strict=True):
        values = [counts.get(holder, 0) for _, counts in result.backlog]
        style = "--" if holder == CENTER else "-"
        ax.plot(times, values, style, label=holder, color=color, linewidth=1.2)
    ax.set_title(
        "Open cases by holder (sampled hourly; a department holds a case from dispatch to close)"
    )
    ax.set_ylabel("open cases")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    _day_axis(ax, result)
    fig.tight_layout()
    fig.savefig(path, metadata=_METADATA)
    plt.close(fig)
    return path


def on_time_chart(result: SimResult, daily: dict[str, Any], path: Path, limit: int = 10) -> Path:
    days = [i + 0.5 for i in range(len(daily["dates"]))]  # mid-day of each day
    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=100)
    departments = _busiest(result, limit)
    for department, color in zip(departments, _colors(len(departments)), strict=True):
        values = [
            float("nan") if v is None else v for v in daily["on_time_disposal_pct"][department]
        ]
        ax.plot(days, values, "o-", label=department, color=color, markersize=3, linewidth=1)
    ax.set_title(
        "On-time disposal per day (cases counted on the day their disposal deadline falls)"
    )
    ax.set_ylabel("% of cases due that day disposed on time")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    _day_axis(ax, result)
    fig.tight_layout()
    fig.savefig(path, metadata=_METADATA)
    plt.close(fig)
    return path
