"""The HTTP API: a composition root like the CLI and the workers.

``create_app`` wires settings, the database, users and the application service (intake,
Temporal) into a FastAPI app; tests pass their own Temporal client and engine. Run it with
``uvicorn --factory api.app:create_app_from_env``. Routes only translate HTTP to the
application's use cases and read models and back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api import health, open311, problems
from api.limits import BodyLimit
from api.ratelimit import RateLimitMiddleware, RateLimits
from api.routes import cases, center, departments, grid_workers, kpi, photos, supervisors
from application.cases import CaseService
from application.config import Settings
from application.context import Services
from application.errors import Unavailable
from application.intake import IntakeSource
from application.live import LiveHub
from application.temporal import TemporalGateway
from store.calendar import log_calendar
from store.db import make_engine
from store.live import conninfo
from store.users import UserStore
from web.app import install as install_web

log = structlog.get_logger(__name__)

DESCRIPTION = """\
Case handling for grid-based governance (网格化社会治理).

Authenticate with `Authorization: Bearer <token>` (`gridcase users token issue ID`).
Errors are RFC 9457 problems (`application/problem+json`) with a stable `code`.
Lists are pages: `limit` (1–500, default 50) and `offset`; answers `{items, total, limit,
offset}`. Times are ISO 8601 with an offset.
"""


def create_app(
    settings: Settings, *, temporal_client: Client | None = None, engine: Engine | None = None
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        db = (
            engine
            if engine is not None
            else make_engine(settings.db_url, application_name="gridcase-api")
        )
        intakes = await run_in_threadpool(IntakeSource, settings, db)
        intake = intakes.get()
        gateway = TemporalGateway(settings, temporal_client)
        if temporal_client is None:
            try:
                await gateway.get()
            except Unavailable:
                # Serve what PostgreSQL can answer; Temporal is tried again on first need.
                log.warning("api_started_without_temporal", target=settings.temporal_target)
        live = LiveHub(conninfo(db))
        app.state.services = Services(
            settings=settings,
            engine=db,
            users=UserStore(db),
            cases=CaseService(db, intakes, gateway),
            live=live,
        )
        log.info("api_started", district=intake.district.code if intake.district else None)
        log_calendar(log, intake.calendar)  # warns when the official holiday data runs out
        try:
            yield
        finally:
            await live.close()
            if own_engine:
                db.dispose()

    app = FastAPI(
        title="gridcase API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # served by web.docs from the vendored Swagger UI
        redoc_url=None,
    )
    problems.install(app)
    app.add_middleware(BodyLimit, photo_max_bytes=settings.photo_max_bytes)
    # Added last, so it runs first: a caller over his limit costs no work at all.
    limits = RateLimits(settings.rate_user, settings.rate_client, settings.rate_anonymous)
    app.state.rate_limits = limits
    app.add_middleware(RateLimitMiddleware, limits=limits)

    # Fixed paths first: /v1/cases/overdue must not be read as a case id.
    app.include_router(health.router)
    for module in (supervisors, grid_workers, center, departments, kpi, photos, cases, open311):
        app.include_router(module.router)
    install_web(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            open311.document(FastAPI.openapi(app))  # FastAPI keeps it in app.openapi_schema
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def create_app_from_env() -> FastAPI:
    """The production entry point: ``uvicorn --factory api.app:create_app_from_env``."""
    return app_from_env()


def app_from_env() -> FastAPI:
    from application.logs import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
