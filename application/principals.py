"""Who the caller is. The API authenticates a bearer token (``store.users``); the CLI acts
"as" someone, ``role:id[@unit]``, and gets the same kind of principal:

1. the id of a registered user: that user, with his role and units (a different role, a
   unit he is not bound to, or a deactivated account is refused);
2. otherwise an ad-hoc principal from the text: ``@unit`` is his one unit; a grid worker
   without one gets the unit grids the loaded district assigns to him, if any;
3. an ad-hoc principal that nothing places (no ``@unit``, no district assignment) is
   ``unbounded``: the operator vouches for him (see ``store.users.Principal``).

Reads on the CLI without ``--as`` are the operator's (``OPERATOR``), who sees everything.
"""

from __future__ import annotations

from application.errors import Forbidden, Invalid
from domain.errors import DomainError
from domain.org import District
from domain.roles import Actor, Role
from store.users import CENTER_ROLES, Principal, UnknownUser, UserStore

__all__ = ["OPERATOR", "Principal", "principal_as"]

# The person at the CLI with the database's credentials: an admin for every read.
OPERATOR = Principal(user_id="operator", role="admin", name="the CLI operator")


def principal_as(text: str, users: UserStore, district: District | None) -> Principal:
    """The principal behind ``role:id[@unit]`` (the CLI's ``--as``)."""
    try:
        actor = Actor.parse(text)
    except ValueError as exc:
        raise Invalid(str(exc), code="invalid_actor") from None
    if actor.role is Role.SYSTEM:
        raise Forbidden("the system role is the engine's own; act as a person", code="wrong_role")
    try:
        user = users.get_user(actor.id)
    except UnknownUser:
        return _ad_hoc(actor, district)
    if not user.active:
        raise Forbidden(f"user {user.id!r} is deactivated", code="user_deactivated")
    if user.role != actor.role.value:
        raise Forbidden(
            f"{user.id} is registered as {user.role}, not {actor.role.value}", code="role_mismatch"
        )
    if actor.unit and actor.unit not in user.units:
        bound = ", ".join(user.units) or "no unit"
        raise Forbidden(f"{user.id} acts for {bound}, not {actor.unit}", code="not_your_unit")
    return Principal(user.id, user.role, user.units, name=user.name)


def _ad_hoc(actor: Actor, district: District | None) -> Principal:
    units: tuple[str, ...] = (actor.unit,) if actor.unit else ()
    if not units and actor.role is Role.GRID_WORKER and district is not None:
        try:
            units = tuple(g.code for g in district.grids_of_worker(actor.id))
        except DomainError:  # not one of the district's grid workers
            units = ()
    placed = bool(units) or actor.role.value in CENTER_ROLES
    return Principal(actor.id, actor.role.value, units, unbounded=not placed)
