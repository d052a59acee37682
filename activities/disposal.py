"""Disposal activities (处置): assignment to a department, its inbox actions (sign for,
feedback, requests, replies) and the center's answers to its requests. They run on the
disposal task queue, apart from supervision (监督与处置相分离).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.common import append_events
from activities.types import AppendInput, AppendResult
from store.event_store import EventStore


class DisposalActivities:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name="assign_to_department")
    def assign_to_department(self, inp: AppendInput) -> AppendResult:
        """派遣: the task appears in the department's inbox, with a notice to it."""
        return append_events(self.store, inp)

    @activity.defn(name="record_sign_for")
    def record_sign_for(self, inp: AppendInput) -> AppendResult:
        """签收."""
        return append_events(self.store, inp)

    @activity.defn(name="record_feedback")
    def record_feedback(self, inp: AppendInput) -> AppendResult:
        """处理反馈."""
        return append_events(self.store, inp)

    @activity.defn(name="record_department_request")
    def record_department_request(self, inp: AppendInput) -> AppendResult:
        """延期/回退/挂账 requests and replies to 督办."""
        return append_events(self.store, inp)

    @activity.defn(name="record_approval")
    def record_approval(self, inp: AppendInput) -> AppendResult:
        """The center's answer to a request, and the end of a suspension."""
        return append_events(self.store, inp)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.assign_to_department,
            self.record_sign_for,
            self.record_feedback,
            self.record_department_request,
            self.record_approval,
        ]
