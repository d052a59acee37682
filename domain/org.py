"""Grids and organisation (docs/field-facts.md §5): district → street/town → community → unit grid.

Codes nest: a 6-digit GB/T 2260 district code (区/县), + 3 digits for the street or town
(街道 0xx, 镇 1xx, 乡 2xx–3xx) = 9, + 3 for the community or village (社区/村) = 12, + a
3-digit unit-grid sequence (单元网格, numbered west→east, north→south inside its
community) = 15. A responsibility grid (责任网格) groups unit grids under one grid worker
(网格员). Every lookup and the GeoJSON round trip live on the frozen :class:`District`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Protocol, TypeVar

from domain.errors import DomainError
from domain.geo import Area, GridIndex, PointOutsideGrids
from domain.taxonomy import Department

__all__ = [
    "Community",
    "District",
    "GridWorker",
    "InvalidOrgCode",
    "Level",
    "PointOutsideGrids",
    "ResponsibilityGrid",
    "Street",
    "StreetKind",
    "UnitGrid",
    "UnknownOrgUnit",
    "code_level",
    "parent_code",
    "street_kind",
]

GEOJSON_SCHEMA_VERSION = 1
_T = TypeVar("_T")


class InvalidOrgCode(DomainError, ValueError):
    code = "invalid_org_code"


class UnknownOrgUnit(DomainError, LookupError):
    code = "unknown_org_unit"


class Level(StrEnum):
    DISTRICT = "district"  # 区/县, 6 digits
    STREET = "street"  # 街道/镇/乡, 9 digits
    COMMUNITY = "community"  # 社区/村, 12 digits
    GRID = "grid"  # 单元网格, 15 digits


class StreetKind(StrEnum):
    STREET = "street"  # 街道, 001–099
    TOWN = "town"  # 镇, 100–199
    TOWNSHIP = "township"  # 乡, 200–399


_LEVEL_BY_LENGTH = {6: Level.DISTRICT, 9: Level.STREET, 12: Level.COMMUNITY, 15: Level.GRID}
_DISTRICT_RE = re.compile(r"^[1-8]\d{3}(?!00)\d{2}$")  # county level: never ends in 00


def code_level(code: str) -> Level:
    """Validate an org code and say which level it names; InvalidOrgCode if malformed."""
    level = _LEVEL_BY_LENGTH.get(len(code)) if code.isascii() and code.isdigit() else None
    if level is None:
        raise InvalidOrgCode(f"org code {code!r} must be 6, 9, 12 or 15 ascii digits")
    if not _DISTRICT_RE.match(code[:6]):
        raise InvalidOrgCode(f"org code {code!r}: {code[:6]} is not a GB/T 2260 county code")
    if len(code) >= 9 and not 1 <= int(code[6:9]) <= 399:
        raise InvalidOrgCode(f"org code {code!r}: street/town part {code[6:9]} not in 001-399")
    for start, what in ((9, "community"), (12, "grid")):
        if len(code) > start and code[start : start + 3] == "000":
            raise InvalidOrgCode(f"org code {code!r}: {what} part must not be 000")
    return level


def parent_code(code: str) -> str | None:
    """The code one level up (None for a district)."""
    return None if code_level(code) is Level.DISTRICT else code[:-3]


def street_kind(code: str) -> StreetKind:
    """Street (街道), town (镇) or township (乡), from the street part of any code ≥ 9 digits."""
    if code_level(code) is Level.DISTRICT:
        raise InvalidOrgCode(f"district code {code!r} has no street part")
    number = int(code[6:9])
    if number < 100:
        return StreetKind.STREET
    return StreetKind.TOWN if number < 200 else StreetKind.TOWNSHIP


def _expect(code: str, level: Level, what: str) -> None:
    if code_level(code) is not level:
        raise InvalidOrgCode(f"{what} code {code!r} must be a {level.value} code")


@dataclass(frozen=True, slots=True)
class Street:
    """A street office or town (街道/镇/乡)."""

    code: str
    name_zh: str
    name_en: str = ""

    def __post_init__(self) -> None:
        _expect(self.code, Level.STREET, "street")

    @property
    def kind(self) -> StreetKind:
        return street_kind(self.code)


@dataclass(frozen=True, slots=True)
class Community:
    """A community or village (社区/村)."""

    code: str
    name_zh: str
    name_en: str = ""

    def __post_init__(self) -> None:
        _expect(self.code, Level.COMMUNITY, "community")

    @property
    def street_code(self) -> str:
        return self.code[:9]


@dataclass(frozen=True, slots=True)
class UnitGrid:
    """A unit grid (单元网格): the smallest area a case is located to."""

    code: str
    area: Area | None = None
    households: int | None = None  # 户数; social-governance grids hold 300–500
    name: str = ""

    def __post_init__(self) -> None:
        _expect(self.code, Level.GRID, "unit grid")
        if self.households is not None and self.households < 0:
            raise ValueError(f"grid {self.code}: households must be >= 0")

    @property
    def community_code(self) -> str:
        return self.code[:12]

    @property
    def street_code(self) -> str:
        return self.code[:9]

    @property
    def sequence(self) -> int:
        return int(self.code[12:])


@dataclass(frozen=True, slots=True)
class ResponsibilityGrid:
    """A responsibility grid (责任网格): the unit grids one grid worker patrols."""

    id: str
    grid_codes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise ValueError("responsibility grid id must not be empty")
        if not self.grid_codes:
            raise ValueError(f"responsibility grid {self.id} needs at least one unit grid")
        object.__setattr__(self, "grid_codes", tuple(sorted(set(self.grid_codes))))


@dataclass(frozen=True, slots=True)
class GridWorker:
    """A grid worker (网格员/监督员) and the responsibility grid they patrol."""

    id: str
    name: str
    responsibility_grid: str


@dataclass(frozen=True)
class District:
    """The organisation model of one district, validated on construction."""

    code: str
    name_zh: str
    name_en: str
    streets: tuple[Street, ...]
    communities: tuple[Community, ...]
    grids: tuple[UnitGrid, ...]
    responsibility_grids: tuple[ResponsibilityGrid, ...] = ()
    workers: tuple[GridWorker, ...] = ()
    departments: tuple[Department, ...] = ()
    synthetic: bool = False  # True for generated demo data, so nobody mistakes it for real
    _ix: _Indexes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _expect(self.code, Level.DISTRICT, "district")
        ix = _Indexes(
            streets=_unique(self.streets, "street"),
            communities=_unique(self.communities, "community"),
            grids=_unique(self.grids, "unit grid"),
            departments=_unique(self.departments, "department"),
        )
        for what, codes, parents in (
            ("street", ix.streets, {self.code}),
            ("community", ix.communities, ix.streets),
            ("unit grid", ix.grids, ix.communities),
        ):
            for code in codes:
                if code[:-3] not in parents:
                    raise ValueError(
                        f"{what} {code}: its parent {code[:-3]} is not in the district"
                    )
        for rgrid in self.responsibility_grids:
            if rgrid.id in ix.rgrids:
                raise ValueError(f"duplicate responsibility grid id {rgrid.id}")
            ix.rgrids[rgrid.id] = rgrid
            for code in rgrid.grid_codes:
                if code not in ix.grids:
                    raise ValueError(f"responsibility grid {rgrid.id}: unknown unit grid {code}")
                if code in ix.rgrid_of_grid:
                    raise ValueError(f"unit grid {code} is in two responsibility grids")
                ix.rgrid_of_grid[code] = rgrid
        for worker in self.workers:
            if worker.id in ix.workers:
                raise ValueError(f"duplicate grid worker id {worker.id}")
            ix.workers[worker.id] = worker
            if worker.responsibility_grid not in ix.rgrids:
                raise ValueError(f"worker {worker.id}: unknown {worker.responsibility_grid!r}")
            if worker.responsibility_grid in ix.worker_of_rgrid:
                raise ValueError(
                    f"responsibility grid {worker.responsibility_grid} has two workers"
                )
            ix.worker_of_rgrid[worker.responsibility_grid] = worker
        object.__setattr__(self, "_ix", ix)

    # -- lookups -----------------------------------------------------------------------
    def street(self, code: str) -> Street:
        return _lookup(self._ix.streets, code, "street", self.code)

    def community(self, code: str) -> Community:
        return _lookup(self._ix.communities, code, "community", self.code)

    def grid(self, code: str) -> UnitGrid:
        return _lookup(self._ix.grids, code, "unit grid", self.code)

    def department(self, code: str) -> Department:
        return _lookup(self._ix.departments, code, "department", self.code)

    def worker(self, worker_id: str) -> GridWorker:
        return _lookup(self._ix.workers, worker_id, "grid worker", self.code)

    def community_of(self, grid_code: str) -> Community:
        return self.community(self.grid(grid_code).community_code)

    def street_of(self, code: str) -> Street:
        """The street of a community or unit grid code."""
        if code_level(code) is Level.GRID:
            return self.street(self.grid(code).street_code)
        return self.street(self.community(code).street_code)

    def grids_in(self, code: str) -> tuple[UnitGrid, ...]:
        """The unit grids under a district, street or community code, in code order."""
        code_level(code)
        return tuple(self._ix.grids[c] for c in sorted(self._ix.grids) if c.startswith(code))

    def responsibility_grid_of(self, grid_code: str) -> ResponsibilityGrid | None:
        self.grid(grid_code)
        return self._ix.rgrid_of_grid.get(grid_code)

    def worker_for_grid(self, grid_code: str) -> GridWorker | None:
        """The grid worker responsible for a unit grid, None when nobody is assigned."""
        rgrid = self.responsibility_grid_of(grid_code)
        return None if rgrid is None else self._ix.worker_of_rgrid.get(rgrid.id)

    def grids_of_worker(self, worker_id: str) -> tuple[UnitGrid, ...]:
        rgrid = self._ix.rgrids[self.worker(worker_id).responsibility_grid]
        return tuple(self._ix.grids[code] for code in rgrid.grid_codes)

    def locate(self, lon: float, lat: float) -> str:
        """The code of the unit grid containing the point; PointOutsideGrids otherwise."""
        return self._spatial_index.locate(lon, lat)

    @cached_property
    def _spatial_index(self) -> GridIndex:
        # Built on first use: many callers never locate, and building costs O(grids).
        areas = {g.code: g.area for g in self.grids if g.area is not None}
        if not areas:
            raise ValueError(f"district {self.code} has no grid geometry to locate in")
        return GridIndex(areas)

    # -- GeoJSON -----------------------------------------------------------------------
    def to_geojson(self) -> dict[str, Any]:
        """A FeatureCollection of the unit grids; the rest rides in a "gridcase" member."""
        features = []
        for g in self.grids_in(self.code):
            rgrid = self.responsibility_grid_of(g.code)
            worker = self.worker_for_grid(g.code)
            properties = {
                "code": g.code,
                "name": g.name,
                "community_code": g.community_code,
                "street_code": g.street_code,
                "households": g.households,
                "responsibility_grid": None if rgrid is None else rgrid.id,
                "worker_id": None if worker is None else worker.id,
                "synthetic": self.synthetic,
            }
            geometry = None if g.area is None else g.area.to_geojson()
            features.append(
                {"type": "Feature", "id": g.code, "geometry": geometry, "properties": properties}
            )
        meta = {
            "schema_version": GEOJSON_SCHEMA_VERSION,
            "synthetic": self.synthetic,
            "district": {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en},
            "streets": [_names(s) for s in self.streets],
            "communities": [_names(c) for c in self.communities],
            "departments": [
                {
                    "code": d.code,
                    "name_zh": d.name_zh,
                    "name_en": d.name_en,
                    "extension": d.extension,
                }
                for d in self.departments
            ],
            "responsibility_grids": [
                {"id": r.id, "grid_codes": list(r.grid_codes)} for r in self.responsibility_grids
            ],
            "workers": [
                {"id": w.id, "name": w.name, "responsibility_grid": w.responsibility_grid}
                for w in self.workers
            ],
        }
        return {"type": "FeatureCollection", "gridcase": meta, "features": features}

    @classmethod
    def from_geojson(cls, document: Mapping[str, Any]) -> District:
        if document.get("type") != "FeatureCollection":
            raise ValueError("a district document must be a GeoJSON FeatureCollection")
        meta = document.get("gridcase")
        if not isinstance(meta, Mapping):
            raise ValueError('a district FeatureCollection needs its "gridcase" member')
        if meta.get("schema_version") != GEOJSON_SCHEMA_VERSION:
            raise ValueError(f"unsupported district schema_version {meta.get('schema_version')!r}")
        grids = []
        for feature in document.get("features", []):
            props = feature.get("properties") or {}
            geometry = feature.get("geometry")
            grids.append(
                UnitGrid(
                    code=props["code"],
                    area=None if geometry is None else Area.from_geojson(geometry),
                    households=props.get("households"),
                    name=props.get("name", ""),
                )
            )
        district = meta["district"]
        return cls(
            code=district["code"],
            name_zh=district["name_zh"],
            name_en=district.get("name_en", ""),
            streets=tuple(Street(**s) for s in meta.get("streets", [])),
            communities=tuple(Community(**c) for c in meta.get("communities", [])),
            grids=tuple(grids),
            responsibility_grids=tuple(
                ResponsibilityGrid(r["id"], tuple(r["grid_codes"]))
                for r in meta.get("responsibility_grids", [])
            ),
            workers=tuple(GridWorker(**w) for w in meta.get("workers", [])),
            departments=tuple(Department(**d) for d in meta.get("departments", [])),
            synthetic=bool(meta.get("synthetic", False)),
        )


@dataclass(frozen=True, slots=True)
class _Indexes:
    streets: dict[str, Street]
    communities: dict[str, Community]
    grids: dict[str, UnitGrid]
    departments: dict[str, Department]
    rgrids: dict[str, ResponsibilityGrid] = field(default_factory=dict)
    rgrid_of_grid: dict[str, ResponsibilityGrid] = field(default_factory=dict)
    workers: dict[str, GridWorker] = field(default_factory=dict)
    worker_of_rgrid: dict[str, GridWorker] = field(default_factory=dict)


class _Coded(Protocol):
    @property
    def code(self) -> str: ...


_U = TypeVar("_U", bound=_Coded)


def _unique(units: tuple[_U, ...], what: str) -> dict[str, _U]:
    by_code: dict[str, _U] = {}
    for unit in units:
        if unit.code in by_code:
            raise ValueError(f"duplicate {what} code {unit.code}")
        by_code[unit.code] = unit
    return by_code


def _lookup(units: Mapping[str, _T], code: str, what: str, district: str) -> _T:
    try:
        return units[code]
    except KeyError:
        raise UnknownOrgUnit(f"unknown {what} {code!r} in district {district}") from None


def _names(unit: Street | Community) -> dict[str, str]:
    return {"code": unit.code, "name_zh": unit.name_zh, "name_en": unit.name_en}
