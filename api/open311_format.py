"""Open311 GeoReport v2 wire formats: XML (required by the spec) and JSON.

The format is the resource's suffix (``services.xml``, ``requests.json``). A list is a
list in both, even with one item: XML ``<service_requests><request>…</request>
</service_requests>``, JSON ``[{…}]``. Errors are the spec's own list of ``{code,
description}`` (``<errors><error>…``), ``code`` being the HTTP status, never the RFC 9457
problems of ``/v1``: these paths are Open311's contract, and its clients parse only that.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from fastapi import Request, Response

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# What XML 1.0 cannot carry at all, not even as a character reference: the C0 controls
# other than tab, newline and carriage return, lone surrogates, U+FFFE and U+FFFF.
# ElementTree writes them as they are, and every XML parser then refuses the document.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Element names of list items inside an object, by the list's own element name.
_ITEM_TAGS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


class Format(StrEnum):
    XML = "xml"
    JSON = "json"

    @property
    def media_type(self) -> str:
        return "text/xml" if self is Format.XML else "application/json"


class Open311Error(Exception):
    """An error answered in the spec's format; ``status`` is also its ``code``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def format_of(request: Request) -> Format:
    """The requested format, for answering errors; XML (the required one) if unclear."""
    fmt = request.path_params.get("fmt")
    if fmt is None:  # no route matched (404, 405): the path's own suffix
        return format_of_path(request.url.path)
    try:
        return Format(str(fmt).lower())
    except ValueError:
        return Format.XML


def format_of_path(path: str) -> Format:
    return Format.JSON if path.lower().endswith(".json") else Format.XML


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot carry (see ``_NOT_XML``)."""
    return _NOT_XML.sub("", value)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with an offset, to the second (the w3 subset the spec asks for)."""
    if value is None:
        return None
    if value.tzinfo is None:  # timestamptz columns only: a naive time is a bug
        raise ValueError(f"naive datetime {value!r} in an Open311 response")
    return value.isoformat(timespec="seconds")


def render(fmt: Format, body: Any, *, root: str, item: str = "", status: int = 200) -> Response:
    """``body`` (a list of objects with ``item``, or one object) as XML or JSON."""
    if fmt is Format.JSON:
        content = json.dumps(body, ensure_ascii=False)
        return Response(content, status_code=status, media_type=fmt.media_type)
    element = ET.Element(root)
    if isinstance(body, Sequence) and not isinstance(body, str):
        for entry in body:
            _fill(ET.SubElement(element, item), entry)
    else:
        _fill(element, body)
    text = XML_DECLARATION + ET.tostring(element, encoding="unicode")
    return Response(text.encode(), status_code=status, media_type=fmt.media_type)


def error_response(
    fmt: Format, status: int, description: str, headers: Mapping[str, str] | None = None
) -> Response:
    body = [{"code": status, "description": description}]
    response = render(fmt, body, root="errors", item="error", status=status)
    response.headers.update(headers or {})
    return response


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            sub = ET.SubElement(element, xml_text(key))
            if isinstance(child, Sequence) and not isinstance(child, str):
                tag = _ITEM_TAGS.get(key, "item")
                for entry in child:
                    _fill(ET.SubElement(sub, tag), entry)
            else:
                _fill(sub, child)
    elif value is None:
        pass  # an empty element: the spec's "not given"
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = xml_text(str(value))
