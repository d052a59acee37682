"""CI installs once: `.ci/run` is the README's test command and nothing else, and that
command installs into .venv only when pyproject.toml changed since the last install."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def commands(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_ci_is_the_test_command_alone() -> None:
    run = commands(ROOT / ".ci" / "run")
    assert run[-1] == "exec scripts/test"
    assert not any(re.search(r"\b(pip|uv|apt-get)\b", line) for line in run), run


def test_the_test_command_installs_only_when_pyproject_changed() -> None:
    test = (ROOT / "scripts" / "test").read_text()
    guarded = re.search(r'if \[ "\$\(cat "\$stamp".*?\n(.*?)\nfi\n', test, re.S)
    assert guarded is not None, "the install is no longer guarded by the stamp"
    assert "pip install" in guarded.group(1) and 'echo "$want" > "$stamp"' in guarded.group(1)
    outside = test.replace(guarded.group(0), "")
    assert "pip install" not in outside, "an install outside the stamp's guard"
