"""What supervision and disposal activities share: appending decided events to the store."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.types import AppendInput, AppendResult
from store.errors import ConcurrencyConflict, StoreError
from store.event_store import EventStore, Notice

log = structlog.get_logger(__name__)


def append_events(
    store: EventStore, inp: AppendInput, notices: Sequence[Notice] = ()
) -> AppendResult:
    """Append idempotently; store refusals are business failures (not retried)."""
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
