"""Photos attached to reports and steps: bytes on disk, addressed by their sha256, and one
row per photo in ``photos`` (size, type, who uploaded it first, when).

The same bytes uploaded twice are one photo: the file is written once (to a temporary
name, then renamed, so a reader never sees half a file) and the row is inserted once. The
file is on disk before its row is committed, so a row never names a missing file.

Which cases a photo belongs to is read from the event log itself — the ``photos`` lists
of CaseReported, CaseSelfHandled, CaseVerified, FeedbackSubmitted and ClosureCheck* —
through the index ``ix_events_photos``; no second record of it can drift from the log.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import structlog
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Engine,
    ForeignKey,
    Select,
    Text,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Mapped, mapped_column

from store.errors import StoreError
from store.models import Base, EventRow

log = structlog.get_logger(__name__)

PREFIX = "sha256:"
PHOTO_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}  # Pillow's names
# 40 megapixels: more than phones take in their default modes; decoded RGBA that is at
# most 160 MB, and no more than two decodes run at once.
MAX_PIXELS = 40_000_000
_DECODING = threading.BoundedSemaphore(2)
_CHUNK = 64 * 1024


class PhotoRow(Base):
    """One uploaded photo (its bytes are the file ``<dir>/ab/cd/<hash>``)."""

    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint("hash ~ '^[0-9a-f]{64}$'", name="hash_is_sha256"),
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint(
            "content_type IN ('image/jpeg', 'image/png', 'image/webp')", name="content_type_known"
        ),
        CheckConstraint("kind IN ('near', 'far', 'before', 'after')", name="kind_known"),
    )

    hash: Mapped[str] = mapped_column(Text, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # What it shows (domain.photo_kinds); the first upload of the bytes says it.
    kind: Mapped[str | None] = mapped_column(Text, nullable=True)


class PhotoTooLarge(StoreError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"a photo may have at most {limit} bytes")
        self.limit = limit


class NotAPhoto(StoreError):
    """The bytes are not a JPEG, PNG or WebP image, or not the type the sender declared."""


class UnreadablePhoto(StoreError):
    """The bytes start like an image of ours but do not decode, or decode into more
    pixels than a photo may have."""


@dataclass(frozen=True)
class Photo:
    hash: str
    size: int
    content_type: str
    uploaded_by: str
    uploaded_at: datetime
    kind: str | None = None

    @property
    def id(self) -> str:
        return PREFIX + self.hash


@dataclass(frozen=True)
class Stored:
    photo: Photo
    created: bool  # False: the same bytes were already there


def declared_type(declared: str) -> str:
    """The image type a sender declared ("" for none or ``application/octet-stream``);
    NotAPhoto for a type that is not one of ours."""
    kind = declared.split(";", 1)[0].strip().lower()
    kind = "image/jpeg" if kind in ("image/jpg", "image/pjpeg") else kind
    if kind in ("", "application/octet-stream"):
        return ""
    if kind not in CONTENT_TYPES:
        raise NotAPhoto(f"{kind} is not accepted; send {', '.join(CONTENT_TYPES)}")
    return kind


def _announced(path: Path) -> str | None:
    """The type the first bytes claim (magic numbers), None for anything else."""
    with path.open("rb") as f:
        head = f.read(12)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_type(path: Path) -> str:
    """The type of the image in ``path``, decoded to be sure: NotAPhoto when it is no
    JPEG, PNG or WebP at all, UnreadablePhoto when it does not decode or has more than
    MAX_PIXELS pixels (checked from its header, before any decoding: a decompression
    bomb is a small file that would decode into gigabytes)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with _DECODING, Image.open(path) as image:
            kind = _FORMATS.get(image.format or "")
            if kind is None:
                raise NotAPhoto(f"a {image.format} image; send {', '.join(CONTENT_TYPES)}")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UnreadablePhoto(
                    f"{width}×{height} pixels is more than the {MAX_PIXELS:,} a photo may have"
                )
            if kind == "image/jpeg":
                # Decoded at an eighth of its size: every byte is still read and checked,
                # in a sixty-fourth of the memory.
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
    except UnidentifiedImageError:
        announced = _announced(path)
        if announced:  # it starts like one of ours, but Pillow cannot even read its header
            raise UnreadablePhoto(f"the bytes start like {announced} but do not decode") from None
        raise NotAPhoto("the bytes are not a JPEG, PNG or WebP image") from None
    except Image.DecompressionBombError:
        raise UnreadablePhoto(f"more pixels than the {MAX_PIXELS:,} a photo may have") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnreadablePhoto(f"the image does not decode: {exc}") from None
    return kind


