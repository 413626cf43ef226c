"""Staff users (argon2 password hashes) and device bearer tokens (SHA-256 hashes)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from display_server.store.models import ApiTokenRow, UserRow


def token_hash(token: str) -> str:
    """Bearer tokens carry 256 random bits, so a fast hash is enough (no dictionary to attack)."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    session: Session,
    *,
    name: str,
    password_hash: str,
    role: str,
    site: str | None,
    now: dt.datetime,
) -> UserRow:
    user = UserRow(name=name, password_hash=password_hash, role=role, site=site, created_at=now)
    session.add(user)
    session.flush()
    return user


def user_by_name(session: Session, *, name: str) -> UserRow | None:
    return session.scalars(select(UserRow).where(UserRow.name == name)).first()


def user_by_id(session: Session, *, user_id: int) -> UserRow | None:
    return session.get(UserRow, user_id)


def set_password_hash(session: Session, *, user: UserRow, password_hash: str) -> None:
    user.password_hash = password_hash


def add_token(
    session: Session, *, token: str, role: str, site: str | None, label: str, now: dt.datetime
) -> ApiTokenRow:
    row = ApiTokenRow(
        token_hash=token_hash(token), role=role, site=site, label=label, created_at=now
    )
    session.add(row)
    session.flush()
    return row


def token_by_secret(session: Session, *, token: str) -> ApiTokenRow | None:
    """The live (not revoked) token row for a presented bearer token."""
    return session.scalars(
        select(ApiTokenRow).where(
            ApiTokenRow.token_hash == token_hash(token), ApiTokenRow.revoked_at.is_(None)
        )
    ).first()


def tokens(session: Session, *, include_revoked: bool) -> Sequence[ApiTokenRow]:
    """Device tokens by id; the live ones only unless `include_revoked`."""
    query = select(ApiTokenRow).order_by(ApiTokenRow.id)
    if not include_revoked:
        query = query.where(ApiTokenRow.revoked_at.is_(None))
    return list(session.scalars(query))


def tokens_for_update(session: Session, *, token_ids: Iterable[int]) -> dict[int, ApiTokenRow]:
    """The token rows among `token_ids` that exist (revoked or not), keyed by id.

    Locked, so that two revokes of one token at once keep the first revocation time.
    """
    query = select(ApiTokenRow).where(ApiTokenRow.id.in_(list(token_ids))).with_for_update()
    return {row.id: row for row in session.scalars(query)}


def revoke_token(session: Session, *, token: ApiTokenRow, now: dt.datetime) -> bool:
    """Revoke the token at `now`; False if it was revoked already (the first time is kept)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    return True
