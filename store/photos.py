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
    )

    hash: Mapped[str] = mapped_column(Text, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class PhotoTooLarge(StoreError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"a photo may have at most {limit} bytes")
        self.limit = limit


class NotAPhoto(StoreError):
    """The bytes are not a JPEG, PNG or WebP image, or not the type the sender declared."""


@dataclass(frozen=True)
class Photo:
    hash: str
    size: int
    content_type: str
    uploaded_by: str
    uploaded_at: datetime

    @property
    def id(self) -> str:
        return PREFIX + self.hash


@dataclass(frozen=True)
class Stored:
    photo: Photo
    created: bool  # False: the same bytes were already there


def sniff(head: bytes) -> str | None:
    """The image type the first bytes announce (magic numbers), None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_declared(declared: str, sniffed: str | None) -> str:
    """The photo's type: what its bytes are, when the sender's declared type agrees.

    A sender may declare nothing or ``application/octet-stream``; anything else must be one
    of the image types and the one the bytes are.
    """
    kind = declared.split(";", 1)[0].strip().lower()
    kind = "image/jpeg" if kind in ("image/jpg", "image/pjpeg") else kind
    if kind not in ("", "application/octet-stream", *CONTENT_TYPES):
        raise NotAPhoto(f"{kind} is not accepted; send {', '.join(CONTENT_TYPES)}")
    if sniffed is None:
        raise NotAPhoto("the bytes are not a JPEG, PNG or WebP image")
    if kind in CONTENT_TYPES and kind != sniffed:
        raise NotAPhoto(f"declared {kind}, but the bytes are {sniffed}")
    return sniffed


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
        self, stream: IO[bytes], *, uploaded_by: str, max_bytes: int, declared: str = ""
    ) -> Stored:
        """Store the bytes read from ``stream``: PhotoTooLarge past ``max_bytes``, NotAPhoto
        unless they are a JPEG, PNG or WebP image of the ``declared`` type (if one)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=".upload-", dir=self.directory)
        temp = Path(temp_name)
        try:
            digest, size, head = self._copy(stream, fd, max_bytes)
            content_type = check_declared(declared, sniff(head))
            target = self.path(digest)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        with self.engine.begin() as conn:
            inserted = conn.execute(
                pg_insert(PhotoRow)
                .values(hash=digest, size=size, content_type=content_type, uploaded_by=uploaded_by)
                .on_conflict_do_nothing()
                .returning(PhotoRow.hash)
            ).first()
        photo = self.get(PREFIX + digest)
        assert photo is not None  # just inserted, or there before
        if inserted is not None:
            log.info("photo_stored", photo=photo.id, size=size, uploaded_by=uploaded_by)
        return Stored(photo, created=inserted is not None)

    @staticmethod
    def _copy(stream: IO[bytes], fd: int, max_bytes: int) -> tuple[str, int, bytes]:
        hasher, size, head = hashlib.sha256(), 0, b""
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PhotoTooLarge(max_bytes)
                if len(head) < 16:
                    head += chunk[:16]
                hasher.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise NotAPhoto("the file is empty")
        return hasher.hexdigest(), size, head

    def get(self, photo_id: str) -> Photo | None:
        digest = photo_hash(photo_id)
        if digest is None:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(PhotoRow).where(PhotoRow.hash == digest)).first()
        if row is None:
            return None
        return Photo(row.hash, row.size, row.content_type, row.uploaded_by, row.uploaded_at)
