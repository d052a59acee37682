"""Grid geometry: GeoJSON polygons (lon/lat WGS84) and locating a point to its unit grid.

Boundary rule. Unit grids tile the district, so a point on a shared edge or vertex lies on
the boundary of several grids and must be given to exactly one. ``Area.contains`` decides
as if the point were nudged an infinitesimal step east and then a far smaller step north:
a point on a north-south edge belongs to the grid east of it, a point on an east-west edge
to the grid north of it, a shared corner to the grid north-east of it. The decision per
edge depends only on the edge and the point, with the edge's endpoints put in a canonical
order, so two grids sharing an edge always agree; near-zero cross products are recomputed
exactly with fractions, so rounding cannot give a point to both or to neither. Holes
follow the same rule (a point on a hole's edge belongs to whichever side lies east).
``GridIndex.locate`` closes the district: a point on its outer edge, which the rule would
leave outside, goes to the grid whose edge it lies on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from typing import Any

from domain.errors import DomainError

__all__ = [
    "Area",
    "BBox",
    "GridIndex",
    "PointOutsideGrids",
    "Polygon",
    "Ring",
    "distance_m",
]

Position = tuple[float, float]  # (lon, lat)
Ring = tuple[Position, ...]  # closed: first position == last, as GeoJSON wants
BBox = tuple[float, float, float, float]  # (min lon, min lat, max lon, max lat)

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)


def distance_m(a: Position, b: Position) -> float:
    """Great-circle distance in metres between two (lon, lat) points (haversine on the
    mean sphere: within 0.5% of the ellipsoid, plenty for "is the phone on site")."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


# Relative size under which a float cross product may have the wrong sign (a few ulp).
_EXACT_BELOW = 1e-12


class PointOutsideGrids(DomainError, LookupError):
    """A point that lies in no unit grid of the district."""

    code = "point_outside_grids"

    def __init__(self, lon: float, lat: float) -> None:
        super().__init__(f"point (lon {lon}, lat {lat}) lies outside every unit grid")
        self.lon = lon
        self.lat = lat


@dataclass(frozen=True, slots=True)
class Polygon:
    """One polygon: an exterior ring and optional holes, each ring closed."""

    exterior: Ring
    holes: tuple[Ring, ...] = ()

    def __post_init__(self) -> None:
        for ring in (self.exterior, *self.holes):
            _check_ring(ring)

    def contains(self, lon: float, lat: float) -> bool:
        inside = _crosses_odd(self.exterior, lon, lat)
        for hole in self.holes:
            inside ^= _crosses_odd(hole, lon, lat)
        return inside


