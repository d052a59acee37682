"""A reproducible, SYNTHETIC demo district for development, tests and demos.

Modelled on the seeds' district (docs/field-facts.md §5): Jinshui District 金水区 of Zhengzhou,
GB/T 2260 code 410105, with 11 communities cut into 108 unit grids of 300–500 households,
one grid worker per grid. Only the district's name and code are real. Streets,
communities, boundaries, household counts and workers are invented, named generically
("示例社区01 Demo Community 01"), and the district is marked ``synthetic=True`` (a
``"synthetic": true`` property in its GeoJSON) so nobody takes it for real data.

Geometry: the rectangle lon 113.63–113.73, lat 34.75–34.82 carries a 12 x 9 lattice of
cells whose inner corners are jittered; every grid is one cell, so neighbouring grids
share exactly the same corner coordinates and the grids tile the rectangle without gaps or
overlaps. Boundary points only slide along the boundary and the four corners stay put, so
the district is exactly the rectangle. Three streets are vertical strips of the lattice,
west to east; each street is cut into horizontal bands of at least two rows, one community
per band, north to south.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from domain.geo import Area
from domain.org import Community, District, GridWorker, ResponsibilityGrid, Street, UnitGrid
from domain.taxonomy import Taxonomy, default_taxonomy

__all__ = ["DEMO_BBOX", "DEMO_DISTRICT_CODE", "generate_demo_district"]

DEMO_DISTRICT_CODE = "410105"  # 金水区, Zhengzhou (GB/T 2260)
DEMO_BBOX = (113.63, 34.75, 113.73, 34.82)  # west, south, east, north
COLUMNS, ROWS = 12, 9  # 108 unit grids
COMMUNITIES_PER_STREET = (3, 4, 4)  # 11 communities; shuffled across the streets per seed
MIN_STREET_COLUMNS, MIN_COMMUNITY_ROWS = 3, 2
HOUSEHOLDS = (300, 500)
JITTER = 0.25  # of a cell; below 0.5 every grid stays a simple quadrilateral
DECIMALS = 6  # ~0.1 m; rounding once per lattice point keeps shared corners identical


@dataclass(frozen=True, slots=True)
class _Block:
    """A community: a rectangle of lattice cells [col0, col1) x [row0, row1), row 0 north."""

    col0: int
    col1: int
    row0: int
    row1: int


def generate_demo_district(seed: int = 0, *, taxonomy: Taxonomy | None = None) -> District:
    """The synthetic demo district for ``seed``: same seed, same district."""
    rng = random.Random(seed)
    taxonomy = taxonomy or default_taxonomy()
    lattice = _jittered_lattice(rng)
    counts = list(COMMUNITIES_PER_STREET)
    rng.shuffle(counts)
    widths = _split(COLUMNS, len(counts), MIN_STREET_COLUMNS, rng)

    streets: list[Street] = []
    communities: list[Community] = []
    grids: list[UnitGrid] = []
    col0 = 0
    for s, (width, count) in enumerate(zip(widths, counts, strict=True), start=1):
        street_code = f"{DEMO_DISTRICT_CODE}{s:03d}"  # 0xx: a street office (街道)
        streets.append(Street(street_code, f"示例街道{s:02d}", f"Demo Street {s:02d}"))
        row0 = 0
        for c, height in enumerate(_split(ROWS, count, MIN_COMMUNITY_ROWS, rng), start=1):
            n = len(communities) + 1
            community = Community(
                f"{street_code}{c:03d}", f"示例社区{n:02d}", f"Demo Community {n:02d}"
            )
            communities.append(community)
            block = _Block(col0, col0 + width, row0, row0 + height)
            grids.extend(_grids_of(community, block, lattice, rng))
            row0 += height
        col0 += width

    rgrids = tuple(ResponsibilityGrid(f"R{g.code}", (g.code,)) for g in grids)
    workers = tuple(
        GridWorker(f"W{g.code}", f"网格员{i:03d} Grid worker {i:03d}", f"R{g.code}")
        for i, g in enumerate(grids, start=1)
    )
    used = {category.default_department for category in taxonomy}
    return District(
        code=DEMO_DISTRICT_CODE,
        name_zh="金水区",
        name_en="Jinshui District, Zhengzhou (synthetic demo data)",
        streets=tuple(streets),
        communities=tuple(communities),
        grids=tuple(grids),
        responsibility_grids=rgrids,
        workers=workers,
        departments=tuple(d for d in taxonomy.departments if d.code in used),
        synthetic=True,
    )


def _grids_of(
    community: Community,
    block: _Block,
    lattice: list[list[tuple[float, float]]],
    rng: random.Random,
) -> list[UnitGrid]:
    # Row by row from the north, west to east inside a row: the sequence of docs/field-facts.md §5.
    grids = []
    sequence = 0
    for row in range(block.row0, block.row1):
        for col in range(block.col0, block.col1):
            sequence += 1
            nw, ne = lattice[row][col], lattice[row][col + 1]
            sw, se = lattice[row + 1][col], lattice[row + 1][col + 1]
            grids.append(
                UnitGrid(
                    code=f"{community.code}{sequence:03d}",
                    area=Area.from_positions((nw, sw, se, ne)),  # counter-clockwise
                    households=rng.randint(*HOUSEHOLDS),
                    name=f"{community.name_zh}第{sequence:03d}网格",
                )
            )
    return grids


def _jittered_lattice(rng: random.Random) -> list[list[tuple[float, float]]]:
    """(ROWS + 1) x (COLUMNS + 1) corner points, row 0 on the north edge."""
    west, south, east, north = DEMO_BBOX
    dx, dy = (east - west) / COLUMNS, (north - south) / ROWS
    lattice = []
    for row in range(ROWS + 1):
        points = []
        for col in range(COLUMNS + 1):
            # Draw both offsets for every point so the random stream does not depend on
            # which points are on the boundary.
            jx, jy = rng.uniform(-JITTER, JITTER), rng.uniform(-JITTER, JITTER)
            on_west_east = col in (0, COLUMNS)
            on_north_south = row in (0, ROWS)
            lon = west + (col + (0.0 if on_west_east else jx)) * dx
            lat = north - (row + (0.0 if on_north_south else jy)) * dy
            points.append((round(lon, DECIMALS), round(lat, DECIMALS)))
        lattice.append(points)
    return lattice


def _split(total: int, parts: int, minimum: int, rng: random.Random) -> list[int]:
    """A random composition of ``total`` into ``parts`` sizes, each at least ``minimum``."""
    sizes = [minimum] * parts
    for _ in range(total - minimum * parts):
        sizes[rng.randrange(parts)] += 1
    return sizes
