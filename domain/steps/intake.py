"""Intake (受理): report, self-handling review, verification on site, filing, rejecting and
merging duplicates. Supervision's side."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

from domain import commands as c
from domain import events as e
from domain.errors import InvalidCommand, NotYourCase, WrongStage
from domain.roles import Actor, Role
from domain.rules import (
    DEFAULT_RULES,
    DEFAULT_STAGE_LIMITS,
    CaseRules,
    legacy_rules,
    rules_from_seconds,
)
from domain.sources import source_of
from domain.stages import Stage
from domain.state import CaseState
from domain.steps.common import CENTER_FILERS, NO_CLOCK, OPEN_STAGES, clock, text
from domain.steps.declaration import Emits, Side, stamp, step

S = Side.SUPERVISION


def _rules_of(cmd: c.ReportCase) -> CaseRules:
    try:
        if cmd.rules is not None:
            rules = cmd.rules
        elif cmd.stage_limits:
            rules = rules_from_seconds(dict(cmd.stage_limits))
        else:
            rules = DEFAULT_RULES
    except ValueError as exc:
        raise InvalidCommand(str(exc)) from None
    for stage in rules.stage_limits:
        try:
            known = Stage(stage)
        except ValueError:
            raise InvalidCommand(f"stage limits: unknown stage {stage!r}") from None
        if not known.is_open:
            raise InvalidCommand(f"stage limits: stage {stage} is terminal and has no limit")
    return rules


def _source_of_reporter(state: CaseState, cmd: c.ReportCase, now: datetime) -> None:
    """A report comes from a source its reporter's role may use (``domain.sources``)."""
    source_of(cmd.actor.role, cmd.source)


def with_legacy_rules(cmd: c.ReportCase) -> c.ReportCase:
    """The report as a case started before the lateness rules decided it: its rules say
    so (``domain.rules.LEGACY_RULES``), as its recorded CaseReported reads back."""
    try:
        rules = _rules_of(cmd)
    except InvalidCommand:
        return cmd  # refused either way
    return replace(cmd, rules=legacy_rules(rules))


@step(
    c.ReportCase,
    "report",
    zh="上报",
    en="report",
    roles={Role.GRID_WORKER, Role.ACCEPTOR},
    stages=None,
    side=S,
    emits=[
        Emits(e.CaseReported, "上报", "reported"),
        Emits(e.CaseSelfHandled, "自行处置", "self-handled"),
    ],
    checks=_source_of_reporter,
)
def _report(state: CaseState, cmd: c.ReportCase, now: datetime) -> list[e.Event]:
    if cmd.location is not None:
        lon, lat = cmd.location.lon, cmd.location.lat
        if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
            raise InvalidCommand(f"location ({lon}, {lat}) is not a WGS84 longitude/latitude")
    rules = _rules_of(cmd)
    category = text(cmd.category, "category")
    grid = text(cmd.grid, "grid")
    description = text(cmd.description, "description")
    source = text(cmd.source, "source")

    def reported(opens: bool) -> e.CaseReported:
        return e.CaseReported(
            **stamp(state, cmd.actor, now),
            **(clock(rules, Stage.VERIFY, now) if opens else NO_CLOCK),
            category=category,
            grid=grid,
            description=description,
            location=cmd.location,
            photos=tuple(cmd.photos),
            source=source,
            rules=rules,
        )

    if not cmd.self_handled:
        return [reported(opens=True)]
    if cmd.actor.role is not Role.GRID_WORKER:
        raise InvalidCommand("only a grid worker on site reports a self-handled problem")
    if not rules.self_handling:
        raise InvalidCommand(f"category {cmd.category} may not be self-handled (自行处置)")
    handled = e.CaseSelfHandled(
        **stamp(state, cmd.actor, now, 2),
        **clock(rules, Stage.REVIEW, now),
        result=text(cmd.self_handling_result, "what was done on the spot"),
        photos=tuple(cmd.result_photos),
    )
    return [reported(opens=False), handled]


@step(
    c.ReviewSelfHandling,
    "review_self_handling",
    zh="自行处置审核",
    en="review self-handling",
    roles=CENTER_FILERS,
    stages={Stage.REVIEW},
    side=S,
    emits=[
        Emits(e.SelfHandlingApproved, "自行处置通过", "self-handling approved"),
        Emits(e.SelfHandlingRejected, "自行处置不通过", "self-handling refused"),
    ],
)
def _review_self_handling(
    state: CaseState, cmd: c.ReviewSelfHandling, now: datetime
) -> list[e.Event]:
    env = stamp(state, cmd.actor, now)
    if cmd.approve:
        return [e.SelfHandlingApproved(**env, note=cmd.note)]
    note = text(cmd.note, "a note saying why the self-handling is not accepted")
    return [e.SelfHandlingRejected(**env, **clock(state.rules, Stage.VERIFY, now), note=note)]


def _not_verified_yet(state: CaseState, actor: Actor) -> None:
    """Requires: not verified yet."""
    if state.verification in ("confirmed", "refuted"):
        raise WrongStage(f"case {state.case_id} is already verified ({state.verification})")


