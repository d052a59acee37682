"""Every list, board and count the front ends show, in one place. Each takes the caller
(a ``Principal``; the CLI's reads without ``--as`` take ``principals.OPERATOR``), checks
his role (``authz.require``) and keeps to his jurisdiction (``authz.scope``); rows come
with personal data taken out where he may not read it (``rows.seen_by``).

- ``queues``: a grid worker's tasks, the center's inbox, a department's inbox;
- ``overdue``: the overdue list with its filters, and its counts;
- ``case``: one case with its timeline, merge candidates, notices;
- ``district``: the map's counts per grid and markers, the big screen;
- ``kpi``: evaluation tables and rankings;
- ``public``: Open311's public service requests.
"""

from application.read_models.case import (
    CaseView,
    TimeLeft,
    case_states,
    case_view,
    merge_candidates,
    notifications,
    recorded_case_view,
    time_left,
)
from application.read_models.district import MapFilters, Screen, grid_counts, open_markers, screen
from application.read_models.kpi import kpi_cases, kpi_day, kpi_table, ranking
from application.read_models.overdue import GroupBy, LateFilters, LateOrder, late_cases, late_counts
from application.read_models.queues import (
    CenterQueue,
    DepartmentQueue,
    center_inbox,
    department_inbox,
    tasks,
)
from application.read_models.rows import Page, Row

__all__ = [
    "CaseView",
    "CenterQueue",
    "DepartmentQueue",
    "GroupBy",
    "LateFilters",
    "LateOrder",
    "MapFilters",
    "Page",
    "Row",
    "Screen",
    "TimeLeft",
    "case_states",
    "case_view",
    "center_inbox",
    "department_inbox",
    "grid_counts",
    "kpi_cases",
    "kpi_day",
    "kpi_table",
    "late_cases",
    "late_counts",
    "merge_candidates",
    "notifications",
    "open_markers",
    "ranking",
    "recorded_case_view",
    "screen",
    "tasks",
    "time_left",
]
