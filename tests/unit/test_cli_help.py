"""--help reads like a command's help: no Python type names (<bool>, <str>) as metavars."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from gridcase.cli import app

COMMANDS = [
    [],
    ["up"],
    ["overdue"],
    ["report"],
    ["case", "file"],
    ["case", "check"],
    ["kpi", "table"],
    ["notifications"],
    ["users", "add"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: " ".join(argv) or "gridcase")
def test_help_has_no_python_type_metavars(argv: list[str]) -> None:
    result = CliRunner().invoke(app, [*argv, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert not re.search(r"<(bool|str|int|float)>", result.output), result.output
