"""Idempotency keys of people's steps: the same key answers the first result and records
nothing new, whichever front end retries (API, CLI, web pages) and whatever restarted.

A front end passes the key its client gave (the ``Idempotency-Key`` header, the CLI's
``--idempotency-key``, a web form's hidden field from :func:`new_idempotency_key`), or
none and the service makes one. The key is scoped to the caller and the case. Two places
answer it again (docs/architecture.md, "Steps are idempotent"):

1. Temporal: the scoped key is the update's id, so while the workflow's history exists
   the server answers the same id with the first outcome, in flight or done, across
   worker and server restarts, and never runs the step twice;
2. the log: the key, the step and a fingerprint of what was asked are recorded with the
   step's events, in the same transaction (``store.requests``); the service looks there
   first, which also answers after the history is gone (retention, a reset).

The same key with a different step or different input is refused (422
``idempotency_key_reused``), never answered with another request's result. A refused
step records nothing, so its key may be sent again.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Engine

from activities.types import StepRequest
from application.errors import Invalid
from domain import commands as c
from domain.steps import Step
from store.requests import answered_request
from store.users import Principal
from workflows.types import ActionResult

# Printable ASCII without space, as the Idempotency-Key header's string; a UUID fits.
KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
KEY_RULE = "1-128 printable ASCII characters without spaces, e.g. a UUID"


def new_idempotency_key() -> str:
    """A fresh key, for a front end to send with a step (a web form, a CLI command)."""
    return str(uuid.uuid4())


def check_key(key: str) -> str:
    if not KEY.match(key):
        shown = key if len(key) <= 40 else key[:40] + "…"
        raise Invalid(
            f"idempotency key {shown!r} is not {KEY_RULE}", code="invalid_idempotency_key"
        )
    return key


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def fingerprint(step: Step, command: c.Command) -> str:
    """What was asked: the step and every field the person filled in, as sent (before
    the application fills in routing's department), hashed."""
    asked = {f.name: _plain(getattr(command, f.name)) for f in step.inputs}
    text = json.dumps({"step": step.name, "inputs": asked}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def step_request(who: Principal, step: Step, command: c.Command, key: str | None) -> StepRequest:
    """The request of ``who`` taking ``step``: his key (a new one when he gave none),
    scoped to him, and the fingerprint of what he asked."""
    mine = check_key(key) if key is not None else new_idempotency_key()
    return StepRequest(
        key=f"{who.user_id}/{mine}", step=step.name, fingerprint=fingerprint(step, command)
    )


def reused(request: StepRequest) -> Invalid:
    key = request.key.partition("/")[2]
    return Invalid(
        f"idempotency key {key!r} was already used on this case for another request (another "
        "step, or other input); send a new key for a new request",
        code="idempotency_key_reused",
    )


def answered(engine: Engine, case_id: str, request: StepRequest) -> ActionResult | None:
    """The first answer to ``request``'s key recorded on the case, or None; ``Invalid``
    when the key answered another request."""
    found = answered_request(engine, case_id, request.key)
    if found is None:
        return None
    if (found.step, found.fingerprint) != (request.step, request.fingerprint):
        raise reused(request)
    result = dict(found.result)
    due = result.get("stage_due_at")
    result["stage_due_at"] = datetime.fromisoformat(due) if due else None
    return ActionResult(**result)


def same_request(result: ActionResult, request: StepRequest) -> ActionResult:
    """``result`` if it answers ``request``: Temporal answers a repeated update id with
    the first outcome, whatever was sent the second time."""
    if result.fingerprint and result.fingerprint != request.fingerprint:
        raise reused(request)
    return result
