"""Who may call the API: users with a role and their org units, bearer tokens, and the
API keys of Open311 citizen apps. Tokens and keys are stored as sha256 hashes only, so a
copy of the database cannot be replayed against the API."""

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


class ApiClientRow(Base):
    """An Open311 client (a citizen app): its api_key's sha256 hash."""

    __tablename__ = "api_clients"
    __table_args__ = (UniqueConstraint("name"), UniqueConstraint("key_hash"))

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
