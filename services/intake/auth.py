"""API keys: hashed at rest, compared in constant time, scoped, each naming its holder.

``401`` means "who are you?" (no key, or a key we do not know) and carries
``WWW-Authenticate``; ``403`` means "we know you, but this key may not do that".
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal

from fastapi import HTTPException, Request, status

from services.intake.principals import Holder, Principal
from shared.config import ApiKey

Scope = Literal["submit", "act", "read"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="zhitong"'}
# The documented refusals of a route only oversight keys may call.
OVERSIGHT_ONLY: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or unknown API key"},
    403: {"description": "Not an oversight key with the 'read' scope"},
}


def hash_key(key: str) -> str:
    """Return the SHA-256 hex digest stored in the configuration for ``key``."""
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    """Stored key hashes, resolving a presented key to its principal by checking each."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self._keys = [(k.key_sha256.encode(), Principal.of(k)) for k in keys]

    def identify(self, presented: str) -> Principal | None:
        """Return the principal whose key hashes to ``presented``'s hash, else ``None``."""
        digest = hash_key(presented).encode()
        found: Principal | None = None
        # Compare against every key so timing does not reveal which one (or none) matched.
        for stored, principal in self._keys:
            if hmac.compare_digest(stored, digest):
                found = principal
        return found

    def authenticate(self, authorization: str | None) -> Principal:
        """Return the principal for an ``Authorization`` header or raise ``401``."""
        if not authorization:
            raise _unauthorized("Missing 'Authorization: Bearer <api key>' header")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("Authorization must be 'Bearer <api key>'")
        principal = self.identify(token.strip())
        if principal is None:
            raise _unauthorized("Unknown API key")
        return principal

    def require(
        self, scope: Scope, *, oversight_only: bool = False
    ) -> Callable[[Request], Awaitable[Principal]]:
        """Return a FastAPI dependency granting access to keys holding ``scope``.

        ``oversight_only`` routes (the service-wide KPIs and console) also need an
        oversight key: their numbers span every app and unit.
        """

        async def dependency(request: Request) -> Principal:
            principal = self.authenticate(request.headers.get("authorization"))
            if scope not in principal.scopes:
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    f"{str(principal).capitalize()} lacks the '{scope}' scope",
                )
            if oversight_only and principal.holder is not Holder.OVERSIGHT:
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    f"Only an oversight key may read this (service-wide data); {principal} "
                    "may read the grievances it filed or its units hold",
                )
            return principal

        return dependency


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers=_CHALLENGE)
