"""What the routes need, built once by the app's lifespan: the database engine and the
stores on it, the intake (rules, grids, routing), and a Temporal client.

Temporal may be down when the API starts or go away later; reads that only need
PostgreSQL keep working, and what needs Temporal answers 503 until it is back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog
from fastapi import Request
from sqlalchemy import Engine
from temporalio.client import Client

from api.problems import temporal_unavailable
from gridcase.config import Settings
from gridcase.intake import Intake, IntakeSource
from store.event_store import EventStore
from store.users import UserStore
from workflows.converter import connect

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT = 5.0


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
                self.client = await self._connect()
        return self.client

    async def _connect(self) -> Client:
        target = self.settings.temporal_target
        try:
            client = await asyncio.wait_for(
                connect(target, namespace=self.settings.temporal_namespace),
                timeout=CONNECT_TIMEOUT,
            )
        except (RuntimeError, OSError, TimeoutError) as exc:
            log.warning("temporal_unreachable", target=target, error=str(exc))
            raise temporal_unavailable(f"Temporal at {target} is unreachable") from None
        log.info("temporal_connected", target=target)
        return client


@dataclass
class Services:
    settings: Settings
    engine: Engine
    store: EventStore
    users: UserStore
    intakes: IntakeSource
    temporal: TemporalGateway

    @property
    def intake(self) -> Intake:
        """Rules, grids and routing as imported now (reloaded after a new import)."""
        return self.intakes.get()


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
