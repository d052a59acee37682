"""The workflow's append routing is total: every declared command has an activity and a
task queue, patched (its side's append) and unpatched (the frozen old name), so no command
can wedge a case with a KeyError; and every old name still runs on its side's worker."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from temporalio import activity

from activities import legacy
from activities.disposal import DisposalActivities
from activities.supervision import SupervisionActivities
from activities.types import TaskQueues
from domain.steps import STEPS, Side, Step
from workflows.case import append_activity

QUEUE = {Side.SUPERVISION: TaskQueues.SUPERVISION, Side.DISPOSAL: TaskQueues.DISPOSAL}


def names(activities: list[object]) -> set[str]:
    return {activity._Definition.must_from_callable(a).name for a in activities}  # type: ignore[arg-type]


@pytest.mark.parametrize("s", STEPS, ids=lambda s: s.name)
def test_every_step_is_routed_patched_and_unpatched(s: Step) -> None:
    queue = QUEUE[s.side]
    assert append_activity(s.command, patched=True) == (f"append_{s.side}", queue)
    old, old_queue = append_activity(s.command, patched=False)
    assert old_queue == queue
    assert old == legacy.ACTIVITY_OF_COMMAND[s.command.__name__]
    assert old in legacy.ACTIVITIES_OF_SIDE[s.side.value]


def test_a_step_newer_than_the_patch_runs_its_sides_append_even_unpatched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(legacy, "ACTIVITY_OF_COMMAND", MappingProxyType({}))
    for s in STEPS:
        assert append_activity(s.command, patched=False) == (f"append_{s.side}", QUEUE[s.side])


def test_each_sides_worker_runs_its_append_and_its_old_names() -> None:
    supervision = names(SupervisionActivities(None).all())  # type: ignore[arg-type]
    disposal = names(DisposalActivities(None).all())  # type: ignore[arg-type]
    assert supervision == {
        "append_supervision",
        "check_merge_target",
        *legacy.ACTIVITIES_OF_SIDE["supervision"],
    }
    assert disposal == {"append_disposal", *legacy.ACTIVITIES_OF_SIDE["disposal"]}
    assert set(legacy.ACTIVITY_OF_COMMAND.values()) <= supervision | disposal
