"""Who is asking: staff logins (argon2, signed session cookies, CSRF) and device tokens.

Roles, from least to most: kiosk (issues tickets at its site), staff (works counters),
floor (everything at its site), admin (everything). A principal bound to a site acts there only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from display_server.errors import MadoguchiError
from display_server.store.auth import token_hash

SESSION_COOKIE = "madoguchi_session"
LOGIN_CSRF_COOKIE = "madoguchi_login_csrf"


class Role(StrEnum):
    KIOSK = "kiosk"
    STAFF = "staff"
    FLOOR = "floor"
    ADMIN = "admin"


USER_ROLES = (Role.STAFF, Role.FLOOR, Role.ADMIN)


class AuthError(MadoguchiError):
    """No valid credentials (401)."""


class Forbidden(MadoguchiError):
    """Valid credentials without the right to do this (403)."""


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    site: str | None
    #: A logged-in person (cookie session) rather than a device token: needs CSRF checks.
    via_session: bool = False
    session_id: str = ""

    def may_act_at(self, site: str) -> bool:
        return self.role is Role.ADMIN or self.site is None or self.site == site


class DeviceTokenCache:
    """Device tokens looked up lately, so a kiosk's requests do not each read the token table.

    Only known tokens are kept (an unknown one is looked up every time), each for `ttl_s`
    seconds: a revoked token stops working on a running server within that time.
    """

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._known: dict[str, tuple[float, Principal]] = {}

    def get(self, secret: str) -> Principal | None:
        entry = self._known.get(token_hash(secret))
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def keep(self, secret: str, principal: Principal) -> None:
        if self.ttl_s > 0:
            self._known[token_hash(secret)] = (time.monotonic() + self.ttl_s, principal)


def require(principal: Principal | None, *roles: Role, site: str | None = None) -> Principal:
    """The principal, if it has one of `roles` (admin always does) and may act at `site`."""
    if principal is None:
        raise AuthError("sign in or present a bearer token")
    if principal.role is not Role.ADMIN and principal.role not in roles:
        raise Forbidden(f"the {principal.role.value} role may not do this")
    if site is not None and not principal.may_act_at(site):
        raise Forbidden(f"this {principal.role.value} is bound to another site")
    return principal


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_device_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


class SessionSigner:
    """Signs the session cookie (user id + random session id) and derives CSRF tokens."""

    def __init__(self, secret_key: str, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="madoguchi-session")
        self._csrf_key = hashlib.sha256(("csrf:" + secret_key).encode()).digest()
        self.max_age_s = max_age_s

    def dump(self, user_id: int) -> str:
        return self._serializer.dumps({"uid": user_id, "sid": secrets.token_urlsafe(16)})

    def load(self, cookie: str) -> tuple[int, str]:
        """(user id, session id) of a valid cookie; raises AuthError when forged or expired."""
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age_s)
        except SignatureExpired as exc:
            raise AuthError("the session has expired: sign in again") from exc
        except BadSignature as exc:
            raise AuthError("invalid session cookie") from exc
        if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
            raise AuthError("invalid session cookie")
        return int(data["uid"]), str(data.get("sid", ""))

    def csrf_token(self, session_id: str) -> str:
        return hmac.new(self._csrf_key, session_id.encode(), hashlib.sha256).hexdigest()

    def form_csrf(self, principal: Principal) -> str:
        """The token a page's forms carry: a signed-in person's; a device token needs none."""
        return self.csrf_token(principal.session_id) if principal.via_session else ""

    def pseudonym(self, value: str) -> str:
        """A keyed hash of `value`: stable for this server, meaningless outside it."""
        return hmac.new(
            self._csrf_key, ("pseudonym:" + value).encode(), hashlib.sha256
        ).hexdigest()[:20]

    def check_csrf(self, session_id: str, presented: str | None) -> None:
        if not presented or not hmac.compare_digest(self.csrf_token(session_id), presented):
            raise Forbidden("missing or wrong CSRF token: reload the page and try again")
