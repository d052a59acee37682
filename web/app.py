"""Wire the web front ends into the API's FastAPI app (called by ``api.app.create_app``)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from web import STATIC_DIR, STATIC_URL, docs


def install(app: FastAPI) -> None:
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(docs.router)
