"""Public reads (Open311 service requests): public cases from the ``cases`` projection,
with the address and photos of their report (``CaseReported``, always version 1) and the
time of their latest event. Nobody signs in for them; nobody's identity is in them.

Public cases are those a member of the public brought in (``domain.sources.
CITIZEN_SOURCES``): through an Open311 client (``open311``), the 12345 hotline, the web
portal or WeChat. A grid worker's own patrol reports, video patrol, leaders' instructions
and media reports are the center's internal work and are not listed; asked for by id they
answer 404, as if they did not exist. What is shown of a listed case follows
``domain.disclosure``: a hotline (web, WeChat) caller's place is coarsened and his words
withheld (docs/privacy.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, func, select
from sqlalchemy.orm import aliased

from domain.disclosure import public_place, public_words
from domain.sources import CITIZEN_SOURCES, Source
from store.models import CaseRow, EventRow

OPEN311_SOURCE = Source.OPEN311.value
PUBLIC_SOURCES = tuple(sorted(s.value for s in CITIZEN_SOURCES))
MAX_REQUESTS = 1000  # the spec's suggested cap on one GET requests answer
# The case's state as it is shown to anyone (no place, words or identity in it).
_STATE = (
    "case_id",
    "status",
    "stage",
    "category",
    "department",
    "reported_at",
    "stage_due_at",
    "updated_at",
)

# The projection's status by Open311's two: suspended (挂账) is still open to the citizen.
OPEN311_STATUS = {
    "open": ("open", "suspended"),
    "closed": ("closed", "rejected", "cancelled", "merged"),
}


@dataclass(frozen=True)
class RequestFilter:
    """What GET requests asks for; ``ids`` overrides every other filter (the spec)."""

    ids: Sequence[str] = ()
    service_codes: Sequence[str] = ()
    statuses: Sequence[str] = ()  # "open", "closed"
    start: datetime | None = None
    end: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        if self.ids:
            return [CaseRow.case_id.in_(list(self.ids))]
        found: list[ColumnElement[bool]] = []
        if self.service_codes:
            found.append(CaseRow.category.in_(list(self.service_codes)))
        if self.statuses:
            found.append(
                CaseRow.status.in_([s for status in self.statuses for s in OPEN311_STATUS[status]])
            )
        if self.start is not None:
            found.append(CaseRow.reported_at >= self.start)
        if self.end is not None:
            found.append(CaseRow.reported_at <= self.end)
        return found


def disclosed(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the public may see of a case row (``domain.disclosure``): the place exact or
    coarsened, the address text, description and media only of a report the citizen
    published, and nothing of who reported it."""
    place = public_place(row["source"], row["lon"], row["lat"], row["address"])
    photos = [p for p in row["photos"] or () if isinstance(p, str)]
    words = public_words(row["source"], row["description"], photos)
    return {
        **{name: row[name] for name in _STATE},
        "lon": place.lon,
        "lat": place.lat,
        "address": place.address,
        "place_exact": place.exact,
        "description": words.description,
        "media": words.media,
    }


def public_requests(
    engine: Engine, where: RequestFilter, limit: int = MAX_REQUESTS
) -> list[dict[str, Any]]:
    """Public cases matching ``where``, the most recently reported first, as the public
    may see them (``disclosed``)."""
    reported = aliased(EventRow)
    updated = (
        select(func.max(EventRow.occurred_at))
        .where(EventRow.case_id == CaseRow.case_id)
        .scalar_subquery()
    )
    query = (
        select(
            CaseRow.case_id,
            CaseRow.status,
            CaseRow.stage,
            CaseRow.category,
            CaseRow.department,
            CaseRow.source,
            CaseRow.description,
            CaseRow.reported_at,
            CaseRow.stage_due_at,
            CaseRow.lon,
            CaseRow.lat,
            reported.data["location"]["address"].astext.label("address"),
            reported.data["photos"].label("photos"),
            updated.label("updated_at"),
        )
        .outerjoin(
            reported,
            and_(
                reported.case_id == CaseRow.case_id,
                reported.version == 1,
                reported.type == "CaseReported",
            ),
        )
        .where(CaseRow.source.in_(PUBLIC_SOURCES), *where.conditions())
        .order_by(CaseRow.reported_at.desc(), CaseRow.case_id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [disclosed(dict(row._mapping)) for row in conn.execute(query)]


def public_request(engine: Engine, case_id: str) -> dict[str, Any] | None:
    found = public_requests(engine, RequestFilter(ids=[case_id]), limit=1)
    return found[0] if found else None
