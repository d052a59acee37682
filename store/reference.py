"""Reference data in PostgreSQL: import the taxonomy, the district and routing; load them back.

Three kinds, each imported whole: ``taxonomy`` (departments, major classes, categories),
``district`` (org units, responsibility grids, grid workers) and ``routing`` (override
rules). An import turns the domain object into rows and a sha256 checksum of those rows.
The same checksum as the newest ``reference_versions`` row of the kind changes nothing;
anything else replaces the kind's rows and adds a version row, in one transaction.

Kinds refer to each other — categories and routing rules name departments, the district
lists the departments working in it — so every import runs under one advisory lock and
is checked against the other kinds as they are stored: an import that would leave a
dangling reference is refused with the reason, and nothing changes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from domain.calendar import TimeLimit
from domain.geo import Area, GridIndex, PointOutsideGrids
from domain.org import (
    Community,
    District,
    GridWorker,
    Level,
    ResponsibilityGrid,
    Street,
    UnitGrid,
)
from domain.routing import InvalidRouting, Router, RoutingRule
from domain.taxonomy import (
    Category,
    Department,
    FilingCondition,
    Kind,
    MajorClass,
    Severity,
    Taxonomy,
    Urgency,
    default_taxonomy,
)
from store.errors import StoreError
from store.models import Base
from store.reference_models import (
    CalendarYearRow,
    CategoryRow,
    DepartmentRow,
    GridWorkerRow,
    MajorClassRow,
    OrgUnitRow,
    ReferenceVersionRow,
    ResponsibilityGridRow,
    RoutingRuleRow,
)

__all__ = [
    "ImportResult",
    "KindVersion",
    "NoDistrictLoaded",
    "ReferenceConflict",
    "ReferenceDataError",
    "ReferenceStatus",
    "import_district",
    "import_routing",
    "import_taxonomy",
    "load_district",
    "load_router",
    "load_taxonomy",
    "locate_grid",
    "reference_status",
]

Progress = Callable[[int, int], None]  # (rows written, rows to write)
Rows = dict[str, list[dict[str, Any]]]  # table name -> rows, in insertion order

_TABLES: dict[str, type[Base]] = {
    model.__tablename__: model
    for model in (
        DepartmentRow,
        MajorClassRow,
        CategoryRow,
        OrgUnitRow,
        ResponsibilityGridRow,
        GridWorkerRow,
        RoutingRuleRow,
        CalendarYearRow,  # written by store/calendar.py, counted here
    )
}
_LEVEL_ORDER = {level.value: rank for rank, level in enumerate(Level)}
_BATCH = 500


class ReferenceDataError(StoreError, ValueError):
    """Reference data the database cannot take."""


class ReferenceConflict(ReferenceDataError):
    """An import that would leave another kind pointing at something that is gone."""


class NoDistrictLoaded(ReferenceDataError, LookupError):
    def __init__(self) -> None:
        super().__init__(
            "no district is loaded; import one (`gridcase reference import-grids FILE` "
            "or `gridcase reference seed-demo`)"
        )


@dataclass(frozen=True)
class ImportResult:
    kind: str
    changed: bool  # False: the same data was already loaded, nothing was written
    version: int  # the reference_versions id describing what is loaded now
    checksum: str
    counts: dict[str, int]


@dataclass(frozen=True)
class KindVersion:
    kind: str
    version: int
    checksum: str
    source: str
    imported_at: datetime
    counts: dict[str, int]


@dataclass(frozen=True)
class ReferenceStatus:
    rows: dict[str, int]  # table -> row count
    versions: dict[str, KindVersion]  # kind -> newest import; absent when never imported


# -- imports -------------------------------------------------------------------------------
def import_taxonomy(
    engine: Engine, taxonomy: Taxonomy, *, source: str = "", progress: Progress | None = None
) -> ImportResult:
    """Store the taxonomy (departments, major classes, categories)."""

    def check(conn: Connection) -> None:
        try:
            Router(taxonomy, _stored_rules(conn))
        except InvalidRouting as exc:
            raise ReferenceConflict(
                f"the new taxonomy does not fit the stored routing rules: {exc}. Import routing "
                "rules that fit it (an empty rule list will do) before the taxonomy"
            ) from None
        _check_district_departments(conn, taxonomy)

    return _import(engine, "taxonomy", _taxonomy_rows(taxonomy), source, progress, check)


def import_district(
    engine: Engine, district: District, *, source: str = "", progress: Progress | None = None
) -> ImportResult:
    """Store the district (one district: a new one replaces the old)."""

    def check(conn: Connection) -> None:
        taxonomy = _load_taxonomy(conn)
        for department in district.departments:
            try:
                known = taxonomy.department(department.code)
            except LookupError as exc:
                raise ReferenceConflict(
                    f"district {district.code}: {exc.args[0]}; import the taxonomy (or its "
                    "extension) that defines it first"
                ) from None
            if known != department:
                raise ReferenceConflict(
                    f"district {district.code}: department {department.code} is "
                    f"{department.name_zh} {department.name_en!r} in the district but "
                    f"{known.name_zh} {known.name_en!r} in the taxonomy"
                )

    return _import(engine, "district", _district_rows(district), source, progress, check)


def import_routing(
    engine: Engine, router: Router, *, source: str = "", progress: Progress | None = None
) -> ImportResult:
    """Store the routing overrides, checked against the taxonomy in the database."""

    def check(conn: Connection) -> None:
        Router(_load_taxonomy(conn), router.rules)  # InvalidRouting says which rule and why

    rows: Rows = {
        "routing_rules": [
            {"position": i, **rule.to_dict(), "note": rule.note}
            for i, rule in enumerate(router.rules)
        ]
    }
    return _import(engine, "routing", rows, source, progress, check)


def _import(
    engine: Engine,
    kind: str,
    rows: Rows,
    source: str,
    progress: Progress | None,
    check: Callable[[Connection], None],
) -> ImportResult:
    checksum = hashlib.sha256(
        json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()
    counts = {table: len(table_rows) for table, table_rows in rows.items()}
    if kind == "district":
        for level in Level:
            counts[level.value] = sum(r["level"] == level for r in rows["org_units"])
    total = sum(counts[table] for table in rows)
    report = progress or (lambda done, total: None)
    try:
        with engine.begin() as conn:
            # One lock for every reference import: the cross-kind checks below read the
            # other kinds, which must not change until this transaction commits.
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gridcase.reference'))"))
            newest = _newest_versions(conn).get(kind)
            if newest is not None and newest.checksum == checksum:
                report(total, total)
                return ImportResult(kind, False, newest.version, checksum, newest.counts)
            check(conn)
            report(0, total)
            for table in reversed(rows):  # children first: foreign keys
                conn.execute(delete(_TABLES[table]))
            done = 0
            for table, table_rows in rows.items():
                for start in range(0, len(table_rows), _BATCH):
                    batch = table_rows[start : start + _BATCH]
                    conn.execute(insert(_TABLES[table]), batch)
                    done += len(batch)
                    report(done, total)
            version = conn.execute(
                insert(ReferenceVersionRow)
                .values(kind=kind, checksum=checksum, source=source, counts=counts)
                .returning(ReferenceVersionRow.id)
            ).scalar_one()
    except IntegrityError as exc:
        raise ReferenceDataError(f"the database refused the {kind} import: {exc.orig}") from None
    return ImportResult(kind, True, version, checksum, counts)


# -- rows ----------------------------------------------------------------------------------
def _taxonomy_rows(taxonomy: Taxonomy) -> Rows:
    return {
        "departments": [
            {
                "code": d.code,
                "position": i,
                "name_zh": d.name_zh,
                "name_en": d.name_en,
                "extension": d.extension,
            }
            for i, d in enumerate(taxonomy.departments)
        ],
        "major_classes": [
            {
                "kind": m.kind.value,
                "code": m.code,
                "position": i,
                "name_zh": m.name_zh,
                "name_en": m.name_en,
                "extension": m.extension,
            }
            for i, m in enumerate(taxonomy.major_classes)
        ],
        "categories": [_category_row(c, i) for i, c in enumerate(taxonomy.categories)],
    }


def _category_row(c: Category, position: int) -> dict[str, Any]:
    return {
        "code": c.code,
        "position": position,
        "kind": c.kind.value,
        "major": c.major_code,
        "name_zh": c.name_zh,
        "name_en": c.name_en,
        "urgency": c.urgency.value,
        "default_department": c.default_department,
        "supervising_department": c.supervising_department,
        "self_handling": c.self_handling,
        "extension": c.extension,
        "conditions": [
            {
                "id": f.id,
                "description_zh": f.description_zh,
                "description_en": f.description_en,
                "limit": {"amount": f.limit.amount, "unit": f.limit.unit.value},
                "closing_zh": f.closing_zh,
                "closing_en": f.closing_en,
                "basis": f.basis,
                "severity": None if f.severity is None else f.severity.value,
            }
            for f in c.conditions
        ],
    }


def _district_rows(district: District) -> Rows:
    boxes: dict[str, list[float]] = {}  # code of any level -> [w, s, e, n] over its grids
    for g in district.grids:
        if g.area is not None:
            for code in (g.code, g.code[:12], g.code[:9], g.code[:6]):
                _grow(boxes, code, g.area.bbox)

    def unit(code: str, level: Level, position: int, **values: Any) -> dict[str, Any]:
        box = boxes.get(code, [None] * 4)
        return {
            "code": code,
            "level": level.value,
            "parent": None if level is Level.DISTRICT else code[:-3],
            "position": position,
            "name_en": "",
            "households": None,
            "geometry": None,
            "min_lon": box[0],
            "min_lat": box[1],
            "max_lon": box[2],
            "max_lat": box[3],
            "synthetic": district.synthetic,
            "departments": [],
            **values,
        }

    org_units = [
        unit(
            district.code,
            Level.DISTRICT,
            0,
            name=district.name_zh,
            name_en=district.name_en,
            departments=[d.code for d in district.departments],
        ),
        *(
            unit(s.code, Level.STREET, i, name=s.name_zh, name_en=s.name_en)
            for i, s in enumerate(district.streets)
        ),
        *(
            unit(c.code, Level.COMMUNITY, i, name=c.name_zh, name_en=c.name_en)
            for i, c in enumerate(district.communities)
        ),
        *(
            unit(
                g.code,
                Level.GRID,
                i,
                name=g.name,
                households=g.households,
                geometry=None if g.area is None else g.area.to_geojson(),
            )
            for i, g in enumerate(district.grids)
        ),
    ]
    rgrids = {r.id: r for r in district.responsibility_grids}
    return {
        "org_units": org_units,
        "responsibility_grids": [
            {"id": r.id, "position": i, "grid_codes": list(r.grid_codes)}
            for i, r in enumerate(district.responsibility_grids)
        ],
        "grid_workers": [
            {
                "id": w.id,
                "position": i,
                "name": w.name,
                "responsibility_grid": w.responsibility_grid,
                "grid_codes": list(rgrids[w.responsibility_grid].grid_codes),
            }
            for i, w in enumerate(district.workers)
        ],
    }


def _grow(boxes: dict[str, list[float]], code: str, bbox: Sequence[float]) -> None:
    box = boxes.get(code)
    boxes[code] = (
        list(bbox)
        if box is None
        else [
            min(box[0], bbox[0]),
            min(box[1], bbox[1]),
            max(box[2], bbox[2]),
            max(box[3], bbox[3]),
        ]
    )


# -- loads ---------------------------------------------------------------------------------
@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    # One snapshot for every table read, so a load never mixes two imports.
    connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with connection as conn, conn.begin():
        yield conn


def load_taxonomy(engine: Engine) -> Taxonomy:
    """The stored taxonomy; the shipped one when none was imported."""
    with _snapshot(engine) as conn:
        return _load_taxonomy(conn)


def load_router(engine: Engine) -> Router:
    """The stored routing overrides over the stored (or shipped) taxonomy."""
    with _snapshot(engine) as conn:
        return Router(_load_taxonomy(conn), _stored_rules(conn))


def load_district(engine: Engine) -> District:
    """The stored district; NoDistrictLoaded when none was imported."""
    with _snapshot(engine) as conn:
        return _load_district(conn)


def _load_taxonomy(conn: Connection) -> Taxonomy:
    if conn.execute(select(func.count()).select_from(CategoryRow)).scalar_one() == 0:
        return default_taxonomy()
    departments = tuple(
        Department(r.code, r.name_zh, r.name_en, r.extension)
        for r in conn.execute(select(DepartmentRow).order_by(DepartmentRow.position))
    )
    majors = tuple(
        MajorClass(Kind(r.kind), r.code, r.name_zh, r.name_en, r.extension)
        for r in conn.execute(select(MajorClassRow).order_by(MajorClassRow.position))
    )
    categories = tuple(
        Category(
            code=r.code,
            name_zh=r.name_zh,
            name_en=r.name_en,
            urgency=Urgency(r.urgency),
            default_department=r.default_department,
            self_handling=r.self_handling,
            conditions=tuple(_condition(raw) for raw in r.conditions),
            extension=r.extension,
            supervising_department=r.supervising_department,
        )
        for r in conn.execute(select(CategoryRow).order_by(CategoryRow.position))
    )
    return Taxonomy(departments=departments, major_classes=majors, categories=categories)


def _condition(raw: Mapping[str, Any]) -> FilingCondition:
    severity = raw.get("severity")
    return FilingCondition(
        id=raw["id"],
        description_zh=raw["description_zh"],
        description_en=raw["description_en"],
        limit=TimeLimit(raw["limit"]["amount"], raw["limit"]["unit"]),
        closing_zh=raw["closing_zh"],
        closing_en=raw["closing_en"],
        basis=raw["basis"],
        severity=None if severity is None else Severity(severity),
    )


def _stored_rules(conn: Connection) -> tuple[RoutingRule, ...]:
    return tuple(
        RoutingRule(r.category, r.area, r.department, r.note)
        for r in conn.execute(select(RoutingRuleRow).order_by(RoutingRuleRow.position))
    )


def _load_district(conn: Connection) -> District:
    units = sorted(
        conn.execute(select(OrgUnitRow)).all(), key=lambda r: (_LEVEL_ORDER[r.level], r.position)
    )
    if not units:
        raise NoDistrictLoaded()
    by_level: dict[str, list[Any]] = {level.value: [] for level in Level}
    for row in units:
        by_level[row.level].append(row)
    (top,) = by_level[Level.DISTRICT]
    taxonomy = _load_taxonomy(conn)
    rgrids = conn.execute(
        select(ResponsibilityGridRow).order_by(ResponsibilityGridRow.position)
    ).all()
    workers = conn.execute(select(GridWorkerRow).order_by(GridWorkerRow.position)).all()
    return District(
        code=top.code,
        name_zh=top.name,
        name_en=top.name_en,
        streets=tuple(Street(r.code, r.name, r.name_en) for r in by_level[Level.STREET]),
        communities=tuple(Community(r.code, r.name, r.name_en) for r in by_level[Level.COMMUNITY]),
        grids=tuple(
            UnitGrid(
                code=r.code,
                area=None if r.geometry is None else Area.from_geojson(r.geometry),
                households=r.households,
                name=r.name,
            )
            for r in by_level[Level.GRID]
        ),
        responsibility_grids=tuple(ResponsibilityGrid(r.id, tuple(r.grid_codes)) for r in rgrids),
        workers=tuple(GridWorker(r.id, r.name, r.responsibility_grid) for r in workers),
        departments=tuple(taxonomy.department(code) for code in top.departments),
        synthetic=top.synthetic,
    )


def _check_district_departments(conn: Connection, taxonomy: Taxonomy) -> None:
    codes = conn.execute(
        select(OrgUnitRow.departments).where(OrgUnitRow.level == Level.DISTRICT.value)
    ).scalar_one_or_none()
    for code in codes or ():
        try:
            taxonomy.department(code)
        except LookupError:
            raise ReferenceConflict(
                f"the new taxonomy lacks department {code!r}, which the stored district "
                "lists; keep it in the taxonomy or import a district without it first"
            ) from None


# -- queries -------------------------------------------------------------------------------
def locate_grid(engine: Engine, lon: float, lat: float) -> str:
    """The unit grid containing a point, reading only the grids whose box holds it.

    Same answer as ``load_district(engine).locate(lon, lat)``, boundary rule included:
    every grid that could own the point has the point in its box, so it is a candidate.
    """
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"point (lon {lon}, lat {lat}) is not a finite coordinate")
    u = OrgUnitRow
    with engine.connect() as conn:
        rows = conn.execute(
            select(u.code, u.geometry).where(
                u.level == Level.GRID.value,
                u.geometry.is_not(None),
                u.min_lon <= lon,
                u.max_lon >= lon,
                u.min_lat <= lat,
                u.max_lat >= lat,
            )
        ).all()
        if not rows and conn.execute(select(func.count()).select_from(u)).scalar_one() == 0:
            raise NoDistrictLoaded()
    if not rows:
        raise PointOutsideGrids(lon, lat)
    return GridIndex({r.code: Area.from_geojson(r.geometry) for r in rows}).locate(lon, lat)


def reference_status(engine: Engine) -> ReferenceStatus:
    """Row counts of the reference tables and the newest version of each kind."""
    with _snapshot(engine) as conn:
        rows = {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in _TABLES.items()
        }
        return ReferenceStatus(rows=rows, versions=_newest_versions(conn))


def _newest_versions(conn: Connection) -> dict[str, KindVersion]:
    v = ReferenceVersionRow
    newest = select(func.max(v.id)).group_by(v.kind)
    rows = conn.execute(select(v).where(v.id.in_(newest)))
    return {
        r.kind: KindVersion(r.kind, r.id, r.checksum, r.source, r.imported_at, dict(r.counts))
        for r in rows
    }


def reference_version(engine: Engine) -> int:
    """The newest import's id (0 when nothing was imported): changes on every import."""
    with engine.connect() as conn:
        found = conn.execute(select(func.max(ReferenceVersionRow.id))).scalar()
    return int(found or 0)
