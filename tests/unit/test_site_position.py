"""The Geo-Position header of a step on site: what the server accepts is exactly what the
OpenAPI document's pattern says, ranges included."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.app import create_app
from api.problems import Problem
from api.site import parse_position
from application.config import Settings


@pytest.mark.parametrize(
    ("value", "lon", "lat", "accuracy"),
    [
        ("geo:34.818,113.6355;u=12", 113.6355, 34.818, 12.0),
        ("GEO:-90,180", 180.0, -90.0, None),
        ("geo:90.0,-180.000;crs=wgs84", -180.0, 90.0, None),
        ("geo:5,99;u=0.5", 99.0, 5.0, 0.5),
    ],
)
def test_a_position_is_read(value: str, lon: float, lat: float, accuracy: float | None) -> None:
    fix = parse_position(value)
    assert fix is not None and (fix.lon, fix.lat, fix.accuracy_m) == (lon, lat, accuracy)


@pytest.mark.parametrize(
    "value", ["geo:90.1,0", "geo:0,180.5", "geo:0,181", "geo:1,2;u=", "34.8,113.6", "null", ""]
)
def test_a_bad_position_is_a_problem_saying_the_form(value: str) -> None:
    with pytest.raises(Problem) as refused:
        parse_position(value)
    assert refused.value.status == 422 and "geo:<lat>,<lon>" in refused.value.detail


def _schema_pattern() -> str:
    spec = create_app(Settings.from_env()).openapi()
    params = spec["paths"]["/v1/cases/{case_id}/check"]["post"]["parameters"]
    [schema] = [p["schema"] for p in params if p["name"] == "Geo-Position"]
    assert schema["type"] == "string"
    return str(schema["pattern"])


PATTERN = _schema_pattern()


@given(
    st.from_regex(PATTERN, fullmatch=True)
    | st.text(alphabet="geoGEO:;,.-0123456789u=crswgs", max_size=30)
)
def test_the_schema_pattern_is_what_the_server_accepts(value: str) -> None:
    try:
        parse_position(value)
        accepted = True
    except Problem:
        accepted = False
    assert accepted == (re.search(PATTERN, value) is not None), value
