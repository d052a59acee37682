"""Org codes, the District model, GeoJSON round trip and point location (geo)."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.geo import Area, GridIndex, PointOutsideGrids, Polygon
from domain.org import (
    Community,
    District,
    GridWorker,
    InvalidOrgCode,
    Level,
    ResponsibilityGrid,
    Street,
    StreetKind,
    UnitGrid,
    UnknownOrgUnit,
    code_level,
    parent_code,
    street_kind,
)
from domain.taxonomy import default_taxonomy

DISTRICT = "410105"
STREET = "410105001"
COMMUNITY = "410105001002"


def square_district(columns: int = 2, rows: int = 2) -> District:
    """Unit squares, numbered west→east, north→south; grid (col, row) spans x col..col+1."""
    grids = []
    for row in range(rows):
        for col in range(columns):
            north = rows - row
            code = f"{COMMUNITY}{row * columns + col + 1:03d}"
            grids.append(UnitGrid(code, Area.rectangle(col, north - 1, col + 1, north), 400))
    rgrids = (
        ResponsibilityGrid("R1", tuple(g.code for g in grids[:2])),
        ResponsibilityGrid("R2", tuple(g.code for g in grids[2:])),
    )
    return District(
        code=DISTRICT,
        name_zh="金水区",
        name_en="Jinshui",
        streets=(Street(STREET, "示例街道"),),
        communities=(Community(COMMUNITY, "示例社区"),),
        grids=tuple(grids),
        responsibility_grids=rgrids,
        workers=(GridWorker("w1", "甲", "R1"), GridWorker("w2", "乙", "R2")),
        departments=default_taxonomy().departments[:3],
    )


# -- codes -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("410105", Level.DISTRICT),
        ("410105001", Level.STREET),
        ("410105001002", Level.COMMUNITY),
        ("410105001002003", Level.GRID),
    ],
)
def test_code_levels(code: str, level: Level) -> None:
    assert code_level(code) is level


@pytest.mark.parametrize(
    "code",
    [
        "",
        "41010",  # too short
        "4101050011",  # 10 digits is no level
        "41010A",
        "４１０１０５",  # full-width digits are digits to str.isdigit, not to us
        "410100",  # a prefecture (city) code, not a county
        "910105",  # no province starts with 9
        "410105000",  # street part 000
        "410105400",  # 400+ is not a street, town or township
        "410105001000",  # community 000
        "410105001002000",  # grid sequence 000
    ],
)
def test_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidOrgCode):
        code_level(code)


def test_invalid_code_is_a_value_error_and_a_domain_error() -> None:
    with pytest.raises(ValueError, match="410105000"):
        code_level("410105000")
    with pytest.raises(DomainError):
        code_level("x")


def test_parent_codes_chain_up_to_the_district() -> None:
    assert parent_code("410105001002003") == "410105001002"
    assert parent_code("410105001002") == "410105001"
    assert parent_code("410105001") == "410105"
    assert parent_code("410105") is None


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("410105001", StreetKind.STREET),
        ("410105099001", StreetKind.STREET),
        ("410105100", StreetKind.TOWN),
        ("410105201", StreetKind.TOWNSHIP),
        ("410105399001001", StreetKind.TOWNSHIP),
    ],
)
def test_street_kind_from_the_street_part(code: str, kind: StreetKind) -> None:
    assert street_kind(code) is kind


def test_units_check_their_own_level() -> None:
    with pytest.raises(InvalidOrgCode):
        Community(STREET, "not a community")
    with pytest.raises(InvalidOrgCode):
        UnitGrid(COMMUNITY)


# -- district structure ----------------------------------------------------------------
def test_lookups() -> None:
    district = square_district()
    grid = district.grid(f"{COMMUNITY}003")
    assert grid.sequence == 3 and grid.households == 400
    assert district.community_of(grid.code).code == COMMUNITY
    assert district.street_of(grid.code).code == STREET
    assert district.street_of(COMMUNITY).code == STREET
    worker = district.worker_for_grid(grid.code)
    assert worker is not None and worker.id == "w2"
    assert [g.code for g in district.grids_of_worker("w1")] == [
        f"{COMMUNITY}001",
        f"{COMMUNITY}002",
    ]
    assert len(district.grids_in(STREET)) == 4
    assert district.department("sanitation").name_zh == "环卫"


def test_unknown_units_raise_lookup_errors_naming_them() -> None:
    district = square_district()
    with pytest.raises(UnknownOrgUnit, match="410105001002099"):
        district.grid("410105001002099")
    with pytest.raises(LookupError, match="nobody"):
        district.worker("nobody")
    with pytest.raises(UnknownOrgUnit):
        district.worker_for_grid("410105001002099")


def test_a_grid_without_a_worker_has_none() -> None:
    district = square_district()
    lonely = District(
        code=district.code,
        name_zh=district.name_zh,
        name_en=district.name_en,
        streets=district.streets,
        communities=district.communities,
        grids=district.grids,
    )
    assert lonely.worker_for_grid(f"{COMMUNITY}001") is None


def _rebuild(**changes: object) -> District:
    district = square_district()
    fields: dict[str, object] = {
        "code": district.code,
        "name_zh": district.name_zh,
        "name_en": district.name_en,
        "streets": district.streets,
        "communities": district.communities,
        "grids": district.grids,
        "responsibility_grids": district.responsibility_grids,
        "workers": district.workers,
    }
    fields.update(changes)
    return District(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"streets": (Street("410106001", "x"),)}, "parent 410106"),
        ({"communities": (Community("410105002001", "x"),)}, "parent 410105002"),
        ({"grids": (UnitGrid("410105001009001"),)}, "parent 410105001009"),
        ({"grids": (UnitGrid(f"{COMMUNITY}001"),) * 2}, "duplicate unit grid"),
        (
            {"responsibility_grids": (ResponsibilityGrid("R1", (f"{COMMUNITY}099",)),)},
            "unknown unit grid",
        ),
        (
            {
                "responsibility_grids": (
                    ResponsibilityGrid("R1", (f"{COMMUNITY}001",)),
                    ResponsibilityGrid("R2", (f"{COMMUNITY}001",)),
                )
            },
            "two responsibility grids",
        ),
        ({"workers": (GridWorker("w1", "甲", "R9"),)}, "unknown 'R9'"),
        ({"workers": (GridWorker("w1", "甲", "R1"), GridWorker("w2", "乙", "R1"))}, "two workers"),
    ],
)
def test_inconsistent_districts_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _rebuild(**changes)


def test_geojson_round_trip() -> None:
    district = square_district()
    document = json.loads(json.dumps(district.to_geojson()))
    assert document["type"] == "FeatureCollection"
    assert {f["properties"]["code"] for f in document["features"]} == {
        g.code for g in district.grids
    }
    assert document["features"][0]["geometry"]["type"] == "Polygon"
    assert District.from_geojson(document) == district


def test_geojson_multipolygon_with_a_hole_round_trips() -> None:
    outer = ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0))
    hole = ((1.0, 1.0), (1.0, 2.0), (2.0, 2.0), (2.0, 1.0), (1.0, 1.0))
    island = ((5.0, 0.0), (6.0, 0.0), (6.0, 1.0), (5.0, 0.0))
    area = Area((Polygon(outer, (hole,)), Polygon(island)))
    geometry = area.to_geojson()
    assert geometry["type"] == "MultiPolygon"
    assert Area.from_geojson(json.loads(json.dumps(geometry))) == area
    assert area.contains(0.5, 0.5) and area.contains(5.8, 0.5)
    assert not area.contains(1.5, 1.5)  # in the hole


def test_bad_geojson_is_refused() -> None:
    with pytest.raises(ValueError, match="Point"):
        Area.from_geojson({"type": "Point", "coordinates": [113.6, 34.7]})
    with pytest.raises(ValueError, match="closed"):
        Area.from_geojson({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]})
    with pytest.raises(ValueError, match="WGS84"):
        Area.rectangle(0, 0, 200, 1)


# -- locating points -------------------------------------------------------------------
def test_points_inside_are_located() -> None:
    district = square_district()
    assert district.locate(0.5, 1.5) == f"{COMMUNITY}001"  # north-west
    assert district.locate(1.5, 1.5) == f"{COMMUNITY}002"  # north-east
    assert district.locate(0.5, 0.5) == f"{COMMUNITY}003"  # south-west
    assert district.locate(1.5, 0.5) == f"{COMMUNITY}004"  # south-east


@pytest.mark.parametrize(
    ("point", "sequence"),
    [
        ((1.0, 1.5), 2),  # north-south edge: the grid to the east
        ((1.0, 0.5), 4),
        ((0.5, 1.0), 1),  # east-west edge: the grid to the north
        ((1.5, 1.0), 2),
        ((1.0, 1.0), 2),  # the shared corner: north-east
        ((0.0, 1.0), 1),  # west edge of the district, on an inner vertex
        ((0.0, 0.0), 3),  # south-west corner of the district
        ((2.0, 2.0), 2),  # north-east corner: outside by the rule, closed by locate
        ((2.0, 0.5), 4),  # east edge of the district
        ((1.5, 2.0), 2),  # north edge of the district
    ],
)
def test_boundary_points_go_to_exactly_one_grid(point: tuple[float, float], sequence: int) -> None:
    district = square_district()
    assert district.locate(*point) == f"{COMMUNITY}{sequence:03d}"
    assert sum(g.area.contains(*point) for g in district.grids if g.area) <= 1


@pytest.mark.parametrize("point", [(-0.1, 1.0), (2.0000001, 1.0), (1.0, -1e-9), (1.0, 3.0)])
def test_points_outside_raise_with_the_point_in_the_message(point: tuple[float, float]) -> None:
    with pytest.raises(PointOutsideGrids, match=f"lon {point[0]}, lat {point[1]}") as info:
        square_district().locate(*point)
    assert isinstance(info.value, LookupError)


def test_non_finite_points_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        square_district().locate(float("nan"), 1.0)


def test_hole_filled_by_another_grid() -> None:
    outer = ((0.0, 0.0), (3.0, 0.0), (3.0, 3.0), (0.0, 3.0), (0.0, 0.0))
    hole = ((1.0, 1.0), (2.0, 1.0), (2.0, 2.0), (1.0, 2.0), (1.0, 1.0))
    index = GridIndex({"ring": Area((Polygon(outer, (hole,)),)), "core": Area((Polygon(hole),))})
    assert index.locate(1.5, 1.5) == "core"
    assert index.locate(0.5, 1.5) == "ring"
    assert index.locate(1.0, 1.5) == "core"  # west rim of the hole: the grid to the east
    assert index.locate(2.0, 1.5) == "ring"  # east rim: the grid to the east again
    assert index.locate(1.5, 2.0) == "ring"  # north rim: the grid to the north


@given(
    ax=st.floats(-1, 1),
    bx=st.floats(-1, 1),
    ay=st.floats(-1, 0.5),
    height=st.floats(0.01, 1),
    t=st.floats(0, 1),
)
def test_a_point_on_a_slanted_shared_edge_belongs_to_exactly_one_side(
    ax: float, bx: float, ay: float, height: float, t: float
) -> None:
    by = ay + height
    a, b = (ax, ay), (bx, by)
    x, y = ax + t * (bx - ax), ay + t * (by - ay)  # on the edge, up to rounding
    assume(ay <= y < by)
    west = Area.from_positions([a, b, (bx - 3, by), (ax - 3, ay)])
    east = Area.from_positions([a, (ax + 3, ay), (bx + 3, by), b])
    assert west.contains(x, y) != east.contains(x, y)
    index = GridIndex({"west": west, "east": east})
    assert index.locate(x, y) == ("west" if west.contains(x, y) else "east")


def _jittered_tiling(columns: int, rows: int, seed: int) -> dict[str, Area]:
    rng = random.Random(seed)
    corners = [
        [
            (
                c + (rng.uniform(-0.3, 0.3) if 0 < c < columns else 0),
                r + (rng.uniform(-0.3, 0.3) if 0 < r < rows else 0),
            )
            for c in range(columns + 1)
        ]
        for r in range(rows + 1)
    ]
    return {
        f"g{r:03d}{c:03d}": Area.from_positions(
            [corners[r][c], corners[r][c + 1], corners[r + 1][c + 1], corners[r + 1][c]]
        )
        for r in range(rows)
        for c in range(columns)
    }


def test_the_bucket_index_agrees_with_brute_force_on_thousands_of_grids() -> None:
    areas = _jittered_tiling(60, 50, seed=7)  # 3,000 grids
    index = GridIndex(areas)
    rng = random.Random(1)
    for _ in range(500):
        x, y = rng.uniform(0, 60), rng.uniform(0, 50)
        containing = [code for code, area in areas.items() if area.contains(x, y)]
        assert len(containing) == 1
        assert index.locate(x, y) == containing[0]


def test_shared_vertices_of_a_jittered_tiling_go_to_exactly_one_grid() -> None:
    areas = _jittered_tiling(8, 6, seed=3)
    index = GridIndex(areas)
    vertices = {p for area in areas.values() for p in area.polygons[0].exterior}
    for x, y in vertices:
        containing = [code for code, area in areas.items() if area.contains(x, y)]
        assert len(containing) <= 1
        located = index.locate(x, y)
        assert located == index.locate(x, y)  # deterministic
        if containing:
            assert located == containing[0]
        else:  # only the district's own north and east rims are left to the closure
            assert x == 8 or y == 6
            assert areas[located].on_boundary(x, y)
