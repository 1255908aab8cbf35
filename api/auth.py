"""Bearer API keys and roles.

``Authorization: Bearer <key>``; the key is checked by the store (HMAC,
constant-time compare, revocation). Roles: ``system`` (upstream order systems),
``staff`` (dispute staff), ``auditor``, and ``admin``, which may do everything.
A missing, malformed, unknown or revoked key is a 401; a valid key over its
rate limit (:mod:`api.ratelimit`) is a 429 with ``Retry-After``; a valid key
without the role is a 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, request

from adjudicator.db.actor import Actor
from adjudicator.identity.keys import ROLES, authenticate
from api.problems import Problem
from api.services import services

F = TypeVar("F", bound=Callable[..., Any])
ANY_ROLE = ROLES
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="adjudicator"'}


def current_actor() -> Actor:
    """The authenticated actor of this request (set by :func:`requires`)."""
    actor: Actor = g.actor
    return actor


def _authenticate() -> Actor:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Problem(401, "unauthorized", "An API key is required.", headers=_CHALLENGE)
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "unauthorized", "Use 'Authorization: Bearer <key>'.", headers=_CHALLENGE)
    actor = authenticate(services().store, token.strip())
    if actor is None:
        raise Problem(401, "unauthorized", "The API key is not valid.", headers=_CHALLENGE)
    return actor


def _within_rate_limit(actor: Actor) -> None:
    limiter = services().limiter
    if limiter is None or not limiter.enabled or actor.key_id is None:
        return
    quota = limiter.take(actor.key_id)
    g.rate_quota = quota
    if not quota.allowed:
        detail = "Too many requests with this API key; retry after the given seconds."
        headers = {"Retry-After": str(quota.retry_after), **limiter.headers(quota)}
        raise Problem(429, "rate-limited", detail, headers=headers)


def requires(*roles: str) -> Callable[[F], F]:
    """Let the view run only for a valid key holding one of ``roles`` (or ``admin``)."""
    allowed = frozenset(roles) | {"admin"}

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = _authenticate()
            g.actor = actor
            _within_rate_limit(actor)
            if actor.role not in allowed:
                detail = f"A key with the role {actor.role!r} may not do this."
                raise Problem(403, "forbidden", detail)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator
