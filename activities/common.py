"""What supervision and disposal activities share: appending decided events to the store,
each side only the events of its own steps (监督与处置相分离)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.legacy import ACTIVITIES_OF_SIDE
from activities.notices import notices_for
from activities.types import AppendInput, AppendResult
from domain.steps import Side, emitting_step
from store.errors import ConcurrencyConflict, StoreError
from store.event_store import EventStore, Notice

log = structlog.get_logger(__name__)


def append_events(
    store: EventStore, inp: AppendInput, side: Side, notices: Sequence[Notice] | None = None
) -> AppendResult:
    """Append idempotently, with the notices the events call for (same transaction).

    Events of the other side's steps, and store refusals, are business failures (not
    retried); anything else is retried.
    """
    for record in inp.events:
        try:
            owner = emitting_step(record["type"]).side
        except LookupError as exc:
            raise ApplicationError(str(exc), type="StoreError", non_retryable=True) from None
        if owner is not side:
            raise ApplicationError(
                f"{record['type']} is recorded by {owner.value}, not by {side.value}",
                type="WrongSide",
                non_retryable=True,
            )
    if notices is None:
        notices = notices_for(inp.case_id, inp.events)
    info = activity.info()
    structlog.contextvars.bind_contextvars(
        case_id=inp.case_id, activity=info.activity_type, attempt=info.attempt
    )
    try:
        outcome = store.append(inp.case_id, inp.expected_version, inp.events, notices)
    except ConcurrencyConflict as exc:
        raise ApplicationError(str(exc), type="ConcurrencyConflict", non_retryable=True) from exc
    except StoreError as exc:
        raise ApplicationError(str(exc), type="StoreError", non_retryable=True) from exc
    finally:
        structlog.contextvars.unbind_contextvars("case_id", "activity", "attempt")
    return AppendResult(version=outcome.version, appended=outcome.appended)


def legacy_aliases(side: Side, append: Callable[[AppendInput], AppendResult]) -> list[Any]:
    """The side's append under the activity names of before the routing by side, for
    activities scheduled by workflows of that time (``activities.legacy``)."""

    def alias(name: str) -> Any:
        def run(inp: AppendInput) -> AppendResult:
            return append(inp)

        run.__name__ = run.__qualname__ = name
        return activity.defn(name=name)(run)

    return [alias(name) for name in ACTIVITIES_OF_SIDE[side.value]]
