"""Bearer-token authentication and the role gates of ``application.authz``.

Routes declare who may call them with ``Depends(gate(Use.…))``: the same gate the
application service applies, checked early so a caller of the wrong role gets 403 before
anything else. Jurisdiction over a particular case, and the domain's own role and stage
rules, come later, in the application service and the workflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import structlog
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import token_expired, unauthenticated
from application.authz import Use, require
from application.context import Services, services
from application.principals import Principal
from store.users import TokenExpired

log = structlog.get_logger(__name__)

# auto_error=False: a missing header is our own 401 problem, not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="A token from `gridcase users token issue`")


def principal(
    svc: Annotated[Services, Depends(services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind ``Authorization: Bearer <token>``; 401 for anything else.

    A sync dependency on purpose: FastAPI runs it in its thread pool, so the database
    lookup does not block the event loop.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthenticated("send Authorization: Bearer <token>")
    try:
        found = svc.users.authenticate(credentials.credentials)
    except TokenExpired as exc:
        log.info("api_token_expired", token_id=exc.token_id)
        raise token_expired(exc) from None
    if found is None:
        log.info("api_token_refused")
        raise unauthenticated("the token is unknown, revoked, or its user is deactivated")
    return found


Caller = Annotated[Principal, Depends(principal)]


def gate(use: Use) -> Callable[[Principal], Principal]:
    """A dependency admitting only the roles that may ``use`` (403 problem otherwise)."""

    def check(who: Caller) -> Principal:
        return require(who, use)

    return check
