"""Disposal activities (处置): assignment to a department, sign-for and handling results.
They run on the disposal task queue, apart from supervision (监督与处置相分离).
"""

from __future__ import annotations

from temporalio import activity

from activities.common import append_events
from activities.types import AppendInput, AppendResult
from store.event_store import EventStore


class DisposalActivities:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name="assign_to_department")
    def assign_to_department(self, inp: AppendInput) -> AppendResult:
        """派遣: the department's task appears in its inbox (the case projection)."""
        return append_events(self.store, inp)

    @activity.defn(name="record_sign_for")
    def record_sign_for(self, inp: AppendInput) -> AppendResult:
        """签收."""
        return append_events(self.store, inp)

    @activity.defn(name="record_feedback")
    def record_feedback(self, inp: AppendInput) -> AppendResult:
        """处理反馈."""
        return append_events(self.store, inp)

    def all(self) -> list[object]:
        return [self.assign_to_department, self.record_sign_for, self.record_feedback]
