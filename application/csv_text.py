"""Tables as CSV text for spreadsheets, the same way for every front end.

Cells a spreadsheet would run as a formula (text starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return: a report's description is citizens' text) are prefixed with
``'`` so they open as text (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any, missing: str = "") -> Any:
    if value is None:
        return missing
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_text(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    headers: Sequence[str] | None = None,
    missing: str = "",
) -> str:
    """``records`` as CSV with a header row (``headers``, else the column names)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(headers or columns))
    for record in records:
        writer.writerow([cell(record.get(k), missing) for k in columns])
    return buffer.getvalue()
