"""Supervision activities (监督): intake, verification, filing, merging, closure checks and
closing, urging and supervising, and the clock's warnings. They run on the supervision task
queue, in a worker that can hold different database credentials from disposal's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.common import append_events
from activities.types import AppendInput, AppendResult, MergeTargetInput
from store.errors import CaseNotFound
from store.event_store import EventStore


class SupervisionActivities:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name="record_report")
    def record_report(self, inp: AppendInput) -> AppendResult:
        """上报 (and 自行处置): the case's first events."""
        return append_events(self.store, inp)

    @activity.defn(name="record_verification")
    def record_verification(self, inp: AppendInput) -> AppendResult:
        """核实, 立案, 不予受理/不予立案, and the review of a self-handling."""
        return append_events(self.store, inp)

    @activity.defn(name="record_merge")
    def record_merge(self, inp: AppendInput) -> AppendResult:
        """合并: a duplicate merged away, or merged into this case."""
        return append_events(self.store, inp)

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

    @activity.defn(name="record_closure_check")
    def record_closure_check(self, inp: AppendInput) -> AppendResult:
        """核查, and 返工 when the check fails."""
        return append_events(self.store, inp)

    @activity.defn(name="record_closure")
    def record_closure(self, inp: AppendInput) -> AppendResult:
        """结案 and 作废."""
        return append_events(self.store, inp)

    @activity.defn(name="record_supervision")
    def record_supervision(self, inp: AppendInput) -> AppendResult:
        """催办 and 督办 (people's and the ladder's), with notices to the department."""
        return append_events(self.store, inp)

    @activity.defn(name="notify_overdue")
    def notify_overdue(self, inp: AppendInput) -> AppendResult:
        """黄灯, 超期, 积存: record the clock's findings and notify supervision, atomically."""
        return append_events(self.store, inp)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.record_report,
            self.record_verification,
            self.record_merge,
            self.check_merge_target,
            self.record_closure_check,
            self.record_closure,
            self.record_supervision,
            self.notify_overdue,
        ]
