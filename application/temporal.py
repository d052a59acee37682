"""The one way to reach Temporal: a connect with a timeout, a gateway that connects on
first need (and again after a failed connect), and the translation of Temporal's failures
into the application's errors.

Temporal may be down when a process starts or go away later; what only needs PostgreSQL
keeps working, and what needs Temporal is refused with ``Unavailable`` until it is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import structlog
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from application.config import Settings
from application.errors import Duplicate, NotFound, Unavailable
from workflows import client as cases
from workflows import converter

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT = 5.0  # seconds


async def connect(settings: Settings, timeout: float = CONNECT_TIMEOUT) -> Client:
    """A client of the configured Temporal; ``Unavailable`` when it does not answer."""
    target = settings.temporal_target
    try:
        client = await asyncio.wait_for(
            converter.connect(target, namespace=settings.temporal_namespace), timeout=timeout
        )
    except (RuntimeError, OSError, TimeoutError) as exc:
        log.warning("temporal_unreachable", target=target, error=str(exc))
        raise Unavailable(
            f"Temporal at {target} is unreachable", code="temporal_unavailable"
        ) from None
    log.debug("temporal_connected", target=target)
    return client


@dataclass
class TemporalGateway:
    """A Temporal client, connected on first need and again after a failed connect."""

    settings: Settings
    client: Client | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self) -> Client:
        if self.client is not None:
            return self.client
        async with self._lock:
            if self.client is None:
                self.client = await connect(self.settings)
        return self.client


@contextmanager
def temporal_errors() -> Iterator[None]:
    """Temporal's failures around a call, as the application's errors; the domain's own
    refusals (``DomainError``) pass through unchanged."""
    try:
        yield
    except cases.CaseNotFound as exc:
        raise NotFound(str(exc)) from None
    except cases.DuplicateReport as exc:
        raise Duplicate(str(exc), code="duplicate_report") from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        # No worker took the step in time: the case is intact, the caller may retry.
        raise Unavailable(
            "the case's worker did not answer in time; try again", code="temporal_unavailable"
        ) from None
    except RPCError as exc:
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise Unavailable(
                f"Temporal is unreachable: {exc.message}", code="temporal_unavailable"
            ) from None
        raise
