"""Rate limits: a token bucket per caller, in the API process.

Who is a caller:
- a user, by his bearer token (``Authorization: Bearer …``, on every path);
- an Open311 client, by its ``api_key`` (in the query here; a POST's form field is
  checked by ``api.open311`` once the form is read);
- anyone else reading Open311 (its GETs need no key), by client address.

Each has a bucket of ``burst`` requests refilled at ``per_second``: a burst passes, a
flood is answered 429 with ``Retry-After`` (a problem on ``/v1``, Open311's error list
under ``/open311/v2/``) before any work is done for it, so one caller cannot slow the
others down. A refusal is held up to ``HOLD`` seconds (no longer than the caller has to
wait anyway) before it is sent: answering at once, a client that ignores Retry-After
and loops keeps the API busy with refusals alone (measured: 185 refusals a second from
20 threads slowed other users' reads tenfold on 2 cores); held, it goes at the pace of
its connections. Buckets live in this process: with N API replicas a caller may send N
times as much. The limits are settings (``GRIDCASE_RATE_USER``, ``GRIDCASE_RATE_CLIENT``,
``GRIDCASE_RATE_ANONYMOUS``).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import OPEN311_PREFIX, Problem, render_problem
from application.config import RateLimit

MAX_BUCKETS = 100_000  # callers remembered per kind; the least recently seen go first
HOLD = 1.0  # seconds a refusal may be held before it is sent


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """One token bucket per key; ``take`` answers 0 when a request may pass, else the
    seconds until it may."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> float:
        now = self.clock()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(float(self.limit.burst), now)
        else:
            refill = (now - bucket.at) * self.limit.per_second
            bucket.tokens = min(float(self.limit.burst), bucket.tokens + refill)
            bucket.at = now
        self._buckets[key] = bucket  # most recently seen last
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.limit.per_second


class RateLimited(Problem):
    def __init__(self, wait: float, who: str) -> None:
        seconds = max(1, math.ceil(wait))
        super().__init__(
            429,
            "rate_limited",
            f"too many requests from this {who}; try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
        self.wait = wait

    async def held(self) -> RateLimited:
        """Itself, after holding the caller as long as he must wait (at most ``HOLD``)."""
        await asyncio.sleep(min(self.wait, HOLD))
        return self


def _key(secret: str) -> str:
    # Never keep the secret itself in memory longer than the request.
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


class RateLimits:
    """The buckets of each kind of caller (a kind set to None is not limited)."""

    def __init__(
        self,
        user: RateLimit | None,
        client: RateLimit | None,
        anonymous: RateLimit | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user = TokenBuckets(user, clock) if user else None
        self.client = TokenBuckets(client, clock) if client else None
        self.anonymous = TokenBuckets(anonymous, clock) if anonymous else None

    def client_refusal(self, api_key: str) -> RateLimited | None:
        """The 429 when the Open311 client with ``api_key`` sends too much."""
        if self.client is not None and api_key:
            wait = self.client.take(_key(api_key))
            if wait:
                return RateLimited(wait, "API key")
        return None

    def refusal(self, scope: Scope) -> RateLimited | None:
        """The 429 for this request, or None when it may pass."""
        headers = dict(scope["headers"])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            if self.user is None:
                return None
            wait = self.user.take(_key(token.strip()))
            return RateLimited(wait, "user") if wait else None
        if not scope["path"].startswith(OPEN311_PREFIX):
            return None  # unauthenticated: refused at once without any work
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        api_key = (query.get("api_key") or [""])[0]
        if api_key:
            return self.client_refusal(api_key)
        if scope["method"] == "POST" or self.anonymous is None:
            return None  # a POST's key is in its form: checked by the route
        client = scope.get("client") or ("unknown", 0)
        wait = self.anonymous.take(str(client[0]))
        return RateLimited(wait, "address") if wait else None


class RateLimitMiddleware:
    """ASGI middleware answering 429 for a caller over his limit."""

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self.limits.refusal(scope)
            if refusal is not None:
                response = render_problem(scope["path"], await refusal.held())
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
