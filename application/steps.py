"""A step's command from what a person filled in, for every front end, and what the
application checks of it beyond the domain (who the people it names are).

The API's bodies, the CLI's options and the web pages' forms are all derived from the
step's declared inputs (``domain.steps.Step.inputs``); each hands the values it read to
:func:`command_for`, which builds the command with the ``CALLER`` placeholder as actor
(the service puts the caller there) and checks every text under its field's rule, so a
NUL or an oversize note is refused naming the field before anything reaches Temporal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from application.errors import Invalid
from domain import commands as c
from domain.errors import DomainError, InvalidCommand
from domain.inputs import check_inputs, field_problem, rule_of
from domain.org import District
from domain.roles import Actor, Role
from domain.steps import UPDATE_STEPS, Step
from store.users import UnknownUser, UserStore

# What a front end may put as the actor of a command it hands to ``CaseService.act``,
# which always puts the caller's own actor in its place: a request never names who acts.
CALLER = Actor(id="caller", role=Role.SYSTEM)


def update_step(name: str) -> Step:
    """The person's step called ``name`` (its workflow update, API path)."""
    try:
        return UPDATE_STEPS[name]
    except KeyError:
        raise Invalid(f"{name!r} is not a step of a case", code="unknown_step") from None


def command_for(step: Step, values: Mapping[str, Any]) -> c.Command:
    """The command of ``step`` with the fields a person filled in (``values``, by field
    name; what he left out takes its default). Unknown fields and bad texts are refused."""
    known = {f.name for f in step.inputs}
    unknown = sorted(set(values) - known)
    if unknown:
        raise Invalid(
            f"step {step.name} takes no {', '.join(unknown)}; it takes "
            f"{', '.join(sorted(known)) or 'nothing'}",
            code="unknown_field",
        )
    try:
        command = step.command(actor=CALLER, **values)
    except TypeError as exc:  # a required field left out
        missing = [f.name for f in step.inputs if f.required and f.name not in values]
        what = ", ".join(missing) or str(exc)
        raise Invalid(f"step {step.name} needs {what}", code="missing_field") from None
    check_inputs(command)
    return command


def check_assignee(engine: Engine, district: District | None, assignee: str) -> None:
    """A verification goes to an active grid worker: a registered user of that role, or
    (where users are not registered, as on the CLI) a grid worker of the loaded district.
    The domain checks only the id's form; who exists is known here."""
    try:
        user = UserStore(engine).get_user(assignee)
    except UnknownUser:
        if district is not None and _in_district(district, assignee):
            return
        raise Invalid(
            f"no grid worker {assignee!r}: not a registered user, nor a grid worker of the "
            "loaded district",
            code="unknown_assignee",
        ) from None
    if user.role != Role.GRID_WORKER.value:
        raise Invalid(
            f"{assignee} is a {user.role}, not a grid worker: only a grid worker verifies on site",
            code="assignee_not_grid_worker",
        )
    if not user.active:
        raise Invalid(f"grid worker {assignee} is deactivated", code="assignee_deactivated")


def _in_district(district: District, worker_id: str) -> bool:
    try:
        district.grids_of_worker(worker_id)
    except (DomainError, LookupError):
        return False
    return True


# A report's fields (application.cases.NewReport) and the ReportCase field whose rule each
# is under: a report is checked before its photos are looked up or its case started.
_REPORT_TEXTS = {
    "category": "category",
    "description": "description",
    "grid": "grid",
    "photos": "photos",
    "source": "source",
    "self_handled": "self_handling_result",
    "result_photos": "result_photos",
    "media_urls": "photos",
}


def check_report_texts(what: Any) -> None:
    """Refuse (``InvalidCommand``, naming the field) a text of a report (``NewReport``)
    that breaks its rule: what a front end without a derived body checks at its edge."""
    for name, field in _REPORT_TEXTS.items():
        value = getattr(what, name)
        if value is None:
            continue
        texts = tuple(value) if isinstance(value, list) else value
        problem = field_problem(texts, rule_of(c.ReportCase, field))
        if problem is not None:
            raise InvalidCommand(f"{name} {problem}")
    if what.location is not None:
        check_inputs(what.location, "location.")
