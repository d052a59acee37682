"""SQLAlchemy 2 models: the append-only event log and the read models built from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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


class EventSideRow(Base):
    """The side (supervision or disposal) that records each event type: what the log's
    row-level security lets each side's role insert. Written only by ``store.db.migrate``
    from the step declarations (``store.access``)."""

    __tablename__ = "event_sides"

    type: Mapped[str] = mapped_column(Text, primary_key=True)
    side: Mapped[str] = mapped_column(Text)


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
        Index("ix_cases_street_status", "street", "status"),
        Index("ix_cases_community_status", "community", "status"),
        # Open cases near a point (merge candidates): category first, then a box.
        Index(
            "ix_cases_open_category_point",
            "category",
            "lon",
            "lat",
            postgresql_where=text("status = 'open'"),
        ),
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
    # Since migration 0003: the whole governance process.
    street: Mapped[str] = mapped_column(Text, server_default="")
    community: Mapped[str] = mapped_column(Text, server_default="")
    lon: Mapped[float | None] = mapped_column(Double)
    lat: Mapped[float | None] = mapped_column(Double)
    light: Mapped[str] = mapped_column(Text, server_default="green")
    stage_warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    condition: Mapped[str] = mapped_column(Text, server_default="")
    disposal_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disposal_late: Mapped[bool] = mapped_column(Boolean, server_default="false")
    dispatch_count: Mapped[int] = mapped_column(Integer, server_default="0")
    return_count: Mapped[int] = mapped_column(Integer, server_default="0")
    extension_count: Mapped[int] = mapped_column(Integer, server_default="0")
    pending_request: Mapped[str] = mapped_column(Text, server_default="")
    verification: Mapped[str] = mapped_column(Text, server_default="")
    self_handled: Mapped[bool] = mapped_column(Boolean, server_default="false")
    backlog: Mapped[bool] = mapped_column(Boolean, server_default="false")
    urge_count: Mapped[int] = mapped_column(Integer, server_default="0")
    supervision_level: Mapped[str] = mapped_column(Text, server_default="")
    supervision_pending: Mapped[bool] = mapped_column(Boolean, server_default="false")
    reply_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    merged_into: Mapped[str] = mapped_column(Text, server_default="")
    duplicate_count: Mapped[int] = mapped_column(Integer, server_default="0")
    closing_type: Mapped[str] = mapped_column(Text, server_default="")
    # Since migration 0009: when the center must answer the department's request.
    pending_request_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


NOTIFICATION_STATUSES = ("pending", "delivered", "failed", "no_subscriber")


class NotificationRow(Base):
    """A notice for supervision (e.g. a stage went overdue), one per triggering event.

    Written with its event (same transaction), then delivered from this table as an outbox:
    ``status`` is pending until every subscriber acknowledged it (delivered), delivery gave
    up (failed) or nobody subscribes to its audience (no_subscriber); the last two stay
    here, visible, until someone retries them.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("case_id", "event_version", "kind"),
        CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'no_subscriber')", name="status_known"
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The drain query: pending notices by due time.
        Index(
            "ix_notifications_pending_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_notifications_undelivered",
            "id",
            postgresql_where=text("status IN ('failed', 'no_subscriber')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    case_id: Mapped[str] = mapped_column(Text)
    event_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Subscriptions (by name) that acknowledged this notice; retries skip them.
    delivered_to: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )


class WebhookSubscriptionRow(Base):
    """Where notices are POSTed: a receiver URL, its signing secret, and the audiences it
    takes ("supervision", "department:sanitation", or "department:*" for every department).
    Deactivated rather than deleted, so the record of who was notified stays readable."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    audiences: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StepRequestRow(Base):
    """The request a person's step answered, written in the same transaction as the step's
    events: its idempotency key (scoped to the caller), a fingerprint of what was asked
    and the answer. The same key again is answered from here, whatever Temporal still
    remembers of the update (``application.requests``). Only ever inserted."""

    __tablename__ = "step_requests"

    case_id: Mapped[str] = mapped_column(Text, primary_key=True)
    request_key: Mapped[str] = mapped_column(Text, primary_key=True)
    step: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)  # the case's version after the step
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
