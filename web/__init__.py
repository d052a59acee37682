"""The web front ends served by the API's FastAPI app: the center's console at ``/`` (and,
later, the grid worker's mobile app), server-rendered with Jinja2 templates and htmx.

Front-end libraries are vendored under ``static/vendor/`` at the versions pinned in
``vendor.json`` (``scripts/fetch-static`` fetches and checks them again); nothing is
loaded from a CDN at run time.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
VENDOR_MANIFEST = HERE / "vendor.json"
STATIC_URL = "/static"
