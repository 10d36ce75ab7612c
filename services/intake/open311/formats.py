"""GeoReport's two formats: JSON, and the XML it maps to (the "Spark convention").

A JSON list under a named root becomes ``<root><item>…</item></root>``; an object becomes
one child element per field; a nested list (``attributes``, ``values``) becomes a plural
element holding singular ones; ``true``/``false`` are lower case; ``null`` is an empty
element.  XML is written with the standard library (``xml.etree``): we only produce it,
never parse it, so no parser hardening is needed here.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from xml.etree import ElementTree as ET

from fastapi.responses import JSONResponse, Response

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")
JSON_MEDIA = "application/json; charset=utf-8"
XML_MEDIA = "text/xml; charset=utf-8"
_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# The element of each item of a plural element.
_SINGULAR = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}
# Characters XML 1.0 cannot carry at all (control characters, lone surrogates): a stored
# text holding one must not make the whole document unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _append(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list):
        item_name = _SINGULAR.get(name, "item")
        for item in value:
            _append(element, item_name, item)
    else:
        element.text = _text(value)


def to_xml(root: str, data: list[Any] | dict[str, Any]) -> str:
    """Return ``data`` as a GeoReport XML document under ``root``."""
    element = ET.Element(root)
    if isinstance(data, list):
        for item in data:
            _append(element, _SINGULAR[root], item)
    else:
        for key, item in data.items():
            _append(element, key, item)
    return _DECLARATION + ET.tostring(element, encoding="unicode")


def render(fmt: Format, root: str, data: list[Any] | dict[str, Any], code: int = 200) -> Response:
    """Return ``data`` in the asked format (``root`` names the XML document element)."""
    if fmt == "xml":
        return Response(to_xml(root, data), code, media_type=XML_MEDIA)
    return JSONResponse(data, code, media_type=JSON_MEDIA)


def georeport_error(code: int, description: str, fmt: Format = "json") -> Response:
    """Return an error in GeoReport v2's shape with the matching HTTP status."""
    return render(fmt, "errors", [{"code": code, "description": description}], code)
