"""Disposal activities (处置): appending the events of the disposal side's steps (dispatch,
the department's sign-for, feedback, requests and replies, the center's answers to its
requests). They run on the disposal task queue, apart from supervision (监督与处置相分离).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.common import append_events, legacy_aliases
from activities.types import AppendInput, AppendResult
from domain.steps import Side
from store.event_store import EventStore


class DisposalActivities:
    side = Side.DISPOSAL

    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name="append_disposal")
    def append(self, inp: AppendInput) -> AppendResult:
        """Append the events of a disposal step, with their notices (a dispatch tells the
        department)."""
        return append_events(self.store, inp, self.side)

    def all(self) -> list[Callable[..., Any]]:
        return [self.append, *legacy_aliases(self.side, self.append)]
