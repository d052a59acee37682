"""Supervision activities (监督): recording reports, verification, closure checks and
closing, and notifying supervision of overdue stages. They run on the supervision task
queue, in a worker that can hold different database credentials from disposal's.
"""

from __future__ import annotations

from temporalio import activity

from activities.common import append_events
from activities.types import AppendInput, AppendResult
from store.event_store import EventStore, Notice


class SupervisionActivities:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name="record_report")
    def record_report(self, inp: AppendInput) -> AppendResult:
        """上报: the case's first events."""
        return append_events(self.store, inp)

    @activity.defn(name="record_verification")
    def record_verification(self, inp: AppendInput) -> AppendResult:
        """立案 or 不予立案."""
        return append_events(self.store, inp)

    @activity.defn(name="record_closure_check")
    def record_closure_check(self, inp: AppendInput) -> AppendResult:
        """核查, and 返工 when the check fails."""
        return append_events(self.store, inp)

    @activity.defn(name="record_closure")
    def record_closure(self, inp: AppendInput) -> AppendResult:
        """结案."""
        return append_events(self.store, inp)

    @activity.defn(name="notify_overdue")
    def notify_overdue(self, inp: AppendInput) -> AppendResult:
        """超期: record the overdue stage and leave a notice for supervision, atomically."""
        notices = [
            Notice(
                event_version=record["version"],
                kind="stage_overdue",
                audience="supervision",
                message=(
                    f"case {inp.case_id}: stage {record['data']['stage']} passed its "
                    f"deadline {record['data']['due_at']}"
                ),
                data={"stage": record["data"]["stage"], "due_at": record["data"]["due_at"]},
            )
            for record in inp.events
            if record["type"] == "StageOverdue"
        ]
        return append_events(self.store, inp, notices)

    def all(self) -> list[object]:
        return [
            self.record_report,
            self.record_verification,
            self.record_closure_check,
            self.record_closure,
            self.notify_overdue,
        ]
