"""``GET /live``: the signed-in viewer's live updates as server-sent events.

The stream names the cases that changed, within the viewer's jurisdiction
(``application.live``); a page re-fetches with htmx only the fragment it shows
(``static/js/live.js``). Messages:

- ``event: change`` with ``{"cases": [ids]}``; ``["*"]``: refresh everything (the
  listener reconnected and may have missed changes). Changes within ``GATHER`` seconds
  go out as one message.
- a comment every ``HEARTBEAT`` seconds, so proxies keep the connection and a closed one
  is noticed;
- ``event: ended`` when the session ended (signed out, expired, idle): the page reloads
  and meets the sign-in page. The stream itself is not activity: an open page does not
  keep an idle session alive.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from application.context import services
from application.live import LiveHub
from store.users import Principal
from web.auth import SESSION_COOKIE, SignedIn, csrf_protect, sign_in

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

HEARTBEAT = 15.0
GATHER = 0.25
SESSION_CHECK = 60.0
HEADERS = {
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",
    "X-Content-Type-Options": "nosniff",
}


async def _events(request: Request, hub: LiveHub, who: Principal) -> AsyncIterator[str]:
    secret = request.cookies.get(SESSION_COOKIE, "")
    sessions = sign_in(request).sessions
    checked = time.monotonic()
    box = hub.subscribe(who)
    try:
        yield "retry: 3000\n: connected\n\n"
        while True:
            if await box.wait(HEARTBEAT):
                await asyncio.sleep(GATHER)
                yield f"event: change\ndata: {json.dumps({'cases': box.take()})}\n\n"
            else:
                yield ": keep-alive\n\n"
            if time.monotonic() - checked > SESSION_CHECK:
                checked = time.monotonic()
                if await run_in_threadpool(sessions.resume, secret, touch=False) is None:
                    yield "event: ended\ndata: {}\n\n"
                    return
    finally:
        hub.unsubscribe(box)


@router.get("/live")
async def live(request: Request, user: SignedIn) -> StreamingResponse:
    hub = services(request).live
    return StreamingResponse(
        _events(request, hub, user), media_type="text/event-stream", headers=HEADERS
    )
