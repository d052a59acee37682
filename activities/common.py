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
from activities.types import AppendInput, AppendResult, StepRequest
from domain.steps import Side, emitting_step
from store.errors import AppendRefused, ConcurrencyConflict, DataRefused, StoreError
from store.event_store import EventStore, Notice
from store.requests import StepRequestRecord

log = structlog.get_logger(__name__)


def append_events(
    store: EventStore, inp: AppendInput, side: Side, notices: Sequence[Notice] | None = None
) -> AppendResult:
    """Append idempotently, with the notices the events call for (same transaction).

    Events of the other side's steps, and store refusals, are business failures (not
    retried): a conflict, data PostgreSQL or the domain refuses (``DataRefused``, e.g. a
    NUL in a text), which would be refused on every attempt, and the database refusing
    the events for this worker's role (its row policy: the worker runs with the other
    side's credentials). A privilege the role lacks is retried, logged as an error,
    until an operator grants it (``store.access``); anything else (the database
    unreachable, a connection lost) is transient and retried.
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
        outcome = store.append(
            inp.case_id, inp.expected_version, inp.events, notices, _request(inp.request)
        )
    except ConcurrencyConflict as exc:
        raise ApplicationError(str(exc), type="ConcurrencyConflict", non_retryable=True) from exc
    except AppendRefused as exc:
        log.error("append_refused_by_database", side=side.value, role=exc.role, reason=exc.reason)
        raise ApplicationError(
            str(exc), type="AppendRefused", non_retryable=exc.wrong_side
        ) from exc
    except DataRefused as exc:
        log.warning("append_refused", case_id=inp.case_id, reason=str(exc))
        raise ApplicationError(
            f"{exc}; nothing was recorded, the case is as it was",
            type="DataRefused",
            non_retryable=True,
        ) from exc
    except StoreError as exc:
        raise ApplicationError(str(exc), type="StoreError", non_retryable=True) from exc
    finally:
        structlog.contextvars.unbind_contextvars("case_id", "activity", "attempt")
    return AppendResult(version=outcome.version, appended=outcome.appended)


def _request(request: StepRequest | None) -> StepRequestRecord | None:
    if request is None:
        return None
    return StepRequestRecord(request.key, request.step, request.fingerprint)


def legacy_aliases(side: Side, append: Callable[[AppendInput], AppendResult]) -> list[Any]:
    """The side's append under the activity names of before the routing by side, for
    activities scheduled by workflows of that time (``activities.legacy``)."""

    def alias(name: str) -> Any:
        def run(inp: AppendInput) -> AppendResult:
            return append(inp)

        run.__name__ = run.__qualname__ = name
        return activity.defn(name=name)(run)

    return [alias(name) for name in ACTIVITIES_OF_SIDE[side.value]]
