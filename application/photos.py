"""Who may see a photo, and which photos a report or step may name.

A photo is seen by whoever uploaded it and by whoever may see a case that shows it (the
case's events name it; jurisdiction as everywhere, ``application.authz.scope``). Anyone
else is told it does not exist.

A report or step may name a photo the caller could fetch: an unknown photo, or one of a
case he cannot see, is refused (``unknown_photo``) with the same words, so the refusal
does not tell whether it exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from sqlalchemy import Engine, select

from application.authz import Use, require, scope
from application.config import DEFAULT_PHOTO_MAX_BYTES
from application.errors import Invalid, NotFound
from store.models import CaseRow
from store.photos import (
    CONTENT_TYPES,
    PHOTO_ID,
    NotAPhoto,
    Photo,
    PhotoStore,
    PhotoTooLarge,
    Stored,
    cases_referencing,
    uploaders,
)
from store.photos import photo_kinds as photo_kinds
from store.users import Principal


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


def photos_named(details: Mapping[str, Any]) -> list[str]:
    """The uploaded photos an event's data names (``photos``, ``result_photos``)."""
    return [
        p
        for name in ("photos", "result_photos")
        for p in details.get(name) or ()
        if isinstance(p, str) and PHOTO_ID.match(p)
    ]


def require_photos(engine: Engine, who: Principal, photo_ids: Sequence[str]) -> None:
    """``Invalid`` (``unknown_photo``) unless ``who`` could fetch every photo named."""
    wanted = list(dict.fromkeys(photo_ids))
    if not wanted:
        return
    malformed = [p for p in wanted if not PHOTO_ID.match(p)]
    if malformed:
        raise Invalid(
            f"{malformed[0]!r} is not a photo id; upload it to /v1/photos and send the "
            "id it answers (sha256:<64 hex digits>)",
            code="unknown_photo",
            photos=malformed,
        )
    stored = uploaders(engine, wanted)
    mine = {p for p, user in stored.items() if user == who.user_id}
    usable = mine | _in_a_visible_case(engine, who, set(stored) - mine)
    missing = [p for p in wanted if p not in usable]
    if missing:
        raise Invalid(
            f"no photo {missing[0]!r}; upload it to /v1/photos first",
            code="unknown_photo",
            photos=missing,
        )


def visible_photo(store: PhotoStore, who: Principal, photo_id: str) -> Photo:
    """The photo if ``who`` uploaded it or may see a case that shows it; ``NotFound``
    otherwise."""
    photo = store.get(photo_id)
    if photo is None or (
        photo.uploaded_by != who.user_id and not _in_a_visible_case(store.engine, who, [photo_id])
    ):
        raise NotFound(f"no photo {photo_id!r}")
    return photo


def upload(
    store: PhotoStore,
    who: Principal,
    stream: IO[bytes],
    *,
    declared: str = "",
    max_bytes: int = DEFAULT_PHOTO_MAX_BYTES,
) -> Stored:
    """Keep an uploaded photo (JPEG, PNG or WebP, told by its bytes) for ``who`` to name in
    a report or step: ``Invalid`` (``photo_too_large``, ``unsupported_photo``) otherwise.
    The web pages upload through this (with ``GRIDCASE_PHOTO_MAX_BYTES``); the API's route
    applies the same store and limit with its own HTTP answers (413, 415)."""
    require(who, Use.UPLOAD_PHOTO)
    try:
        return store.put(stream, uploaded_by=who.user_id, max_bytes=max_bytes, declared=declared)
    except PhotoTooLarge as exc:
        raise Invalid(str(exc), code="photo_too_large", limit=exc.limit) from None
    except NotAPhoto as exc:
        raise Invalid(str(exc), code="unsupported_photo", accepted=list(CONTENT_TYPES)) from None