def photo_hash(photo_id: str) -> str | None:
    """The hex digest of a well-formed photo id, else None."""
    return photo_id.removeprefix(PREFIX) if PHOTO_ID.match(photo_id) else None


def cases_referencing(photo_ids: Collection[str]) -> Select[Any]:
    """Ids of cases with an event whose ``photos`` list names one of ``photo_ids``
    (the GIN index ix_events_photos, whose predicate the first condition repeats)."""
    # Literal SQL, not bound keys: the planner matches the index's expression and
    # predicate only against constants.
    photos = literal_column("events.data -> 'photos'", JSONB)
    return (
        select(EventRow.case_id)
        .where(text("events.data ? 'photos'"), or_(*(photos.contains([p]) for p in photo_ids)))
        .distinct()
    )


def uploaders(engine: Engine, photo_ids: Iterable[str]) -> dict[str, str]:
    """Who uploaded each of ``photo_ids`` that is stored (the others are left out)."""
    digests = {d for d in (photo_hash(p) for p in photo_ids) if d is not None}
    if not digests:
        return {}
    with engine.connect() as conn:
        found = conn.execute(
            select(PhotoRow.hash, PhotoRow.uploaded_by).where(PhotoRow.hash.in_(digests))
        )
        return {PREFIX + digest: user for digest, user in found}


class PhotoStore:
    def __init__(self, engine: Engine, directory: Path) -> None:
        self.engine = engine
        self.directory = directory

    def path(self, digest: str) -> Path:
        return self.directory / digest[:2] / digest[2:4] / digest

    def put(
        self,
        stream: IO[bytes],
        *,
        uploaded_by: str,
        max_bytes: int,
        declared: str = "",
        kind: str | None = None,
    ) -> Stored:
        """Store the bytes read from ``stream``: PhotoTooLarge past ``max_bytes``, NotAPhoto
        unless they are a JPEG, PNG or WebP image of the ``declared`` type (if one),
        UnreadablePhoto if that image does not decode (see ``image_type``). ``kind``: what
        it shows (``domain.photo_kinds``); the same bytes again keep their first kind."""
        expected = declared_type(declared)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=".upload-", dir=self.directory)
        temp = Path(temp_name)
        try:
            digest, size = self._copy(stream, fd, max_bytes)
            content_type = image_type(temp)
            if expected and expected != content_type:
                raise NotAPhoto(f"declared {expected}, but the bytes are {content_type}")
            target = self.path(digest)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        with self.engine.begin() as conn:
            inserted = conn.execute(
                pg_insert(PhotoRow)
                .values(
                    hash=digest,
                    size=size,
                    content_type=content_type,
                    uploaded_by=uploaded_by,
                    kind=kind,
                )
                .on_conflict_do_nothing()
                .returning(PhotoRow.hash)
            ).first()
        photo = self.get(PREFIX + digest)
        assert photo is not None  # just inserted, or there before
        if inserted is not None:
            log.info("photo_stored", photo=photo.id, size=size, uploaded_by=uploaded_by)
        return Stored(photo, created=inserted is not None)

    @staticmethod
    def _copy(stream: IO[bytes], fd: int, max_bytes: int) -> tuple[str, int]:
        hasher, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PhotoTooLarge(max_bytes)
                hasher.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise NotAPhoto("the file is empty")
        return hasher.hexdigest(), size

    def get(self, photo_id: str) -> Photo | None:
        digest = photo_hash(photo_id)
        if digest is None:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(PhotoRow).where(PhotoRow.hash == digest)).first()
        if row is None:
            return None
        return Photo(
            row.hash, row.size, row.content_type, row.uploaded_by, row.uploaded_at, row.kind
        )


def photo_kinds(engine: Engine, photo_ids: Iterable[str]) -> dict[str, str]:
    """The kind of each of ``photo_ids`` that has one (the others are left out)."""
    digests = {d for d in (photo_hash(p) for p in photo_ids) if d is not None}
    if not digests:
        return {}
    with engine.connect() as conn:
        found = conn.execute(
            select(PhotoRow.hash, PhotoRow.kind).where(
                PhotoRow.hash.in_(digests), PhotoRow.kind.is_not(None)
            )
        )
        return {PREFIX + digest: kind for digest, kind in found if kind is not None}
