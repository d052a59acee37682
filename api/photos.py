"""Where photos are kept and how large one may be. Who may see a photo and which photos a
report or step may name is the application's rule (``application.photos``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends

from application.config import DEFAULT_PHOTO_MAX_BYTES
from application.context import Services, services

DEFAULT_MAX_BYTES = DEFAULT_PHOTO_MAX_BYTES


@dataclass(frozen=True)
class PhotoConfig:
    """Where photos are kept and how large one may be (GRIDCASE_PHOTOS_DIR,
    GRIDCASE_PHOTO_MAX_BYTES). Override the ``photo_config`` dependency
    (``app.dependency_overrides``) to change either for one app."""

    directory: Path
    max_bytes: int = DEFAULT_MAX_BYTES


def photo_config(svc: Annotated[Services, Depends(services)]) -> PhotoConfig:
    return PhotoConfig(directory=svc.settings.photos_path, max_bytes=svc.settings.photo_max_bytes)
