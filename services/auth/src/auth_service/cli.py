"""Operator commands: ``flask --app auth_service create-admin USERNAME``."""

from __future__ import annotations

import click
import marshmallow as ma
from flask.cli import with_appcontext

from auth_service.passwords import passwords
from auth_service.repositories import UsernameTakenError, users
from auth_service.schemas import RegisterSchema


@click.command("create-admin")
@click.argument("username")
@click.option("--email", default=None, help="The admin's email address.")
@click.password_option(
    envvar="AUTH_ADMIN_PASSWORD", help="The password (prompted for unless AUTH_ADMIN_PASSWORD)."
)
@with_appcontext
def create_admin(username: str, email: str | None, password: str) -> None:
    """Create an administrator account, or make an existing account an administrator."""
    existing = users.find_by_username(username=username)
    if existing is not None:
        users.add_role(user_id=existing["_id"], role="admin")
        click.echo(f"{existing['username']} ({existing['_id']}) is now an admin.")
        return
    try:
        data = RegisterSchema().load({"username": username, "password": password, "email": email})
    except ma.ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"": error.messages}
        details = "; ".join(f"{field}: {' '.join(text)}" for field, text in messages.items())
        raise click.UsageError(details) from None
    try:
        user = users.create(
            username=data["username"],
            password_hash=passwords.hash(data["password"]),
            email=data.get("email"),
            roles=["user", "admin"],
        )
    except UsernameTakenError:
        raise click.ClickException(f"{username} was registered meanwhile; run again") from None
    click.echo(f"Created admin {user['username']} ({user['_id']}).")
