"""--help reads like a command's help: no Python type names (<bool>, <str>) as metavars,
in any command of the tree."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from gridcase.cli import app


def every_command(group: object, path: tuple[str, ...] = ()) -> list[list[str]]:
    found = [list(path)]
    commands = getattr(group, "commands", None)  # a group (typer's own click)
    if isinstance(commands, dict):
        for name, command in sorted(commands.items()):
            found.extend(every_command(command, (*path, name)))
    return found


COMMANDS = every_command(typer.main.get_command(app))


def test_the_tree_is_walked() -> None:
    assert len(COMMANDS) > 40 and ["case", "file"] in COMMANDS and ["users", "add"] in COMMANDS


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: " ".join(argv) or "gridcase")
def test_help_has_no_python_type_metavars(argv: list[str]) -> None:
    result = CliRunner().invoke(app, [*argv, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert not re.search(r"<(bool|str|int|float)>", result.output), result.output