@step(
    c.RequestVerification,
    "request_verification",
    zh="派发核实",
    en="request verification",
    roles=CENTER_FILERS,
    stages={Stage.VERIFY},
    side=S,
    requires=_not_verified_yet,
    emits=[Emits(e.VerificationRequested, "派发核实", "verification requested")],
)
def _request_verification(
    state: CaseState, cmd: c.RequestVerification, now: datetime
) -> list[e.Event]:
    assignee = text(cmd.assignee, "the grid worker to verify")
    limit = state.rules.stage_limit(Stage.VERIFY.value) or DEFAULT_STAGE_LIMITS["verify"]
    due = state.rules.add(now, limit)
    return [
        e.VerificationRequested(
            **stamp(state, cmd.actor, now), assignee=assignee, verify_due_at=due
        )
    ]


def _verification_is_yours(state: CaseState, actor: Actor) -> None:
    """Requires: a verification assigned to this grid worker is waiting."""
    if state.verification != "requested":
        raise WrongStage(f"no verification of case {state.case_id} is waiting")
    if actor.id != state.verifier:
        raise NotYourCase(f"the verification of case {state.case_id} is {state.verifier}'s task")


@step(
    c.RecordVerification,
    "record_verification",
    zh="核实",
    en="record verification",
    cli="verify",
    roles={Role.GRID_WORKER},
    stages={Stage.VERIFY},
    side=S,
    requires=_verification_is_yours,
    emits=[Emits(e.CaseVerified, "核实", "verified")],
)
def _record_verification(
    state: CaseState, cmd: c.RecordVerification, now: datetime
) -> list[e.Event]:
    if not cmd.confirmed:
        text(cmd.note, "a note saying what was found")
    return [
        e.CaseVerified(
            **stamp(state, cmd.actor, now),
            confirmed=cmd.confirmed,
            note=cmd.note,
            photos=tuple(cmd.photos),
            site=cmd.site,
        )
    ]


def _verified_if_public(state: CaseState, actor: Actor) -> None:
    """Requires: a public report confirmed on site first (核实)."""
    if state.needs_verification and state.verification != "confirmed":
        found = "refuted it" if state.verification == "refuted" else "not confirmed it yet"
        raise WrongStage(
            f"case {state.case_id} came from {state.source}: a grid worker must confirm it on "
            f"site before filing; verification has {found}"
        )


@step(
    c.FileCase,
    "file",
    zh="立案",
    en="file",
    roles=CENTER_FILERS,
    stages={Stage.VERIFY},
    side=S,
    requires=_verified_if_public,
    emits=[Emits(e.CaseFiled, "立案", "filed")],
)
def _file(state: CaseState, cmd: c.FileCase, now: datetime) -> list[e.Event]:
    conditions = state.rules.conditions
    condition = cmd.condition or (next(iter(conditions)) if conditions else "")
    if condition and condition not in conditions:
        known = ", ".join(conditions) or "(none: file it without a condition)"
        raise InvalidCommand(
            f"{condition!r} is not a filing condition of category {state.category}; "
            f"choose one of {known}"
        )
    limit = state.rules.disposal_limit(condition)
    return [
        e.CaseFiled(
            **stamp(state, cmd.actor, now),
            **clock(state.rules, Stage.DISPATCH, now),
            note=cmd.note,
            condition=condition,
            disposal_limit=str(limit or ""),
        )
    ]


@step(
    c.RejectCase,
    "reject",
    zh="不予立案",
    en="reject",
    roles=CENTER_FILERS,
    stages={Stage.VERIFY},
    side=S,
    emits=[Emits(e.CaseRejected, "不予立案", "rejected")],
)
def _reject(state: CaseState, cmd: c.RejectCase, now: datetime) -> list[e.Event]:
    reason = text(cmd.reason, "a reason for rejecting")
    # 不予受理 before any verification of a public report, 不予立案 otherwise.
    kind = "not_accepted" if state.needs_verification and not state.verification else "not_filed"
    return [e.CaseRejected(**stamp(state, cmd.actor, now), reason=reason, kind=kind)]


@step(
    c.MergeCase,
    "merge",
    zh="合并",
    en="merge",
    roles=CENTER_FILERS,
    stages={Stage.VERIFY, Stage.DISPATCH},
    side=S,
    emits=[Emits(e.CaseMerged, "合并", "merged")],
)
def _merge(state: CaseState, cmd: c.MergeCase, now: datetime) -> list[e.Event]:
    into = text(cmd.into, "the case to merge into")
    if into == state.case_id:
        raise InvalidCommand(f"case {state.case_id} cannot be merged into itself")
    return [e.CaseMerged(**stamp(state, cmd.actor, now), into=into, note=cmd.note)]


@step(
    c.RecordDuplicate,
    "record_duplicate",
    zh="记录合并案件",
    en="record a duplicate",
    roles={Role.SYSTEM},
    stages=OPEN_STAGES,
    side=S,
    human=False,
    emits=[Emits(e.DuplicateMerged, "合并重复案件", "duplicate merged")],
)
def _record_duplicate(state: CaseState, cmd: c.RecordDuplicate, now: datetime) -> list[e.Event]:
    duplicate = text(cmd.duplicate, "the duplicate case")
    if duplicate == state.case_id:
        raise InvalidCommand(f"case {state.case_id} cannot be its own duplicate")
    if duplicate in state.duplicates:
        raise WrongStage(f"{duplicate} is already merged into case {state.case_id}")
    return [e.DuplicateMerged(**stamp(state, cmd.actor, now), duplicate=duplicate)]