@dataclass(frozen=True)
class Area:
    """A GeoJSON Polygon or MultiPolygon (the parts are assumed not to overlap)."""

    polygons: tuple[Polygon, ...]
    bbox: BBox = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not self.polygons:
            raise ValueError("an area needs at least one polygon")
        lons = [p[0] for polygon in self.polygons for p in polygon.exterior]
        lats = [p[1] for polygon in self.polygons for p in polygon.exterior]
        object.__setattr__(self, "bbox", (min(lons), min(lats), max(lons), max(lats)))

    @classmethod
    def rectangle(cls, west: float, south: float, east: float, north: float) -> Area:
        # Counter-clockwise, as RFC 7946 wants exterior rings.
        ring = ((west, south), (east, south), (east, north), (west, north), (west, south))
        return cls((Polygon(ring),))

    @classmethod
    def from_positions(cls, positions: Sequence[Position]) -> Area:
        """A single-polygon area from an exterior ring given open or closed."""
        ring = tuple(positions)
        if ring and ring[0] != ring[-1]:
            ring = (*ring, ring[0])
        return cls((Polygon(ring),))

    def contains(self, lon: float, lat: float) -> bool:
        west, south, east, north = self.bbox
        if not (west <= lon <= east and south <= lat <= north):
            return False
        return any(polygon.contains(lon, lat) for polygon in self.polygons)

    def on_boundary(self, lon: float, lat: float) -> bool:
        """True when the point lies exactly on an edge of this area (exact arithmetic)."""
        west, south, east, north = self.bbox
        if not (west <= lon <= east and south <= lat <= north):
            return False
        return any(
            _on_ring(ring, lon, lat)
            for polygon in self.polygons
            for ring in (polygon.exterior, *polygon.holes)
        )

    def centroid(self) -> Position:
        """Area-weighted centroid (planar in lon/lat, good enough at grid scale)."""
        total = cx = cy = 0.0
        for polygon in self.polygons:
            for sign, ring in ((1.0, polygon.exterior), *((-1.0, h) for h in polygon.holes)):
                area, x, y = _ring_moments(ring)
                total += sign * abs(area)
                cx += sign * abs(area) * x
                cy += sign * abs(area) * y
        if total == 0:
            raise ValueError("degenerate area has no centroid")
        return (cx / total, cy / total)

    # -- GeoJSON -----------------------------------------------------------------------
    @classmethod
    def from_geojson(cls, geometry: Mapping[str, Any]) -> Area:
        kind = geometry.get("type")
        coordinates = geometry.get("coordinates")
        if not isinstance(coordinates, list):
            raise ValueError(f"GeoJSON {kind} geometry needs a coordinates list")
        if kind == "Polygon":
            return cls((_polygon(coordinates),))
        if kind == "MultiPolygon":
            return cls(tuple(_polygon(part) for part in coordinates))
        raise ValueError(
            f"unsupported GeoJSON geometry type {kind!r}: need Polygon or MultiPolygon"
        )

    def to_geojson(self) -> dict[str, Any]:
        parts = [
            [[list(p) for p in ring] for ring in (polygon.exterior, *polygon.holes)]
            for polygon in self.polygons
        ]
        if len(parts) == 1:
            return {"type": "Polygon", "coordinates": parts[0]}
        return {"type": "MultiPolygon", "coordinates": parts}


class GridIndex:
    """Locates points to areas through a uniform bucket grid over their bounding boxes.

    Each bucket lists the areas whose bounding box touches it, so a lookup tests a
    handful of polygons however many grids the district has. Ties (only possible when
    areas overlap, i.e. bad data) go to the smallest code, so the answer is stable.
    """

    __slots__ = ("_areas", "_bbox", "_buckets", "_cell", "_codes", "_nx", "_ny")

    def __init__(self, areas: Mapping[str, Area], *, areas_per_bucket: float = 1.0) -> None:
        if not areas:
            raise ValueError("cannot index an empty set of areas")
        self._codes = tuple(sorted(areas))
        self._areas = tuple(areas[code] for code in self._codes)
        west = min(a.bbox[0] for a in self._areas)
        south = min(a.bbox[1] for a in self._areas)
        east = max(a.bbox[2] for a in self._areas)
        north = max(a.bbox[3] for a in self._areas)
        self._bbox: BBox = (west, south, east, north)
        side = max(1, math.ceil(math.sqrt(len(self._areas) / areas_per_bucket)))
        self._nx = self._ny = side
        self._cell = ((east - west) / side or 1.0, (north - south) / side or 1.0)
        self._buckets: list[list[int]] = [[] for _ in range(side * side)]
        for i, area in enumerate(self._areas):
            a_west, a_south, a_east, a_north = area.bbox
            for row in range(self._row(a_south), self._row(a_north) + 1):
                for col in range(self._col(a_west), self._col(a_east) + 1):
                    self._buckets[row * side + col].append(i)

    @property
    def bbox(self) -> BBox:
        return self._bbox

    def locate(self, lon: float, lat: float) -> str:
        """The code of the area containing (lon, lat); PointOutsideGrids if there is none."""
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise ValueError(f"point (lon {lon}, lat {lat}) is not a finite coordinate")
        west, south, east, north = self._bbox
        if west <= lon <= east and south <= lat <= north:
            # Candidates are in code order because areas were indexed in code order.
            candidates = self._buckets[self._row(lat) * self._nx + self._col(lon)]
            for i in candidates:
                if self._areas[i].contains(lon, lat):
                    return self._codes[i]
            # The half-open rule leaves out points on the outer edge of the district (its
            # east and north sides, the rim of an uncovered hole); they still belong to the
            # grid whose edge they are on, so the district is closed.
            for i in candidates:
                if self._areas[i].on_boundary(lon, lat):
                    return self._codes[i]
        raise PointOutsideGrids(lon, lat)

    def _col(self, lon: float) -> int:
        # Same formula for boxes and points: float subtraction and division are monotone,
        # so a point inside a closed bbox always lands in one of that bbox's buckets.
        return min(self._nx - 1, max(0, int((lon - self._bbox[0]) / self._cell[0])))

    def _row(self, lat: float) -> int:
        return min(self._ny - 1, max(0, int((lat - self._bbox[1]) / self._cell[1])))


