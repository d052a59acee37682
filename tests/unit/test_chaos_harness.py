"""The chaos harness's own logic, without a stack (the harness itself runs on demand:
``python -m bench.chaos``): plans repeat with their seed and cover every side path, kills
cover every kind, and the checks catch what they are there to catch."""

from __future__ import annotations

import random

from bench.chaos.checks import steps_recorded, version_gaps
from bench.chaos.driver import CaseRun, StepResult
from bench.chaos.killer import KINDS, schedule
from bench.chaos.plans import SCENARIOS, CasePlan, Planner


def test_the_same_seed_makes_the_same_plans() -> None:
    first, again = Planner(7, "c7").plans(60), Planner(7, "c7").plans(60)
    assert [(p.scenario, p.grid, p.steps) for p in first] == [
        (p.scenario, p.grid, p.steps) for p in again
    ]
    other = Planner(8, "c7").plans(60)
    assert [p.steps for p in other] != [p.steps for p in first]


def test_two_hundred_cases_take_every_path_with_unique_markers_and_keys() -> None:
    plans = Planner(1, "c1").plans(200)
    assert {p.scenario for p in plans} == set(SCENARIOS)
    steps = [s for p in plans for s in p.steps]
    markers = [s.marker for s in steps if s.marker]
    assert len(markers) == len(set(markers))
    assert len({s.key for s in steps}) == len(steps)
    assert {s.name for s in steps} >= {
        "report",
        "file",
        "dispatch",
        "sign_for",
        "feedback",
        "check",
        "close",
        "reject",
        "cancel",
        "merge",
        "request_verification",
        "record_verification",
        "review_self_handling",
        "request_return",
        "decide_return",
        "request_extension",
        "decide_extension",
        "request_suspension",
        "decide_suspension",
        "resume",
        "urge",
        "supervise",
        "reply_supervision",
    }
    for plan in plans:
        assert plan.steps[0].name == "report" and plan.steps[0].key == plan.case_id
        if plan.scenario == "merge":
            target = next(p for p in plans if p.case_id == plan.merge_into)
            assert target.scenario == "left_open" and plans.index(target) < plans.index(plan)


def test_every_kind_is_killed_at_marks_within_the_drive() -> None:
    kills = schedule(random.Random(1), KINDS, 3, 1000)
    assert sorted(k.kind for k in kills) == sorted(KINDS * 3)
    marks = [k.mark for k in kills]
    assert marks == sorted(marks) and marks[0] >= 30 and marks[-1] <= 900
    assert [k.kind for k in kills] == [k.kind for k in schedule(random.Random(1), KINDS, 3, 1000)]


def _main_line() -> tuple[CasePlan, list[tuple[int, str, str, str]]]:
    plan = Planner(3, "t").plan(0, "main_line")
    log = []
    for version, step in enumerate(plan.steps, start=1):
        data = f'{{"note": "{step.marker}"}}'
        log.append((version, step.event, "system" if step.event == "" else "person", data))
    return plan, log


def _acked(plan: CasePlan) -> CaseRun:
    return CaseRun(plan, [StepResult(s, "acked") for s in plan.steps])


def test_a_clean_log_passes() -> None:
    plan, log = _main_line()
    assert steps_recorded([_acked(plan)], {plan.case_id: log}) == []
    assert version_gaps({plan.case_id: log}) == []


def test_an_acknowledged_step_missing_from_the_log_is_lost() -> None:
    plan, log = _main_line()
    filed = next(i for i, s in enumerate(plan.steps) if s.name == "file")
    del log[filed]
    found = steps_recorded([_acked(plan)], {plan.case_id: log})
    assert [(v.check, v.case_id) for v in found] == [("lost", plan.case_id)]
    assert "file" in found[0].detail


def test_a_step_recorded_twice_is_caught_with_or_without_a_marker() -> None:
    plan, log = _main_line()
    signed = next(s for s in plan.steps if s.name == "sign_for")
    filed = next(s for s in plan.steps if s.name == "file")
    assert not signed.marker and filed.marker
    for doubled in (signed, filed):
        twice = [*log, (len(log) + 1, doubled.event, "person", f'{{"note": "{doubled.marker}"}}')]
        found = steps_recorded([_acked(plan)], {plan.case_id: twice})
        assert "twice" in {v.check for v in found}, doubled.name


def test_an_engine_event_between_steps_is_no_step() -> None:
    plan, log = _main_line()
    # An automatic yellow card (SupervisionIssued by the engine) is not a person's step.
    log.insert(3, (0, "SupervisionIssued", "system", "{}"))
    renumbered = [(n, kind, role, data) for n, (_, kind, role, data) in enumerate(log, 1)]
    assert steps_recorded([_acked(plan)], {plan.case_id: renumbered}) == []


def test_a_gap_in_versions_is_caught() -> None:
    plan, log = _main_line()
    del log[2]
    assert [v.check for v in version_gaps({plan.case_id: log})] == ["gap"]
