"""CSV answers for lists and tables: asked for with ``?format=csv`` or ``Accept: text/csv``;
written by ``application.csv_text`` (cells that would run as a formula open as text)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from application.csv_text import csv_text

CSV_MEDIA_TYPE = "text/csv"


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


FormatQuery = Annotated[
    ExportFormat | None,
    Query(alias="format", description="csv for a CSV file (as does Accept: text/csv)"),
]

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}}
}


def wants_csv(request: Request, fmt: ExportFormat | None) -> bool:
    """``?format=`` decides; without it, an Accept header naming text/csv."""
    if fmt is not None:
        return fmt is ExportFormat.CSV
    accept = request.headers.get("accept", "")
    return CSV_MEDIA_TYPE in (part.split(";", 1)[0].strip().lower() for part in accept.split(","))


def csv_response(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    filename: str,
    *,
    missing: str = "",
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``records`` as a CSV attachment with a header row of ``columns``."""
    return Response(
        csv_text(records, columns, missing=missing),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})},
    )
