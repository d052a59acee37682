"""`gridcase reference calendar import/show` on a real PostgreSQL: an official notice becomes
a calendar version that new cases get, the same notice twice changes nothing, estimates and
bad files are refused without writing anything, and the intake of a running API reloads."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from application.config import Settings
from application.intake import Intake, IntakeSource
from domain.calendar import TimeLimit, TimeUnit
from domain.holiday_notices import YearStatus, official_data_warning, shipped_notices
from gridcase.cli import app
from store.calendar import calendar_sources, today
from store.db import make_engine
from tests.unit.test_calendar_coverage import DOCS, TEST_NOTICE, sh


@pytest.fixture
def engine(fresh_db_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_db_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def cli(fresh_db_url: str) -> Any:
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        env = {"DATABASE_URL": fresh_db_url, "GRIDCASE_LOG_FORMAT": "console"}
        return runner.invoke(app, ["reference", "calendar", *args], env=env)

    return invoke


def rows(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql)))


def test_import_makes_2027_official_for_new_cases_only(
    cli: Any, engine: Engine, fresh_db_url: str, tmp_path: Path
) -> None:
    settings = Settings.from_env({"DATABASE_URL": fresh_db_url})
    source = IntakeSource(settings, engine, ttl=0)
    before = source.get()
    notice = tmp_path / "notice-2027.json"
    notice.write_text(json.dumps(TEST_NOTICE, ensure_ascii=False), encoding="utf-8")

    imported = cli("import", str(notice))
    assert imported.exit_code == 0, imported.output
    version = int(re.search(r"imported as version (\d+)", imported.stdout)[1])  # type: ignore[index]
    assert "2027: official 正式, 2 rest periods, 1 swapped workdays; replaces provisional" in (
        imported.stdout
    )
    assert "running cases keep the calendar they were reported with" in imported.stdout
    assert rows(engine, "SELECT id, kind, source FROM reference_versions") == [
        (version, "calendar", str(notice))
    ]
    [(year, notice_source, holidays)] = rows(
        engine, "SELECT year, source, holidays FROM calendar_years"
    )
    assert (year, notice_source, len(holidays)) == (2027, "test notice (made up)", 2)

    # The store's sources now decide 2027 by the notice; the year after stays provisional.
    sources = calendar_sources(engine, shipped_notices())
    assert sources.version == version
    assert sources.year(2027).status is YearStatus.OFFICIAL
    assert sources.year(2027).version == version
    assert sources.year(2028).status is YearStatus.PROVISIONAL
    # New cases: the running API's intake reloads (the import is a reference version).
    after = source.get()
    assert after is not before and after.calendar.version == version
    assert after.calendar == Intake.load(settings, engine).calendar
    if 2027 in after.calendar.years:  # the window of cases reported today
        assert 2027 in after.calendar.official_years
        assert 2027 in before.calendar.provisional_years
        limit = TimeLimit(3, TimeUnit.WORKING_DAYS)
        assert before.calendar.add(sh(2027, 2, 4, 9), limit) == sh(2027, 2, 15, 9)
        assert after.calendar.add(sh(2027, 2, 4, 9), limit) == sh(2027, 2, 16, 9)

    again = cli("import", str(notice))
    assert again.exit_code == 0, again.output
    assert f"unchanged, these years already stand as given (version {version})" in again.stdout
    assert len(rows(engine, "SELECT * FROM reference_versions")) == 1


def test_show_says_what_is_known_per_year(cli: Any, engine: Engine, tmp_path: Path) -> None:
    shown = cli("show")
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    assert re.search(r"2026\s*│\s*official 正式\s*│\s*元旦 01-01–01-03", out)
    assert "国务院办公厅关于2026年部分节假日安排的" in out and "base 基础" in out
    on = today()
    assert re.search(rf"{on.year + 1}\s*│\s*provisional 暂定", out)
    assert "holidays 0.108" in out
    expected = official_data_warning(calendar_sources(engine, shipped_notices()).for_cases(on), on)
    assert ("warning:" in out) == (expected is not None)
    if expected is not None:
        assert "gridcase reference calendar import" in out

    notice = tmp_path / "n.json"
    notice.write_text(json.dumps(TEST_NOTICE, ensure_ascii=False), encoding="utf-8")
    assert cli("import", str(notice)).exit_code == 0
    year = cli("show", "--year", "2027")
    assert year.exit_code == 0, year.output
    assert re.search(r"2027\s*│\s*official 正式\s*│\s*元旦 01-01–01-03", year.stdout)
    assert "02-20 (Sat)" in year.stdout and "test notice (made up)" in year.stdout
    assert "2026 " not in year.stdout.split("new cases record")[0]
    assert cli("show", "--year", "1900").exit_code == 2


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (None, "marked provisional"),  # the documented example: an estimate
        ({"years": {"2027": {"source": "x", "holidays": [{"name": "春节", "first": "2027-02-06",
          "last": "2027-02-14", "workdays": ["2027-02-17"]}]}}}, "2027-02-17 is a Wednesday"),
        ({"years": {"2027": {"holidays": []}}}, "'source' must name the notice"),
        ("{not json", "not valid JSON"),
    ],
)  # fmt: skip
def test_bad_files_are_refused_and_nothing_is_written(
    cli: Any, engine: Engine, tmp_path: Path, document: Any, message: str
) -> None:
    if document is None:
        path = DOCS / "calendar-2027-provisional.json"
    else:
        path = tmp_path / "bad.json"
        body = document if isinstance(document, str) else json.dumps(document, ensure_ascii=False)
        path.write_text(body, encoding="utf-8")
    refused = cli("import", str(path))
    assert refused.exit_code == 2
    assert message in refused.output
    assert rows(engine, "SELECT * FROM reference_versions") == []
    assert rows(engine, "SELECT * FROM calendar_years") == []


def test_a_newer_notice_for_a_year_wins_and_both_versions_stay(engine: Engine) -> None:
    from domain.holiday_notices import parse_notice
    from store.calendar import import_notice

    first = import_notice(engine, parse_notice(TEST_NOTICE), source="first")
    changed = json.loads(json.dumps(TEST_NOTICE))
    changed["years"]["2027"]["source"] = "corrected test notice"
    changed["years"]["2027"]["holidays"][0]["last"] = "2027-01-01"
    second = import_notice(engine, parse_notice(changed), source="second")
    assert second.changed and second.version > first.version
    sources = calendar_sources(engine, shipped_notices())
    assert sources.year(2027).source == "corrected test notice"
    assert sources.calendar(2027, 2027).is_working_day(date(2027, 1, 1)) is False
    assert len(rows(engine, "SELECT * FROM calendar_years")) == 2  # history kept for audits
    # Importing the first again is a change (it is not what stands now), not a no-op.
    assert import_notice(engine, parse_notice(TEST_NOTICE), source="first again").changed
