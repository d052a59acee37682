"""The synthetic demo district: shape of the organisation, tiling, numbering, reproducibility."""

from __future__ import annotations

import itertools
import json
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

import domain.demo_district
from domain.demo_district import DEMO_BBOX, generate_demo_district
from domain.geo import Area, PointOutsideGrids
from domain.org import District, StreetKind
from domain.taxonomy import default_taxonomy

WEST, SOUTH, EAST, NORTH = DEMO_BBOX


@cache
def demo(seed: int = 2024) -> District:
    return generate_demo_district(seed)


def area_of(district: District, code: str) -> Area:
    area = district.grid(code).area
    assert area is not None
    return area


# -- organisation ----------------------------------------------------------------------
def test_counts_match_the_seed_district() -> None:
    district = demo()
    assert district.code == "410105" and district.name_zh == "金水区"
    assert len(district.communities) == 11
    assert len(district.grids) == 108
    assert len(district.streets) >= 2
    assert all(300 <= (g.households or 0) <= 500 for g in district.grids)


def test_codes_nest_with_the_right_prefixes() -> None:
    district = demo()
    for street in district.streets:
        assert len(street.code) == 9 and street.code.startswith("410105")
        assert street.kind is StreetKind.STREET
    for community in district.communities:
        assert len(community.code) == 12
        assert district.street(community.street_code).code == community.code[:9]
    for grid in district.grids:
        assert len(grid.code) == 15 and grid.code.isdigit()
        assert district.community_of(grid.code).code == grid.code[:12]
    for community in district.communities:
        sequences = [g.sequence for g in district.grids_in(community.code)]
        assert sequences == list(range(1, len(sequences) + 1))


def test_one_worker_per_grid_whose_responsibility_grid_is_that_grid() -> None:
    district = demo()
    assert len(district.workers) == 108
    for grid in district.grids:
        worker = district.worker_for_grid(grid.code)
        assert worker is not None
        assert district.grids_of_worker(worker.id) == (grid,)


def test_departments_cover_every_default_department() -> None:
    district = demo()
    for category in default_taxonomy():
        assert district.department(category.default_department)


def test_the_data_says_it_is_synthetic() -> None:
    district = demo()
    assert district.synthetic
    document = district.to_geojson()
    assert document["gridcase"]["synthetic"] is True
    assert all(f["properties"]["synthetic"] is True for f in document["features"])
    assert "synthetic" in (domain.demo_district.__doc__ or "").lower()
    assert "示例" in district.communities[0].name_zh  # generic names, not real ones


# -- geometry --------------------------------------------------------------------------
def test_numbering_runs_west_to_east_then_north_to_south() -> None:
    district = demo()
    for community in district.communities:
        centroids = [
            area_of(district, g.code).centroid() for g in district.grids_in(community.code)
        ]
        rows: list[list[tuple[float, float]]] = [[centroids[0]]]
        for previous, current in itertools.pairwise(centroids):
            if current[0] > previous[0]:
                rows[-1].append(current)  # further east: same row
            else:
                rows.append([current])  # back west: a new row
        assert len({len(row) for row in rows}) == 1, community.code  # a rectangle of grids
        assert len(rows) >= 2
        for upper, lower in itertools.pairwise(rows):
            assert max(lat for _, lat in lower) < min(lat for _, lat in upper)


def test_grids_tile_the_rectangle() -> None:
    district = demo()
    total = 0.0
    for grid in district.grids:
        area = area_of(district, grid.code)
        ring = area.polygons[0].exterior
        total += 0.5 * sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring))
        west, south, east, north = area.bbox
        assert west >= WEST and east <= EAST and south >= SOUTH and north <= NORTH
    assert total == pytest.approx((EAST - WEST) * (NORTH - SOUTH), rel=1e-9)


@given(st.floats(WEST, EAST), st.floats(SOUTH, NORTH))
def test_points_in_the_bbox_are_located_to_exactly_one_grid(lon: float, lat: float) -> None:
    district = demo()
    code = district.locate(lon, lat)
    area = area_of(district, code)
    assert area.contains(lon, lat) or area.on_boundary(lon, lat)
    containing = [g.code for g in district.grids if g.area and g.area.contains(lon, lat)]
    on_outer_rim = lon == EAST or lat == NORTH
    assert containing == ([] if on_outer_rim else [code])


outside = st.one_of(
    st.tuples(st.floats(-180, WEST, exclude_max=True), st.floats(-90, 90)),
    st.tuples(st.floats(EAST, 180, exclude_min=True), st.floats(-90, 90)),
    st.tuples(st.floats(-180, 180), st.floats(-90, SOUTH, exclude_max=True)),
    st.tuples(st.floats(-180, 180), st.floats(NORTH, 90, exclude_min=True)),
)


@given(outside)
def test_points_outside_the_bbox_raise(point: tuple[float, float]) -> None:
    with pytest.raises(PointOutsideGrids):
        demo().locate(*point)


def test_every_corner_and_edge_midpoint_goes_to_one_grid_deterministically() -> None:
    district = demo()
    points: set[tuple[float, float]] = set()
    for grid in district.grids:
        ring = area_of(district, grid.code).polygons[0].exterior
        points.update(ring)
        points.update(
            ((x1 + x2) / 2, (y1 + y2) / 2) for (x1, y1), (x2, y2) in itertools.pairwise(ring)
        )
    for lon, lat in points:
        located = district.locate(lon, lat)
        assert located == district.locate(lon, lat)
        containing = [g.code for g in district.grids if g.area and g.area.contains(lon, lat)]
        assert len(containing) <= 1
        if containing:
            assert containing == [located]
        else:
            assert lon == EAST or lat == NORTH


# -- reproducibility -------------------------------------------------------------------
def test_same_seed_same_district() -> None:
    first, second = generate_demo_district(7), generate_demo_district(7)
    assert first == second
    assert json.dumps(first.to_geojson()) == json.dumps(second.to_geojson())


def test_different_seeds_differ() -> None:
    assert generate_demo_district(1).to_geojson() != generate_demo_district(2).to_geojson()


def test_geojson_round_trip() -> None:
    district = demo()
    text = json.dumps(district.to_geojson(), ensure_ascii=False)
    assert District.from_geojson(json.loads(text)) == district
