"""What the public may see of a case (公开): the place and words of a public service request.

A case's public view (Open311's service requests, and any public page to come) is derived
here from where the report came from, so every public front end shows the same:

- A report a citizen *published* (``open311``: a client app posts to a public API whose
  requests anyone can list) keeps its point, its address text and its description, as the
  citizen sent them, with personal data fields in the text withheld (phone numbers, ID
  card numbers, e-mail addresses: :func:`withhold_personal`).
- A report a grid worker made on patrol (``grid_worker``) is a place on a public street and
  keeps its point (such reports are the center's own work and are not listed today).
- A report from any other channel (the 12345 hotline, the web portal, WeChat, …) is a
  private conversation with the center: the place is often the caller's home. Its address
  text, description and photos are withheld, and its point is moved to the centre of the
  ~100 m cell it falls in (:func:`coarsen`): enough to show a street's problems on a map,
  not enough to find a door. Unknown and future channels are treated so (closed by default).

docs/privacy.md gives the reasoning.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

# Channels whose reports keep their exact point (see the module's docstring).
PLACE_KEPT = frozenset({"open311", "grid_worker"})
# Channels whose own words (description, address text, media) the public may read.
WORDS_PUBLISHED = frozenset({"open311"})
# The side of a coarse cell, in degrees: 0.001° is 111 m north-south and ~91 m east-west
# at 35°N (cos 35° = 0.82), about a city block.
CELL_DEGREES = 0.001
WITHHELD = "[已隐去 withheld]"

# Personal data fields that show up in free text. Digits are matched only where no other
# digit touches them, so an order number or a date is left alone.
_PERSONAL = (
    # an e-mail address
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    # a resident ID card number (18 characters, the last a check digit or X)
    re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"),
    # a mobile number, +86 or 0086 optional, spaces or dashes between the groups allowed
    re.compile(r"(?<!\d)(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)"),
    # a fixed-line number with its area code (010-12345678, (0371) 6543 2100)
    re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3})[\s-]?\d{3,4}[\s-]?\d{4}(?!\d)"),
)


@dataclass(frozen=True)
class PublicPlace:
    lon: float | None
    lat: float | None
    address: str | None
    exact: bool  # False: the point is a coarse cell's centre


@dataclass(frozen=True)
class PublicWords:
    description: str | None
    media: tuple[str, ...]


def coarsen(lon: float, lat: float) -> tuple[float, float]:
    """The centre of the CELL_DEGREES cell ``(lon, lat)`` falls in: every point of a cell
    gives the same answer, so nothing finer than the cell can be read back."""

    def centre(x: float) -> float:
        return round((math.floor(x / CELL_DEGREES) + 0.5) * CELL_DEGREES, 6)

    return centre(lon), centre(lat)


def withhold_personal(text: str) -> str:
    """``text`` with its phone numbers, ID card numbers and e-mail addresses withheld."""
    for pattern in _PERSONAL:
        text = pattern.sub(WITHHELD, text)
    return text


def public_place(
    source: str, lon: float | None, lat: float | None, address: str | None
) -> PublicPlace:
    if source in PLACE_KEPT:
        shown = withhold_personal(address) if address and source in WORDS_PUBLISHED else None
        return PublicPlace(lon, lat, shown or None, exact=True)
    if lon is None or lat is None:
        return PublicPlace(None, None, None, exact=False)
    coarse_lon, coarse_lat = coarsen(lon, lat)
    return PublicPlace(coarse_lon, coarse_lat, None, exact=False)


def public_words(source: str, description: str | None, media: Sequence[str]) -> PublicWords:
    """A published report's description (personal data withheld) and its linked media
    (``http(s)`` URLs the client sent; uploads are never public); nothing of the others."""
    if source not in WORDS_PUBLISHED:
        return PublicWords(None, ())
    links = tuple(m for m in media if m.startswith(("http://", "https://")))
    return PublicWords(withhold_personal(description) if description else None, links)
