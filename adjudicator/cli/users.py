"""``adjudicator users create|list|unlock``: the staff console's accounts.

Passwords come from a hidden prompt (asked twice) or, for scripts, from the
first line of standard input with ``--password-stdin``; never from an argument,
which would land in the shell's history and the process list.
"""

from __future__ import annotations

import sys

import click
import orjson

from adjudicator.cli import context
from adjudicator.db.errors import InvalidRequest, NotFound
from adjudicator.identity.users import USER_ROLES, create_user, list_users, unlock_user


@click.group("users")
def users_group() -> None:
    """Console users (staff, auditors, admins): separate from API keys."""


@users_group.command("create")
@click.option("--name", required=True, help="The login name (shown in the audit log).")
@click.option("--role", required=True, type=click.Choice(USER_ROLES), help="What they may do.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def users_create_command(name: str, role: str, password_stdin: bool) -> None:
    """Create a console user; the password is stored only as an Argon2id hash."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with context.store(migrate=True) as store:
        try:
            user = create_user(
                store, name=name, role=role, password=password, actor=context.operator()
            )
        except InvalidRequest as exc:
            lines = [f"{field}: {' '.join(messages)}" for field, messages in exc.errors.items()]
            raise click.ClickException("; ".join(lines)) from None
    click.echo(f"created console user {user.name} ({user.role}), id {user.user_id}", err=True)


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def users_list_command(as_json: bool) -> None:
    """Every console user: id, name, role, created, locked until."""
    with context.store(migrate=True) as store:
        users = list_users(store)
    for user in users:
        if as_json:
            click.echo(orjson.dumps(user.to_dict()))
        else:
            locked = f" locked until {user.locked_until.isoformat()}" if user.locked_until else ""
            click.echo(f"{user.user_id}\t{user.name}\t{user.role}{locked}")


@users_group.command("unlock")
@click.argument("name")
def users_unlock_command(name: str) -> None:
    """Lift NAME's lockout now instead of waiting for it to expire."""
    with context.store(migrate=True) as store:
        try:
            user = unlock_user(store, name, actor=context.operator())
        except NotFound:
            raise click.ClickException(f"no console user named {name!r}") from None
    click.echo(f"console user {user.name} is unlocked", err=True)
