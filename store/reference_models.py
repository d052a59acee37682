"""SQLAlchemy models of the reference data (基础数据): taxonomy, org units, routing, calendar.

Each kind — ``taxonomy``, ``district``, ``routing`` — is written only by its import in
``store/reference.py``, which replaces the kind's rows in one transaction and records a
``reference_versions`` row. ``position`` keeps the order of the imported document, so what
is loaded back equals what was imported. Migration 0004 creates these tables.

Holiday notices (kind ``calendar``, ``store/calendar.py``) are kept, not replaced: each
import is a new calendar version whose years override older versions' (migration
"calendar notices").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base


# -- taxonomy ------------------------------------------------------------------------------
class DepartmentRow(Base):
    """A responsible department (处置部门)."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    extension: Mapped[bool] = mapped_column(Boolean, server_default="false")


class MajorClassRow(Base):
    """A major class (大类) of components (部件) or events (事件)."""

    __tablename__ = "major_classes"
    __table_args__ = (CheckConstraint("kind IN ('component', 'event')", name="kind_known"),)

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    extension: Mapped[bool] = mapped_column(Boolean, server_default="false")


class CategoryRow(Base):
    """A minor class (小类) with its filing conditions (立案条件) as JSON."""

    __tablename__ = "categories"
    __table_args__ = (
        ForeignKeyConstraint(
            ["kind", "major"],
            ["major_classes.kind", "major_classes.code"],
            name="fk_categories_kind_major_classes",
        ),
        CheckConstraint("urgency IN ('urgent', 'ordinary')", name="urgency_known"),
    )

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(Text)
    major: Mapped[str] = mapped_column(Text)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(Text)
    default_department: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    supervising_department: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    self_handling: Mapped[bool] = mapped_column(Boolean)
    extension: Mapped[bool] = mapped_column(Boolean, server_default="false")
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)


# -- district ------------------------------------------------------------------------------
class OrgUnitRow(Base):
    """District (区), street (街道/镇), community (社区/村) or unit grid (单元网格).

    ``geometry`` (GeoJSON, unit grids only) is the exact shape; the bbox columns, filled for
    every level from its grids, are the coarse filter for locating a point.
    """

    __tablename__ = "org_units"
    __table_args__ = (
        CheckConstraint("level IN ('district', 'street', 'community', 'grid')", name="level_known"),
        Index("ix_org_units_parent", "parent"),
        Index("ix_org_units_level_bbox", "level", "min_lon", "max_lon", "min_lat", "max_lat"),
    )

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    level: Mapped[str] = mapped_column(Text)
    parent: Mapped[str | None] = mapped_column(ForeignKey("org_units.code"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)  # name_zh, or a grid's own name
    name_en: Mapped[str] = mapped_column(Text, server_default="")
    households: Mapped[int | None] = mapped_column(Integer)  # 户数, unit grids
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    min_lon: Mapped[float | None] = mapped_column(Double)
    min_lat: Mapped[float | None] = mapped_column(Double)
    max_lon: Mapped[float | None] = mapped_column(Double)
    max_lat: Mapped[float | None] = mapped_column(Double)
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # District row only: the departments working in it (codes, in order).
    departments: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))


class ResponsibilityGridRow(Base):
    """A responsibility grid (责任网格): unit grids patrolled together."""

    __tablename__ = "responsibility_grids"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    grid_codes: Mapped[list[str]] = mapped_column(ARRAY(Text))


class GridWorkerRow(Base):
    """A grid worker (网格员) with the unit grids of their responsibility grid."""

    __tablename__ = "grid_workers"
    __table_args__ = (UniqueConstraint("responsibility_grid"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    responsibility_grid: Mapped[str] = mapped_column(ForeignKey("responsibility_grids.id"))
    # A copy of the responsibility grid's codes: "whose grids" is one row read.
    grid_codes: Mapped[list[str]] = mapped_column(ARRAY(Text))


# -- routing -------------------------------------------------------------------------------
class RoutingRuleRow(Base):
    """An override of a category's default department (派遣规则) in an area."""

    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("category", "area"),)

    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(Text)
    area: Mapped[str] = mapped_column(Text)
    department: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, server_default="")


# -- versions ------------------------------------------------------------------------------
class ReferenceVersionRow(Base):
    """One accepted import of a kind; the newest row per kind describes what is loaded."""

    __tablename__ = "reference_versions"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('taxonomy', 'district', 'routing', 'calendar')", name="kind_known"
        ),
        Index("ix_reference_versions_kind_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(Text)  # sha256 of the rows written
    source: Mapped[str] = mapped_column(Text, server_default="")
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    counts: Mapped[dict[str, int]] = mapped_column(JSONB)


# -- calendar ------------------------------------------------------------------------------
class CalendarYearRow(Base):
    """One year of an imported State Council holiday notice (节假日安排), in the
    ``calendar`` version that imported it; the newest version of a year is in force."""

    __tablename__ = "calendar_years"
    __table_args__ = (CheckConstraint("year BETWEEN 1950 AND 2199", name="year_plausible"),)

    version: Mapped[int] = mapped_column(ForeignKey("reference_versions.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    # Rest periods in the notice file shape: [{"name", "first", "last", "workdays"}].
    holidays: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
