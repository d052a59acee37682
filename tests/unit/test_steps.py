"""The step declarations (domain/steps) are complete: every command has one, every event
is declared by exactly one step with both labels, every field a person fills in is
described, every notice can be written from its event, and what is derived from them
(the decider's tables, the workflow's update names, the timeline's labels) covers all."""

from __future__ import annotations

import dataclasses
import string

import pytest

from domain import commands as c
from domain import events as e
from domain.case import COMMAND_LABELS, PERMISSIONS, REQUIRED_STAGES
from domain.inputs import described, input_fields
from domain.labels import EVENT_LABELS, EVENT_LABELS_ZH
from domain.steps import EMITS, STEPS, UPDATE_STEPS, Audience, Side, emitting_step, step_of
from workflows.steps import HUMAN_STEPS, STEP_OF

COMMANDS = set(c.Command.__subclasses__())


def test_every_command_has_a_declaration() -> None:
    assert {s.command for s in STEPS} == COMMANDS
    for command in COMMANDS:
        assert step_of(command).command is command
    for table in (PERMISSIONS, COMMAND_LABELS):
        assert set(table) == COMMANDS
    assert set(REQUIRED_STAGES) == COMMANDS - {c.ReportCase}


def test_a_type_without_a_declaration_is_named() -> None:
    with pytest.raises(LookupError, match="Location is not a declared step"):
        step_of(e.Location)  # type: ignore[arg-type]


def test_every_event_type_is_declared_by_one_step_with_both_labels() -> None:
    assert set(EMITS) == set(e.EVENT_TYPES)
    for name in e.EVENT_TYPES:
        emitted = EMITS[name]
        assert emitted.zh.strip() and emitted.en.strip(), name
        assert emitted.en.isascii() and not emitted.zh.isascii(), name
        assert emitting_step(name).event_types >= {e.EVENT_TYPES[name]}
    assert set(EVENT_LABELS) == set(EVENT_LABELS_ZH) == set(e.EVENT_TYPES)


def test_the_labels_that_drifted_are_settled_on_the_fuller_wording() -> None:
    assert EVENT_LABELS_ZH["VerificationRequested"] == "派发核实"
    assert EVENT_LABELS_ZH["StageWarned"] == "黄灯预警"
    assert EVENT_LABELS_ZH["CaseResumed"] == "恢复处置"
    assert EVENT_LABELS_ZH["DuplicateMerged"] == "合并重复案件"
    assert EVENT_LABELS["CaseFiled"] == "立案 filed"


def test_no_event_type_is_recorded_by_both_sides() -> None:
    sides: dict[str, set[Side]] = {}
    for s in STEPS:
        for emitted in s.emits:
            sides.setdefault(emitted.event.__name__, set()).add(s.side)
    assert all(len(found) == 1 for found in sides.values()), sides


def test_every_human_step_is_a_workflow_update() -> None:
    updates = {s.name for s in STEPS if s.human and s.stages is not None}
    assert set(HUMAN_STEPS) == set(UPDATE_STEPS) == updates
    assert {STEP_OF[s.command] for s in UPDATE_STEPS.values()} == updates
    for name in updates:
        assert name.isidentifier() and name.islower(), name
    # The report starts the workflow; the engine's steps are never updates.
    assert "report" not in HUMAN_STEPS
    assert not {"mark_warning", "mark_overdue", "mark_backlog", "record_duplicate"} & updates
    # Today's names, which the API's paths and recorded histories use.
    assert {"file", "dispatch", "sign_for", "record_verification", "reply_supervision"} <= updates


def test_cli_names_are_unique_and_keep_todays_spelling() -> None:
    cli = {s.name: s.cli for s in UPDATE_STEPS.values()}
    assert len(set(cli.values())) == len(cli)
    assert cli["record_verification"] == "verify"
    assert cli["reply_supervision"] == "reply"
    assert cli["sign_for"] == "sign-for" and cli["decide_extension"] == "decide-extension"


def test_every_command_field_is_described_and_bool_inputs_have_flag_pairs() -> None:
    for command in COMMANDS:
        about = described(command)  # raises for a field without an Input
        assert about["actor"].by_application
        for f in input_fields(command):
            assert f.help.strip(), (command.__name__, f.name)
            if f.type is bool and command is not c.ReportCase:
                assert f.flags and all(flag.startswith("--") for flag in f.flags), f
    assert described(c.DispatchCase)["suggested_department"].by_application
    dispatch = {f.name: f for f in UPDATE_STEPS["dispatch"].inputs}
    assert set(dispatch) == {"department", "note"}
    assert dispatch["department"].proposed and not dispatch["department"].required
    reply = {f.name: f for f in UPDATE_STEPS["reply_supervision"].inputs}
    assert reply["reply"].option == "--text" and reply["reply"].required
    check = {f.name: f for f in UPDATE_STEPS["check"].inputs}
    assert check["passed"].flags == ("--pass", "--fail")
    assert check["photos"].type == tuple[str, ...] and check["photos"].default == ()


def _fields(event: type[e.Event]) -> set[str]:
    return {f.name for f in dataclasses.fields(event)}


def test_every_notice_can_be_written_from_its_event() -> None:
    notified = {name: em.notify for name, em in EMITS.items() if em.notify is not None}
    assert set(notified) == {
        "StageWarned",
        "StageOverdue",
        "CaseBacklogged",
        "CaseDispatched",
        "CaseUrged",
        "SupervisionIssued",
    }
    for name, notify in notified.items():
        fields = _fields(e.EVENT_TYPES[name])
        used = {f for _, f, _, _ in string.Formatter().parse(notify.text) if f}
        assert used <= fields | {"case_id"}, name
        assert set(notify.keys) <= fields, name
        if notify.audience is Audience.DEPARTMENT:
            assert "department" in fields, name
