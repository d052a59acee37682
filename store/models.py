"""SQLAlchemy 2 models: the append-only event log and the read models built from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EventRow(Base):
    """One domain event. Rows are only ever inserted (a trigger refuses updates/deletes)."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("case_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    position: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    case_id: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(Text)
    schema_version: Mapped[int] = mapped_column(SmallInteger)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    actor_id: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str] = mapped_column(Text)
    actor_unit: Mapped[str] = mapped_column(Text, server_default="")
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class CaseRow(Base):
    """Current state of each case (a projection of its events; rebuildable)."""

    __tablename__ = "cases"
    __table_args__ = (
        # The overdue list: open cases by due time.
        Index(
            "ix_cases_open_due",
            "stage_due_at",
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_cases_department_status", "department", "status"),
        Index("ix_cases_grid_status", "grid", "status"),
        Index("ix_cases_category_status", "category", "status"),
    )

    case_id: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    grid: Mapped[str] = mapped_column(Text)
    department: Mapped[str] = mapped_column(Text, server_default="")
    source: Mapped[str] = mapped_column(Text)
    reporter_id: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stage_entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stage_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stage_overdue: Mapped[bool] = mapped_column(Boolean, server_default="false")
    overdue_count: Mapped[int] = mapped_column(Integer, server_default="0")
    rework_count: Mapped[int] = mapped_column(Integer, server_default="0")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationRow(Base):
    """A notice for supervision (e.g. a stage went overdue), one per triggering event."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("case_id", "event_version", "kind"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    case_id: Mapped[str] = mapped_column(Text)
    event_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
