"""Console sessions: the logged-in user, their actor, and role checks.

A session holds only the user id; each request loads the user again
(``load_user``), so a role changed or an account locked takes effect on the
next page. ``admin`` may do everything; ``staff`` works claims; ``auditor``
reads and verifies the audit log.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort
from flask_login import (  # type: ignore[import-untyped]
    UserMixin,
    current_user,
    login_required,
)

from adjudicator.db.actor import Actor
from adjudicator.identity.users import UserInfo, get_user, user_actor
from api.services import services

F = TypeVar("F", bound=Callable[..., Any])


class ConsoleUser(UserMixin):  # type: ignore[misc]
    """Flask-Login's view of a console user."""

    def __init__(self, info: UserInfo) -> None:
        self.info = info

    def get_id(self) -> str:
        return str(self.info.user_id)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def role(self) -> str:
        return self.info.role

    def may(self, *roles: str) -> bool:
        """True when the user holds one of ``roles`` (admins hold them all)."""
        return self.info.role == "admin" or self.info.role in roles


def load_user(user_id: str) -> ConsoleUser | None:
    """Flask-Login's user loader: the user, unless gone or locked."""
    if not user_id.isdigit():
        return None
    info = get_user(services().store, int(user_id))
    if info is None or info.locked_at(services().store.clock()):
        return None
    return ConsoleUser(info)


def console_user() -> ConsoleUser:
    """The logged-in user of this request."""
    return cast(ConsoleUser, current_user._get_current_object())


def console_actor() -> Actor:
    """The actor console actions are recorded with: ``user:<id>``, name, role."""
    return user_actor(console_user().info)


def requires(*roles: str) -> Callable[[F], F]:
    """A logged-in user holding one of ``roles`` (or admin); 403 otherwise."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not console_user().may(*roles):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, login_required(wrapper))

    return decorator
