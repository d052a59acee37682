"""What the public may see of a case (domain.disclosure): places coarsened to ~100 m cells
for private channels, personal data fields withheld from published text."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.disclosure import (
    CELL_DEGREES,
    WITHHELD,
    coarsen,
    public_place,
    public_words,
    withhold_personal,
)

# Points of a city: lon 73-135, lat 18-54 (China), and the other hemispheres too.
lons = st.floats(min_value=-179.99, max_value=179.99, allow_nan=False)
lats = st.floats(min_value=-89.99, max_value=89.99, allow_nan=False)


@given(lons, lats)
def test_a_coarse_point_is_the_centre_of_the_cell_the_point_is_in(lon: float, lat: float) -> None:
    c_lon, c_lat = coarsen(lon, lat)
    half = CELL_DEGREES / 2 + 1e-9
    assert abs(c_lon - lon) <= half and abs(c_lat - lat) <= half
    # Every point of the cell gives that centre: nothing finer can be read back.
    assert coarsen(c_lon, c_lat) == (c_lon, c_lat)
    cell = (math.floor(lon / CELL_DEGREES), math.floor(lat / CELL_DEGREES))
    inside = ((cell[0] + 0.9) * CELL_DEGREES, (cell[1] + 0.1) * CELL_DEGREES)
    assert coarsen(*inside) == (c_lon, c_lat)


def test_two_doors_of_one_block_share_a_point_and_the_next_block_does_not() -> None:
    door = coarsen(113.63571, 34.81843)
    assert door == (113.6355, 34.8185)
    assert coarsen(113.63509, 34.81801) == door  # another door of the same cell
    assert coarsen(113.63601, 34.81843) != door  # across the cell's edge
    # ~100 m: 0.001° of latitude is 111 m, of longitude at 34.8°N 91 m.
    assert 90 < CELL_DEGREES * 111_320 * math.cos(math.radians(34.8)) < 100


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("call me on 13900001234 tonight", "call me on {} tonight"),
        ("手机 139 0000 1234，谢谢", "手机 {}，谢谢"),
        ("+86-139-0000-1234 any time", "{} any time"),
        ("0086 13900001234", "{}"),
        ("office (0371) 6543 2100", "office {}"),
        ("座机0371-65432100转8", "座机{}转8"),
        ("010-12345678", "{}"),
        ("mail li.wei@example.com please", "mail {} please"),
        ("身份证 41010519800101123X 的住户", "身份证 {} 的住户"),
    ],
)
def test_phone_numbers_id_numbers_and_mail_addresses_are_withheld(text: str, kept: str) -> None:
    assert withhold_personal(text) == kept.format(WITHHELD)


@pytest.mark.parametrize(
    "text",
    [
        "garbage since 2026-11-30 at the bus stop",
        "grid 410105001001001, district 410105",
        "case o311-3f2a9c0d1e2b4a5c, order 12345",
        "2 working_days, 50 m north of No. 13",
        "pipe of 139 mm leaking for 3 days",
    ],
)
def test_dates_codes_and_measures_are_not_personal_data(text: str) -> None:
    assert withhold_personal(text) == text


def test_only_published_and_patrol_reports_keep_their_point() -> None:
    exact = (113.63571, 34.81843)
    for source in ("open311", "grid_worker"):
        place = public_place(source, *exact, "文化路 1号")
        assert (place.lon, place.lat) == exact and place.exact
    assert public_place("open311", *exact, "文化路 1号 13900001234").address == (
        f"文化路 1号 {WITHHELD}"
    )
    assert public_place("grid_worker", *exact, "文化路 1号").address is None
    # Private channels, and any channel not known to publish (closed by default).
    for source in ("hotline_12345", "web", "wechat", "video", "a-channel-added-later"):
        place = public_place(source, *exact, "文化路 88号 3单元 502室")
        assert (place.lon, place.lat) == coarsen(*exact) and not place.exact
        assert place.address is None
    assert public_place("hotline_12345", None, None, "somewhere") == public_place(
        "hotline_12345", None, None, None
    )


def test_only_a_published_report_shows_its_words_and_linked_media() -> None:
    media = ("https://img.example.org/a.jpg", "sha256:" + "0" * 64)
    shown = public_words("open311", "bins full, ring 13900001234", media)
    assert shown.description == f"bins full, ring {WITHHELD}"
    assert shown.media == ("https://img.example.org/a.jpg",)  # an upload is never public
    for source in ("hotline_12345", "grid_worker", "wechat"):
        hidden = public_words(source, "caller at home: 文化路 88号", media)
        assert hidden.description is None and hidden.media == ()
