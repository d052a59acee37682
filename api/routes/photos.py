"""Photos (照片): upload once, then name the id in reports and steps; fetch what you may see.

``POST /v1/photos`` takes one ``multipart/form-data`` part named ``file`` and answers the
photo's id, ``sha256:<hex>`` of its bytes (the same bytes twice: the same id, 200 instead
of 201). An optional part ``kind`` says what it shows (``domain.photo_kinds``: ``near``
近景 or ``far`` 远景 for a report, ``before`` 处置前 or ``after`` 处置后 for a check); the
same bytes again keep the kind of their first upload. Only JPEG, PNG and WebP, told by
decoding the image (Pillow) rather than by what the client declares or by its first
bytes: another type is a 415, an image that does not decode or has more than 40
megapixels (a decompression bomb) a 422. At most
``GRIDCASE_PHOTO_MAX_BYTES`` (5 MiB by default).
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth import Caller, gate
from api.limits import MULTIPART_OVERHEAD, photo_too_large
from api.photos import PhotoConfig, photo_config
from api.problems import PROBLEM_RESPONSES, Problem, problem_doc
from api.schemas import Timestamp
from application.authz import Use
from application.context import Services, services
from application.photos import visible_photo
from application.principals import Principal
from domain.photo_kinds import PHOTO_KINDS
from store.photos import (
    CONTENT_TYPES,
    MAX_PIXELS,
    NotAPhoto,
    PhotoStore,
    PhotoTooLarge,
    Stored,
    UnreadablePhoto,
)

log = structlog.get_logger(__name__)

router = APIRouter(tags=["photos"], responses=PROBLEM_RESPONSES)

Svc = Annotated[Services, Depends(services)]
Config = Annotated[PhotoConfig, Depends(photo_config)]
Uploader = Annotated[Principal, Depends(gate(Use.UPLOAD_PHOTO))]
PhotoId = Annotated[
    str,
    Path(pattern=r"^sha256:[0-9a-f]{64}$", description="sha256:<64 hex digits>"),
]
BINARY = {"schema": {"type": "string", "format": "binary"}}


class PhotoOut(BaseModel):
    photo: str  # the id to name in reports and steps: sha256:<hex>
    size: int
    content_type: str
    uploaded_at: Timestamp
    url: str
    kind: str | None = None  # near 近景, far 远景, before 处置前, after 处置后


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The photo: JPEG, PNG or WebP",
                        },
                        "kind": {
                            "type": "string",
                            "enum": list(PHOTO_KINDS),
                            "description": "What it shows: near 近景, far 远景 (a report), "
                            "before 处置前, after 处置后 (a check)",
                        },
                    },
                }
            }
        },
    }
}


def _out(stored: Stored) -> PhotoOut:
    photo = stored.photo
    return PhotoOut(
        photo=photo.id,
        size=photo.size,
        content_type=photo.content_type,
        uploaded_at=photo.uploaded_at,
        url=f"/v1/photos/{photo.id}",
        kind=photo.kind,
    )


@router.post(
    "/v1/photos",
    status_code=201,
    response_model=PhotoOut,
    summary="Upload a photo",
    openapi_extra=UPLOAD_BODY,
    responses={
        200: {"model": PhotoOut, "description": "these bytes were uploaded before: same id"},
        400: problem_doc("Not a readable multipart/form-data body"),
        413: problem_doc("Larger than the limit"),
        415: problem_doc("Not a JPEG, PNG or WebP image"),
        422: problem_doc("An image that does not decode, or has too many pixels"),
    },
)
async def upload_photo(
    request: Request, response: Response, svc: Svc, who: Uploader, config: Config
) -> PhotoOut:
    """The form is read here rather than by FastAPI, so an announced oversized body is
    refused before any of it is read."""
    limit = config.max_bytes
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit + MULTIPART_OVERHEAD:
        raise photo_too_large(limit)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Problem(415, "unsupported_media_type", "send multipart/form-data with a part 'file'")
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Problem(422, "photo_required", "send the photo as the form part 'file'")
        kind = form.get("kind") or None
        if kind is not None and kind not in PHOTO_KINDS:
            raise Problem(
                422,
                "unknown_photo_kind",
                f"kind {str(kind)[:40]!r} is not one of {', '.join(PHOTO_KINDS)}",
                kinds=list(PHOTO_KINDS),
            )
        store = PhotoStore(svc.engine, config.directory)
        try:
            stored = await run_in_threadpool(
                store.put,
                upload.file,
                uploaded_by=who.user_id,
                max_bytes=limit,
                declared=upload.content_type or "",
                kind=kind,
            )
        except PhotoTooLarge:
            raise photo_too_large(limit) from None
        except NotAPhoto as exc:
            raise Problem(
                415, "unsupported_photo", str(exc), accepted=list(CONTENT_TYPES)
            ) from None
        except UnreadablePhoto as exc:
            raise Problem(422, "unreadable_photo", str(exc), max_pixels=MAX_PIXELS) from None
    response.status_code = 201 if stored.created else 200
    response.headers["Location"] = f"/v1/photos/{stored.photo.id}"
    return _out(stored)


@router.get(
    "/v1/photos/{photo_id}",
    summary="A photo's bytes",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The photo",
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}} for t in CONTENT_TYPES
            },
        }
    },
)
def get_photo(photo_id: PhotoId, who: Caller, svc: Svc, config: Config) -> FileResponse:
    """For its uploader and for whoever may see a case that shows it; 404 for anyone else."""
    store = PhotoStore(svc.engine, config.directory)
    photo = visible_photo(store, who, photo_id)
    path = store.path(photo.hash)
    if not path.is_file():
        log.error("photo_file_missing", photo=photo.id, path=str(path))
        raise Problem(404, "not_found", f"no photo {photo_id!r}")
    return FileResponse(
        path,
        media_type=photo.content_type,
        headers={
            "ETag": f'"{photo.hash}"',
            # The same id is always the same bytes; only who may see them can change.
            "Cache-Control": "private, max-age=86400, immutable",
            "X-Content-Type-Options": "nosniff",
        },
        content_disposition_type="inline",
        filename=f"{photo.hash}.{photo.content_type.removeprefix('image/')}",
    )
