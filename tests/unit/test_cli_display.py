"""The CLI shows every time in one zone (GRIDCASE_DISPLAY_TZ, default Asia/Shanghai) with
its offset: step output as the timeline of `case show`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from application.principals import OPERATOR
from domain.kpi import COUNTS, RATES, KpiRow, ObjectKind, Period, PeriodKind, Ratio
from domain.steps import UPDATE_STEPS
from gridcase import cli_case, cli_kpi
from gridcase.cli_kpi import NOTHING_DUE_YET
from gridcase.render import when
from store.kpi import KpiTable
from workflows.types import ActionResult

DUE = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def test_times_are_shown_in_the_display_zone_with_its_offset() -> None:
    assert when(DUE) == "2026-03-02 09:30:00 +0800"
    assert when(DUE.isoformat()) == "2026-03-02 09:30:00 +0800"
    assert when(None) == "-"


def test_step_output_shows_the_deadline_like_case_show(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    result = ActionResult("r-0001", 3, "open", "sign_for", DUE, ["CaseDispatched"])
    monkeypatch.setattr(cli_case, "run", lambda work: result)
    monkeypatch.setattr(cli_case, "principal", lambda text: OPERATOR)
    dispatch = UPDATE_STEPS["dispatch"]
    cli_case._act("r-0001", "dispatcher:disp-01", dispatch, {"department": "sanitation"}, None)
    assert "due 2026-03-02 09:30:00 +0800" in capsys.readouterr().out


def test_a_kpi_table_without_any_rate_yet_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    period = Period(start, datetime(2026, 4, 1, tzinfo=UTC), PeriodKind.MONTH)
    counts = dict.fromkeys(COUNTS, 0) | {"reported": 3, "dispatched": 2}
    row = KpiRow(
        period,
        ObjectKind.DEPARTMENT,
        "sanitation",
        counts,
        {name: Ratio(0, 0) for name in RATES},
        {},
        None,
        "-",
    )
    table = KpiTable(PeriodKind.MONTH, ObjectKind.DEPARTMENT, [period], [row], 3)
    cli_kpi._show(table, [row], [1], None, False)
    out = capsys.readouterr().out
    assert "sanitation" in out and NOTHING_DUE_YET.split(":")[0] in out
    assert "deadline" in out.replace("\n", " ")
