"""The API's interactive docs at ``/docs``, from the vendored Swagger UI.

FastAPI's default page pulls Swagger UI from a CDN and is blank offline; this one points
at ``/static/vendor/swagger-ui/`` and switches off Swagger UI's online spec validator.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from web import STATIC_URL

SWAGGER = f"{STATIC_URL}/vendor/swagger-ui"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs() -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="gridcase API",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        # null: no badge that would send the document to validator.swagger.io
        swagger_ui_parameters={"validatorUrl": None},
    )
    # FastAPI's page has no language; screen readers and axe need one.
    body = bytes(page.body).replace(b"<html>", b'<html lang="en">', 1)
    return HTMLResponse(body)
