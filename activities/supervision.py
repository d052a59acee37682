"""Supervision activities (监督): appending the events of the supervision side's steps, and
the check of a merge target. They run on the supervision task queue, in a worker that can
hold different database credentials from disposal's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.common import append_events, legacy_aliases
from activities.types import AppendInput, AppendResult, MergeTargetInput
from domain.steps import Side
from store.errors import CaseNotFound
from store.event_store import EventStore


class SupervisionActivities:
    side = Side.SUPERVISION

    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name="append_supervision")
    def append(self, inp: AppendInput) -> AppendResult:
        """Append the events of a supervision step (intake, verification, filing, merging,
        checks, closing, urging, supervising, the clock's marks), with their notices."""
        return append_events(self.store, inp, self.side)

    @activity.defn(name="check_merge_target")
    def check_merge_target(self, inp: MergeTargetInput) -> None:
        """Refuse a merge into a case that does not exist or is no longer open."""
        try:
            target = self.store.case(inp.into)
        except CaseNotFound:
            raise ApplicationError(
                f"cannot merge into {inp.into!r}: no such case",
                type="InvalidCommand",
                non_retryable=True,
            ) from None
        if target["status"] not in ("open", "suspended"):
            raise ApplicationError(
                f"cannot merge into case {inp.into}: it is {target['status']}",
                type="InvalidCommand",
                non_retryable=True,
            )

    def all(self) -> list[Callable[..., Any]]:
        return [self.append, self.check_merge_target, *legacy_aliases(self.side, self.append)]
