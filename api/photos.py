"""Who may see a photo, and which photos a report or step may name.

A photo is seen by whoever uploaded it and by whoever may see a case that shows it (the
case's events name it; jurisdiction as everywhere, ``api.jurisdiction.scope``). Anyone
else gets 404, as for a photo that does not exist.

A report or step may name a photo the caller could fetch: an unknown photo, or one of a
case he cannot see, is refused (422 ``unknown_photo``) with the same words, so the refusal
does not tell whether it exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel
from sqlalchemy import Engine, select

from api.context import Services, services
from api.jurisdiction import scope
from api.problems import Problem, not_found
from gridcase.config import DEFAULT_PHOTO_MAX_BYTES
from store.models import CaseRow
from store.photos import PHOTO_ID, Photo, PhotoStore, cases_referencing, uploaders
from store.users import Principal

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


def referenced_photos(body: BaseModel) -> list[str]:
    """Every photo id a request body names: its ``photos`` lists, nested ones included."""
    return list(dict.fromkeys(_photos_in(body)))


def _photos_in(model: BaseModel) -> Iterator[str]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name == "photos" and isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))
        elif isinstance(value, BaseModel):
            yield from _photos_in(value)


def _in_a_visible_case(engine: Engine, who: Principal, photo_ids: Iterable[str]) -> set[str]:
    """Those of ``photo_ids`` that a case ``who`` may see shows."""
    found: set[str] = set()
    with engine.connect() as conn:
        for photo_id in photo_ids:
            hit = conn.execute(
                select(CaseRow.case_id)
                .where(CaseRow.case_id.in_(cases_referencing([photo_id])), scope(who))
                .limit(1)
            ).first()
            if hit is not None:
                found.add(photo_id)
    return found


def require_photos(engine: Engine, who: Principal, photo_ids: list[str]) -> None:
    """422 ``unknown_photo`` unless ``who`` could fetch every photo in ``photo_ids``."""
    if not photo_ids:
        return
    malformed = [p for p in photo_ids if not PHOTO_ID.match(p)]
    if malformed:
        raise Problem(
            422,
            "unknown_photo",
            f"{malformed[0]!r} is not a photo id; upload it to /v1/photos and send the "
            "id it answers (sha256:<64 hex digits>)",
            photos=malformed,
        )
    stored = uploaders(engine, photo_ids)
    mine = {p for p, user in stored.items() if user == who.user_id}
    usable = mine | _in_a_visible_case(engine, who, set(stored) - mine)
    missing = [p for p in photo_ids if p not in usable]
    if missing:
        raise Problem(
            422,
            "unknown_photo",
            f"no photo {missing[0]!r}; upload it to /v1/photos first",
            photos=missing,
        )


def visible_photo(store: PhotoStore, who: Principal, photo_id: str) -> Photo:
    """The photo if ``who`` uploaded it or may see a case that shows it; 404 otherwise."""
    photo = store.get(photo_id)
    if photo is None or (
        photo.uploaded_by != who.user_id and not _in_a_visible_case(store.engine, who, [photo_id])
    ):
        raise not_found(f"no photo {photo_id!r}")
    return photo