# -- point in ring ---------------------------------------------------------------------
def _crosses_odd(ring: Ring, x: float, y: float) -> bool:
    """Ray casting towards +x with the half-open conventions described in the module doc."""
    odd = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > y) == (y2 > y):
            continue  # the edge does not straddle the ray; horizontal edges never do
        # Canonical order (lower endpoint first) so both grids sharing an edge compute the
        # very same floats.
        ax, ay, bx, by = (x1, y1, x2, y2) if y1 < y2 else (x2, y2, x1, y1)
        t1 = (bx - ax) * (y - ay)
        t2 = (x - ax) * (by - ay)
        cross = t1 - t2
        if abs(cross) <= _EXACT_BELOW * (abs(t1) + abs(t2)):
            fx, fy, fax, fay = Fraction(x), Fraction(y), Fraction(ax), Fraction(ay)
            exact = (Fraction(bx) - fax) * (fy - fay) - (fx - fax) * (Fraction(by) - fay)
            cross = 1.0 if exact > 0 else -1.0 if exact < 0 else 0.0
        if cross > 0:  # the edge passes east of the point; on the edge (0) counts as west
            odd = not odd
    return odd


def _on_ring(ring: Ring, x: float, y: float) -> bool:
    for (x1, y1), (x2, y2) in pairwise(ring):
        if min(x1, x2) <= x <= max(x1, x2) and min(y1, y2) <= y <= max(y1, y2):
            fx, fy, f1x, f1y = Fraction(x), Fraction(y), Fraction(x1), Fraction(y1)
            if (Fraction(x2) - f1x) * (fy - f1y) == (fx - f1x) * (Fraction(y2) - f1y):
                return True
    return False


def _ring_moments(ring: Ring) -> tuple[float, float, float]:
    """Signed area and centroid of a closed ring (shoelace)."""
    area2 = cx = cy = 0.0
    x0, y0 = ring[0]  # shift to the first vertex to keep the products small and exact-ish
    for (x1, y1), (x2, y2) in pairwise(ring):
        dx1, dy1, dx2, dy2 = x1 - x0, y1 - y0, x2 - x0, y2 - y0
        w = dx1 * dy2 - dx2 * dy1
        area2 += w
        cx += (dx1 + dx2) * w
        cy += (dy1 + dy2) * w
    if area2 == 0:
        return 0.0, x0, y0
    return area2 / 2, x0 + cx / (3 * area2), y0 + cy / (3 * area2)


def _check_ring(ring: Ring) -> None:
    if len(ring) < 4:
        raise ValueError(f"a polygon ring needs at least 4 positions, got {len(ring)}")
    if ring[0] != ring[-1]:
        raise ValueError(f"a polygon ring must be closed: {ring[0]} != {ring[-1]}")
    for lon, lat in ring:
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise ValueError(f"non-finite position ({lon}, {lat})")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(f"position ({lon}, {lat}) is not lon/lat WGS84")


def _polygon(rings: Iterable[Any]) -> Polygon:
    parsed = [_ring(ring) for ring in rings]
    if not parsed:
        raise ValueError("a GeoJSON polygon needs an exterior ring")
    return Polygon(parsed[0], tuple(parsed[1:]))


def _ring(positions: Any) -> Ring:
    if not isinstance(positions, list):
        raise ValueError("a GeoJSON ring must be a list of positions")
    out: list[Position] = []
    for position in positions:
        if not isinstance(position, list | tuple) or len(position) < 2:
            raise ValueError(f"bad GeoJSON position {position!r}")
        out.append((float(position[0]), float(position[1])))  # altitude, if any, is dropped
    return tuple(out)
