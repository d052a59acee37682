"""Delivery of the notification outbox to webhooks (runs on the supervision task queue).

Each due notice is POSTed as JSON to every active subscription of its audience, signed
with that subscription's secret:

    X-Gridcase-Event:      the notice's kind, e.g. stage_overdue
    X-Gridcase-Delivery:   the notification id (the same on every retry)
    X-Gridcase-Timestamp:  unix seconds when this request was sent
    X-Gridcase-Signature:  sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>

A 2xx answer acknowledges; anything else, or no answer, is retried with exponential
backoff, only to the subscriptions that have not acknowledged yet, until ``max_attempts``
(then the notice is failed and stays listed until retried by hand).

Delivery is at least once: a drainer that dies between a POST and recording it sends the
notice again later. Receivers must dedupe on ``X-Gridcase-Delivery`` (the body's ``id``),
and should refuse a timestamp far from their clock (replays).
"""

# No "from __future__ import annotations" here: DeliverInput and DeliverResult cross the
# Temporal boundary, and the SDK resolves string annotations against sys.modules, which
# differs inside the workflow sandbox.

import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from temporalio import activity

from store.outbox import Delivery, Outbox, Subscription

log = structlog.get_logger(__name__)

# (url, body, headers, timeout seconds) -> HTTP status; raises OSError when there is no answer.
HttpPost = Callable[[str, bytes, dict[str, str], float], int]

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 10
HTTP_TIMEOUT = 10.0
# Stop starting new POSTs after this long, well inside the outbox lease, so no other
# drainer can claim a notice this one is still working on.
BATCH_BUDGET = timedelta(seconds=60)
USER_AGENT = "gridcase-webhooks/1"


@dataclass
class DeliverInput:
    limit: int = 50


@dataclass
class DeliverResult:
    delivered: int = 0  # acknowledged by every subscriber
    failed: int = 0  # given up after max attempts (status failed)
    retried: int = 0  # failed this time, scheduled again with backoff
    remaining: int = 0  # still pending and already due after this batch
    no_subscriber: int = 0  # nobody takes the audience (status no_subscriber)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET without body; treat 3xx as a failure.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def urllib_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")  # urllib would also open file:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)
    except urllib.error.URLError as exc:
        # Surface the cause (ConnectionRefusedError, TimeoutError…) as the recorded error.
        if isinstance(exc.reason, OSError):
            raise exc.reason from None
        raise


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min, … capped at 1 h."""
    # The exponent is bounded so a large attempt count cannot overflow timedelta.
    return min(BACKOFF_BASE * (1 << min(max(attempts - 1, 0), 16)), BACKOFF_CAP)


def body_of(notice: Delivery) -> bytes:
    """The JSON body; the same bytes on every retry (only the timestamp header changes)."""
    payload = {
        "id": notice.id,
        "kind": notice.kind,
        "case_id": notice.case_id,
        "event_version": notice.event_version,
        "audience": notice.audience,
        "message": notice.message,
        "data": notice.data,
        "created_at": notice.created_at.isoformat(),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _utcnow() -> datetime:
    return datetime.now(UTC)


class NotificationActivities:
    def __init__(
        self,
        outbox: Outbox,
        http_post: HttpPost = urllib_post,
        *,
        clock: Callable[[], datetime] = _utcnow,
        max_attempts: int = MAX_ATTEMPTS,
        http_timeout: float = HTTP_TIMEOUT,
        batch_budget: timedelta = BATCH_BUDGET,
    ) -> None:
        self.outbox = outbox
        self.http_post = http_post
        self.clock = clock
        self.max_attempts = max_attempts
        self.http_timeout = http_timeout
        self.batch_budget = batch_budget

    @activity.defn(name="deliver_notifications")
    def deliver_notifications(self, inp: DeliverInput) -> DeliverResult:
        """Claim up to ``limit`` due notices and deliver each to its subscribers.

        Delivery failures are recorded on the notice, not raised: only a database error
        fails the activity (and Temporal retries it; claimed notices come back when their
        lease runs out)."""
        started = time.monotonic()
        claimed = self.outbox.claim(inp.limit, self.clock())
        subscriptions = self.outbox.active_subscriptions() if claimed else []
        result = DeliverResult()
        for i, notice in enumerate(claimed):
            if time.monotonic() - started > self.batch_budget.total_seconds():
                self.outbox.release([n.id for n in claimed[i:]], self.clock())
                break
            outcome = self._deliver(notice, subscriptions)
            setattr(result, outcome, getattr(result, outcome) + 1)
        result.remaining = self.outbox.pending_count(due_by=self.clock())
        if claimed:
            log.info(
                "notifications_drained",
                claimed=len(claimed),
                delivered=result.delivered,
                retried=result.retried,
                failed=result.failed,
                no_subscriber=result.no_subscriber,
                remaining=result.remaining,
            )
        return result

    def _deliver(self, notice: Delivery, subscriptions: list[Subscription]) -> str:
        """Send one notice; returns the DeliverResult field it counts towards."""
        fields = {"case_id": notice.case_id, "notification_id": notice.id, "kind": notice.kind}
        targets = [s for s in subscriptions if s.receives(notice.audience)]
        if not targets:
            self.outbox.mark_no_subscriber(notice.id, notice.audience, self.clock())
            log.warning("notification_no_subscriber", audience=notice.audience, **fields)
            return "no_subscriber"
        body = body_of(notice)
        acknowledged = set(notice.delivered_to)
        errors: list[str] = []
        for sub in targets:
            if sub.name in acknowledged:
                continue  # acknowledged on an earlier attempt
            error = self._post(sub, notice, body)
            if activity.in_activity():  # also called directly, e.g. from tests
                activity.heartbeat(notice.id)
            if error is None:
                acknowledged.add(sub.name)
                log.info("notification_delivered", subscription=sub.name, **fields)
            else:
                errors.append(f"{sub.name}: {error}")
                log.warning(
                    "notification_delivery_failed", subscription=sub.name, error=error, **fields
                )
        now = self.clock()
        if not errors:
            self.outbox.mark_delivered(notice.id, now, acknowledged)
            return "delivered"
        attempts = notice.attempts + 1
        retry_at = now + backoff(attempts) if attempts < self.max_attempts else None
        self.outbox.mark_failed(notice.id, "; ".join(errors), now, retry_at, acknowledged)
        if retry_at is None:
            log.error("notification_given_up", attempts=attempts, errors=errors, **fields)
            return "failed"
        return "retried"

    def _post(self, sub: Subscription, notice: Delivery, body: bytes) -> str | None:
        """POST to one subscription; None when it acknowledged, else why not."""
        timestamp = str(int(self.clock().timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Gridcase-Event": notice.kind,
            "X-Gridcase-Delivery": str(notice.id),
            "X-Gridcase-Timestamp": timestamp,
            "X-Gridcase-Signature": signature(sub.secret, timestamp, body),
        }
        try:
            status = self.http_post(sub.url, body, headers, self.http_timeout)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            # No answer (refused, reset, timed out, bad URL): the receiver may be down.
            return f"{type(exc).__name__}: {exc}"
        return None if 200 <= status < 300 else f"HTTP {status}"

    def all(self) -> list[Callable[..., Any]]:
        return [self.deliver_notifications]
