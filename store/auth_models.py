"""Who may call the API and sign in to the web pages: users with a role and their org
units, their passwords (argon2 hashes), bearer tokens, web sessions, failed sign-ins, and
the API keys of Open311 citizen apps. Tokens, session ids and keys are stored as sha256
hashes only, so a copy of the database cannot be replayed against the API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base

USER_ROLES = (
    "grid_worker",
    "acceptor",
    "shift_leader",
    "dispatcher",
    "handler",
    "supervisor",
    "leader",
    "admin",
)
_ROLE_LIST = ", ".join(f"'{r}'" for r in USER_ROLES)


class UserRow(Base):
    """A person who signs in. Deactivated rather than deleted: the event log names them."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN ({_ROLE_LIST})", name="role_known"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # argon2id (store/passwords.py); None: the user cannot sign in to the web pages.
    password_hash: Mapped[str | None] = mapped_column(Text)
    password_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserUnitRow(Base):
    """An org unit a user acts for: grids (grid worker), a department (handler), an area
    (supervisor, leader: district, street or community), the district (center staff)."""

    __tablename__ = "user_units"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    unit: Mapped[str] = mapped_column(Text, primary_key=True)
    # Binding order: a grid worker's first grid is his default unit.
    position: Mapped[int] = mapped_column(Integer, server_default="0")


class ApiTokenRow(Base):
    """A bearer token of a user: only its sha256 hash is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index("ix_api_tokens_user_id", "user_id"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text, server_default="")
    token_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiClientRow(Base):
    """An Open311 client (a citizen app): its api_key's sha256 hash."""

    __tablename__ = "api_clients"
    __table_args__ = (UniqueConstraint("name"), UniqueConstraint("key_hash"))

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebSessionRow(Base):
    """A signed-in browser: the sha256 of its cookie's secret, its CSRF token, and when it
    ends (absolute ``expires_at``; idle after ``last_seen_at`` plus the idle limit)."""

    __tablename__ = "web_sessions"
    __table_args__ = (
        Index("ix_web_sessions_user_id", "user_id"),
        Index("ix_web_sessions_expires_at", "expires_at"),
    )

    id_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SignInThrottleRow(Base):
    """Failed sign-ins of one user id or one client address in the current window, and
    the lock-out they led to. In the database, so a restart of the API forgets nothing."""

    __tablename__ = "sign_in_throttle"
    __table_args__ = (CheckConstraint("scope IN ('user', 'address')", name="scope_known"),)

    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, server_default="0")
    window_started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
