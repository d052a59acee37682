"""Every Temporal client, environment and replayer of gridcase uses the one data converter
(workflows/converter.py): a client without it would write time limits in a form old
workers cannot read, and could not read the rules of a case back."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CALLS = re.compile(r"\b(Client\.connect|WorkflowEnvironment\.start_local|Replayer)\(")


def calls_without_converter(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        if path == Path(__file__).resolve():
            continue
        text = path.read_text()
        for match in CALLS.finditer(text):
            call = text[match.start() : text.find(")\n", match.end()) + 1]
            if "data_converter=" not in call:
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.name}:{line}: {match.group(1)}")
    return found


def test_every_client_uses_the_shared_data_converter() -> None:
    folders = [d for d in ROOT.iterdir() if d.is_dir() and not d.name.startswith(".")]
    paths = [p for folder in folders for p in folder.rglob("*.py")]
    assert len(paths) > 100
    assert calls_without_converter(paths) == []


def test_the_check_finds_a_bare_client(tmp_path: Path) -> None:
    # Guards the scan itself.
    bare = tmp_path / "bare.py"
    bare.write_text("async def f():\n    return await Client.connect(\n        target\n    )\n")
    wired = tmp_path / "wired.py"
    wired.write_text("r = Replayer(\n    workflows=[W], data_converter=DATA_CONVERTER\n)\n")
    assert calls_without_converter([bare, wired]) == ["bare.py:2: Client.connect"]
