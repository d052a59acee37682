"""Bearer-token authentication and role gates.

Routes declare who may call them with ``Depends(role_in(...))``; jurisdiction over a
particular case is checked separately (``api.jurisdiction``), and the domain's own role
and stage rules last, inside the workflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import structlog
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.context import Services, services
from api.problems import forbidden, token_expired, unauthenticated
from store.users import CENTER_ROLES, Principal, TokenExpired

log = structlog.get_logger(__name__)

# auto_error=False: a missing header is our own 401 problem, not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="A token from `gridcase users token issue`")

# The supervision and command centers' staff, and admins: the center's queues.
CENTER_STAFF = CENTER_ROLES | {"admin"}


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


def role_in(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency admitting only the given roles (403 problem otherwise)."""
    allowed = frozenset(roles)

    def check(who: Caller) -> Principal:
        if who.role not in allowed:
            raise forbidden(f"role {who.role} may not use this; only {', '.join(sorted(allowed))}")
        return who

    return check
