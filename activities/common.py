"""What supervision and disposal activities share: appending decided events to the store."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notices import notices_for
from activities.types import AppendInput, AppendResult
from store.errors import ConcurrencyConflict, StoreError
from store.event_store import EventStore, Notice

log = structlog.get_logger(__name__)


def append_events(
    store: EventStore, inp: AppendInput, notices: Sequence[Notice] | None = None
) -> AppendResult:
    """Append idempotently, with the notices the events call for (same transaction).

    Store refusals are business failures (not retried); anything else is retried.
    """
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
