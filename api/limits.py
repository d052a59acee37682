"""Request bodies are capped before they are read.

Each kind of route has its limit: a photo upload the photo limit
(``GRIDCASE_PHOTO_MAX_BYTES``) plus room for the multipart framing, a console step's form
that of its photos; every other body
(JSON reports and steps, Open311's forms) ``SMALL_BODY_BYTES``, far above any valid one
and far below what would burden the workers or Temporal (whose payload limit is 2 MB).

A body announced larger (Content-Length) is refused at once, unread; one sent in chunks
is counted as it arrives and refused when it passes the limit. Either way the answer is a
413, in Open311's error format under ``/open311/v2/`` and a problem everywhere else.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import BodyTooLarge, Problem, body_too_large, render_problem
from web.step_routes import MAX_PHOTOS, takes_photos

SMALL_BODY_BYTES = 64 * 1024
MULTIPART_OVERHEAD = 16 * 1024  # the form's boundaries and part headers around a photo
PHOTO_UPLOAD_PATH = "/v1/photos"


def photo_too_large(limit: int) -> Problem:
    return Problem(413, "photo_too_large", f"a photo may have at most {limit} bytes", limit=limit)


class BodyLimit:
    """ASGI middleware: 413 for a body over its route's limit."""

    def __init__(self, app: ASGIApp, photo_max_bytes: int) -> None:
        self.app = app
        self.photo_max_bytes = photo_max_bytes

    def limit(self, path: str) -> tuple[int, Problem]:
        """The most bytes a body sent to ``path`` may have, and the answer past it."""
        if path == PHOTO_UPLOAD_PATH:
            return self.photo_max_bytes + MULTIPART_OVERHEAD, photo_too_large(self.photo_max_bytes)
        if takes_photos(path):  # a console step's form, with its photos
            room = MAX_PHOTOS * (self.photo_max_bytes + MULTIPART_OVERHEAD)
            return room, photo_too_large(self.photo_max_bytes)
        return SMALL_BODY_BYTES, body_too_large(SMALL_BODY_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, refusal = self.limit(scope["path"])
        announced = dict(scope["headers"]).get(b"content-length", b"")
        if announced.isdigit() and int(announced) > limit:
            response = render_problem(scope["path"], refusal)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(refusal)
            return message

        await self.app(scope, counted, send)
