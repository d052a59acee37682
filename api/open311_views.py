"""Open311 GeoReport v2 resources built from gridcase's own: a category as a service, a
public case as a service request, and the filters of GET requests checked
(``api.open311`` says why each field is what it is)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from api.open311_format import Open311Error, iso
from application.read_models.public import (
    MAX_REQUESTS,
    OPEN311_SOURCE,
    OPEN311_STATUS,
    RequestFilter,
)
from domain.stages import Stage
from domain.taxonomy import Category, Kind, Taxonomy, UnknownCategory

MAX_SPAN = timedelta(days=90)


def service_out(category: Category, taxonomy: Taxonomy) -> dict[str, Any]:
    major = taxonomy.major_class(category.kind, category.major_code)
    kind_zh = "部件" if category.kind is Kind.COMPONENT else "事件"
    return {
        "service_code": category.code,
        "service_name": f"{category.name_zh} {category.name_en}",
        "description": "; ".join(
            f"{c.description_zh} {c.description_en}" for c in category.conditions
        ),
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(
            (
                category.name_zh,
                category.name_en,
                major.name_zh,
                major.name_en,
                f"{kind_zh} {category.kind.value}",
            )
        ),
        "group": f"{major.name_zh} {major.name_en}",
    }


def _status_notes(row: Mapping[str, Any]) -> str:
    try:
        notes = Stage(row["stage"]).label
    except ValueError:
        notes = row["stage"]
    return f"{notes} · 挂账 suspended" if row["status"] == "suspended" else notes


def _agency(department: str, taxonomy: Taxonomy) -> str | None:
    if not department:
        return None  # not dispatched yet
    try:
        found = taxonomy.department(department)
    except LookupError:
        return department
    return f"{found.name_zh} {found.name_en}"


def request_out(row: Mapping[str, Any], taxonomy: Taxonomy) -> dict[str, Any]:
    try:
        category = taxonomy.category(row["category"])
        service_name = f"{category.name_zh} {category.name_en}"
    except UnknownCategory:
        service_name = row["category"]
    # Only an Open311 report's own text and media are public (see the module's docstring).
    own = row["source"] == OPEN311_SOURCE
    photos = [p for p in row["photos"] or () if isinstance(p, str)]
    media = next((p for p in photos if p.startswith(("http://", "https://"))), None)
    return {
        "service_request_id": row["case_id"],
        "status": "open" if row["status"] in OPEN311_STATUS["open"] else "closed",
        "status_notes": _status_notes(row),
        "service_name": service_name,
        "service_code": row["category"],
        "description": row["description"] if own else None,
        "agency_responsible": _agency(row["department"], taxonomy),
        "service_notice": None,
        "requested_datetime": iso(row["reported_at"]),
        "updated_datetime": iso(row["updated_at"] or row["reported_at"]),
        "expected_datetime": iso(row["stage_due_at"]),
        "address": row["address"] or None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": media if own else None,
    }


def _time(params: Mapping[str, str], name: str) -> datetime | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name} {text!r} is not an ISO 8601 date and time") from None
    if found.tzinfo is None:
        raise Open311Error(400, f"{name} {text!r} needs a time zone (Z or an offset)")
    return found


def _split(params: Mapping[str, str], name: str) -> list[str]:
    return [part.strip() for part in params.get(name, "").split(",") if part.strip()]


def request_filter(params: Mapping[str, str], now: datetime) -> RequestFilter:
    """The filters of GET requests, checked: a window of at most 90 days (default: the
    last 90), statuses open and closed."""
    ids = _split(params, "service_request_id")
    if ids:
        return RequestFilter(ids=ids[:MAX_REQUESTS])
    statuses = _split(params, "status")
    unknown = sorted(set(statuses) - set(OPEN311_STATUS))
    if unknown:
        raise Open311Error(400, f"status {', '.join(unknown)}: use open or closed")
    start, end = _time(params, "start_date"), _time(params, "end_date")
    # One end given: the 90 days from or up to it; neither: the last 90 days.
    try:
        if start is None:
            end = end or now
            start = end - MAX_SPAN
        elif end is None:
            end = start + MAX_SPAN
    except OverflowError:  # 90 days before year 1 or after year 9999
        raise Open311Error(400, "start_date or end_date is out of range") from None
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > MAX_SPAN:
        raise Open311Error(400, "start_date to end_date may span at most 90 days")
    return RequestFilter(
        service_codes=_split(params, "service_code"), statuses=statuses, start=start, end=end
    )
