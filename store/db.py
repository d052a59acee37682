"""Engines and migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from store import access
from store.access import DatabaseRoles

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(
    url: str, *, pool_size: int = 10, application_name: str = "", pre_ping: bool = True
) -> Engine:
    """A pooled engine; ``application_name`` names its connections in pg_stat_activity
    (which process holds which connection, as which role). ``pre_ping``: test each pooled
    connection before use (one more round trip each time), so a server restart costs no
    failed query; the activity workers go without it (their appends retry once on a closed
    connection and anything else is retried by Temporal)."""
    connect_args = {"application_name": application_name} if application_name else {}
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=10,
        pool_pre_ping=pre_ping,
        connect_args=connect_args,
    )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, roles: DatabaseRoles | None = None) -> None:
    """Bring the database schema to the newest migration, then the event sides and every
    role's privileges to what this release declares (``store.access``). Idempotent; run as
    the owner of the schema (or a superuser, which also creates missing roles)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        # One transaction: no moment where the log has row security without its policies.
        with engine.begin() as conn:
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            access.apply(conn, roles or DatabaseRoles())
    finally:
        engine.dispose()
