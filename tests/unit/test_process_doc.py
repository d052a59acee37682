"""docs/process.md carries the steps table generated from the step declarations; this
fails when the committed table differs. GRIDCASE_WRITE_DOCS=1 rewrites it."""

from __future__ import annotations

import os
from pathlib import Path

from domain.steps import STEPS
from domain.steps.declaration import nothing_required
from domain.steps.table import BEGIN, END, process_table, with_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "process.md"


def test_the_committed_steps_table_is_the_generated_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    current = with_table(text)
    if os.environ.get("GRIDCASE_WRITE_DOCS") == "1":
        DOC.write_text(current, encoding="utf-8")
        text = current
    assert text == current, "docs/process.md is stale: run GRIDCASE_WRITE_DOCS=1 pytest " + __file__


def test_the_table_has_a_row_per_step_and_every_requirement_says_what_it_requires() -> None:
    table = process_table()
    assert table.startswith(BEGIN) and table.rstrip().endswith(END)
    assert len(table.strip().splitlines()) == len(STEPS) + 4
    for s in STEPS:
        if s.requires is not nothing_required:
            assert (s.requires.__doc__ or "").startswith("Requires: "), s.name
