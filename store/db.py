"""Engines and migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, *, pool_size: int = 10, pre_ping: bool = True) -> Engine:
    """An engine for ``url``. ``pre_ping``: test each pooled connection before use (one
    more round trip each time), so a server restart costs no failed query; the activity
    workers go without it (their appends retry once on a closed connection and anything
    else is retried by Temporal)."""
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=pre_ping)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database schema to the newest migration (idempotent)."""
    command.upgrade(alembic_config(url), "head")
