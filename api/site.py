"""Where the caller's phone is, sent with a step taken on site (核实, 核查).

The header ``Geo-Position`` carries an RFC 5870 ``geo`` URI: latitude, longitude (WGS84)
and optionally the uncertainty in metres, e.g. ``geo:34.8180,113.6355;u=12``. A header,
not a body field, so the step bodies stay the step's own inputs (``domain.inputs``); the
application records it with the step (``domain.events.SiteFix``) with its distance to the
case's point.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header

from api.problems import Problem
from domain.events import SiteFix

GEO_URI = re.compile(
    r"^geo:(?P<lat>-?\d{1,2}(?:\.\d{1,12})?),(?P<lon>-?\d{1,3}(?:\.\d{1,12})?)"
    r"(?:;crs=wgs84)?(?:;u=(?P<u>\d{1,6}(?:\.\d{1,3})?))?$",
    re.IGNORECASE,
)
DESCRIPTION = (
    "Where the phone is, for a step on site (record_verification, check): an RFC 5870 "
    "geo URI `geo:<lat>,<lon>[;u=<uncertainty in metres>]`. Recorded with the step, with "
    "its distance to the case's point and a warning above the center's distance."
)
GeoPosition = Annotated[
    str | None,
    Header(alias="Geo-Position", description=DESCRIPTION, examples=["geo:34.818,113.6355;u=12"]),
]


def parse_position(value: str | None) -> SiteFix | None:
    """The phone's position from the header; a 422 problem saying what is wrong."""
    if value is None:
        return None
    found = GEO_URI.match(value.strip())
    if found is not None:
        lat, lon = float(found["lat"]), float(found["lon"])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            u = found["u"]
            return SiteFix(lon=lon, lat=lat, accuracy_m=float(u) if u is not None else None)
    raise Problem(
        422,
        "invalid_position",
        f"Geo-Position {value[:80]!r} is not geo:<lat>,<lon>[;u=<metres>] with a latitude "
        "within ±90 and a longitude within ±180",
    )
