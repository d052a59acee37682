"""What the HTTP front ends (the API and the web pages) need, built once by the app's
lifespan: the database engine, the user store, the application service
(``application.cases.CaseService``) with the intake and the Temporal gateway it holds, and
the hub of the pages' live updates (``application.live``).

Temporal may be down when the API starts or go away later; reads that only need
PostgreSQL keep working, and what needs Temporal answers 503 until it is back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.requests import Request

from application.cases import CaseService
from application.config import Settings
from application.intake import Intake
from application.live import LiveHub
from store.users import UserStore


@dataclass
class Services:
    settings: Settings
    engine: Engine
    users: UserStore
    cases: CaseService
    live: LiveHub  # the pages' live updates: one listener per process

    @property
    def intake(self) -> Intake:
        """Rules, grids and routing as imported now (reloaded after a new import)."""
        return self.cases.intake


def services(request: Request) -> Services:
    """The services the app's lifespan built (``request.app.state.services``)."""
    found: Services = request.app.state.services
    return found
