"""The steps table of docs/process.md, written from the step declarations.

tests/unit/test_process_doc.py fails when the committed table differs from this one, and
rewrites it with GRIDCASE_WRITE_DOCS=1.
"""

from __future__ import annotations

from domain.inputs import InputField
from domain.roles import Role
from domain.stages import Stage
from domain.steps import STEPS, Step
from domain.steps.declaration import nothing_required

BEGIN = "<!-- steps table: generated from domain/steps, do not edit by hand -->"
END = "<!-- end of steps table -->"

_ROLE_EN = {
    Role.GRID_WORKER: "grid worker",
    Role.ACCEPTOR: "acceptor",
    Role.SHIFT_LEADER: "shift leader",
    Role.DISPATCHER: "dispatcher",
    Role.HANDLER: "handler",
    Role.SUPERVISOR: "supervisor",
    Role.LEADER: "leader",
    Role.SYSTEM: "the engine",
}


def _option(f: InputField) -> str:
    spelled = "/".join(f.flags) if f.flags else f.option
    return spelled if f.required else f"[{spelled}]"


def _command(step: Step) -> str:
    if not step.human:
        return "—"
    if step.starts_case:
        return "`gridcase report`"
    return "`" + " ".join([step.cli, *(_option(f) for f in step.inputs)]) + "`"


def _stages(step: Step) -> str:
    if step.stages is None:
        return "—"
    if step.stages == frozenset(s for s in Stage if s.is_open):
        return "any open"
    return ", ".join(s.value for s in Stage if s in step.stages)


def _requires(step: Step) -> str:
    if step.requires is nothing_required:
        return ""
    doc = (step.requires.__doc__ or "").removeprefix("Requires: ")
    return " ".join(doc.split()).rstrip(".")


def _events(step: Step) -> str:
    parts = []
    for emitted in step.emits:
        notice = f" (notice: {emitted.notify.audience.value})" if emitted.notify else ""
        parts.append(f"`{emitted.event.__name__}` {emitted.zh}{notice}")
    return ", ".join(parts)


def process_table() -> str:
    """The table: one row per step, people's steps first, then the engine's."""
    rows = [
        BEGIN,
        "| step | `gridcase case …` (update, API path) | who | stage | requires | side | events |",
        "|---|---|---|---|---|---|---|",
    ]
    for step in sorted(STEPS, key=lambda s: not s.human):  # stable: declaration order
        who = ", ".join(_ROLE_EN[r] for r in Role if r in step.roles)
        update = f" (`{step.name}`)" if step.is_update else ""
        rows.append(
            f"| {step.en} {step.zh} | {_command(step)}{update} | {who} | {_stages(step)} "
            f"| {_requires(step)} | {step.side.value} | {_events(step)} |"
        )
    rows.append(END)
    return "\n".join(rows) + "\n"


def with_table(document: str) -> str:
    """``document`` with its generated table replaced by the current one."""
    start, end = document.index(BEGIN), document.index(END) + len(END) + 1
    return document[:start] + process_table() + document[end:]
