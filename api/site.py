"""Where the caller's phone is, sent with a step taken on site (核实, 核查).

The header ``Geo-Position`` carries an RFC 5870 ``geo`` URI: latitude, longitude (WGS84)
and optionally the uncertainty in metres, e.g. ``geo:34.8180,113.6355;u=12``. A header,
not a body field, so the step bodies stay the step's own inputs (``domain.inputs``); the
application records it with the step (``domain.events.SiteFix``) with its distance to the
case's point.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Header

from api.problems import Problem
from domain.events import SiteFix

# The header's form, said once: the server matches it and the OpenAPI document carries it
# (so a client generating requests from the schema sends only what is accepted). The
# ranges are in the pattern: a latitude within ±90, a longitude within ±180.
_LAT = r"-?(?:90(?:\.0{1,12})?|[0-8]?\d(?:\.\d{1,12})?)"
_LON = r"-?(?:180(?:\.0{1,12})?|(?:1[0-7]\d|0?\d?\d)(?:\.\d{1,12})?)"
GEO_PATTERN = (
    rf"[gG][eE][oO]:(?P<lat>{_LAT}),(?P<lon>{_LON})"
    r"(?:;[cC][rR][sS]=[wW][gG][sS]84)?(?:;[uU]=(?P<u>\d{1,6}(?:\.\d{1,3})?))?"
)
GEO_URI = re.compile(GEO_PATTERN)
DESCRIPTION = (
    "Where the phone is, for a step on site (record_verification, check): an RFC 5870 "
    "geo URI `geo:<lat>,<lon>[;u=<uncertainty in metres>]`. Recorded with the step, with "
    "its distance to the case's point and a warning above the center's distance."
)


def _header_schema(schema: dict[str, Any]) -> None:
    # An optional header is a string when sent (never JSON null), of the form above.
    schema.pop("anyOf", None)
    schema["type"] = "string"
    schema["pattern"] = "^" + re.sub(r"\?P<\w+>", "", GEO_PATTERN) + "$"


GeoPosition = Annotated[
    str | None,
    Header(
        alias="Geo-Position",
        description=DESCRIPTION,
        examples=["geo:34.818,113.6355;u=12"],
        # In the schema only: a value outside it is refused by parse_position, which says
        # what is wrong (a 422 invalid_position), not by the framework's generic check.
        json_schema_extra=_header_schema,
    ),
]


def parse_position(value: str | None) -> SiteFix | None:
    """The phone's position from the header; a 422 problem saying what is wrong."""
    if value is None:
        return None
    found = GEO_URI.fullmatch(value)
    if found is not None:
        u = found["u"]
        return SiteFix(
            lon=float(found["lon"]),
            lat=float(found["lat"]),
            accuracy_m=float(u) if u is not None else None,
        )
    raise Problem(
        422,
        "invalid_position",
        f"Geo-Position {value[:80]!r} is not geo:<lat>,<lon>[;u=<metres>] with a latitude "
        "within ±90 and a longitude within ±180",
    )
