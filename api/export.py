"""CSV answers for lists and tables: asked for with ``?format=csv`` or ``Accept: text/csv``.

Cells a spreadsheet would run as a formula (text starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return: a report's description is citizens' text) are prefixed with
``'`` so they open as text (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

CSV_MEDIA_TYPE = "text/csv"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def _cell(value: Any, missing: str) -> Any:
    if value is None:
        return missing
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_response(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    filename: str,
    *,
    missing: str = "",
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``records`` as a CSV attachment with a header row of ``columns``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _cell(record.get(k), missing) for k in columns})
    return Response(
        buffer.getvalue(),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})},
    )
