"""The notifier's operations API: list given-up deliveries and re-send them exactly once.

``GET /v1/deliveries/failed`` and ``POST /v1/deliveries/failed/{dlq_id}/replay`` need an API
key (``Authorization: Bearer …``) whose entry in the config's ``api_keys`` has the ``ops``
scope; only its SHA-256 is stored.  ``401`` means no or an unknown key, ``403`` a key
without ``ops``.  Records carry ids, channel labels and redacted errors, never message texts.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from redis.asyncio import Redis

from services.notifier.replay import ReplayError, decode_letter, given_up, replay_failed
from shared import codec
from shared.config import ApiKey
from shared.streams import Keys

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="zhitong"'}


def require_ops(api_keys: Iterable[ApiKey]) -> Callable[[Request], Awaitable[str]]:
    """Return a dependency that admits keys with the ``ops`` scope; it returns their source."""
    stored = [(k.key_sha256.encode(), k.source, "ops" in k.scopes) for k in api_keys]

    async def dependency(request: Request) -> str:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Bearer API key needed", _CHALLENGE)
        digest = hashlib.sha256(token.strip().encode()).hexdigest().encode()
        found: tuple[str, bool] | None = None
        for key_hash, source, ops in stored:  # every key compared: timing reveals nothing
            if hmac.compare_digest(key_hash, digest):
                found = (source, ops)
        if found is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Unknown API key", _CHALLENGE)
        if not found[1]:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"API key of source '{found[0]}' lacks the 'ops' scope"
            )
        return found[0]

    return dependency


def ops_router(client: Redis, keys: Keys, api_keys: Iterable[ApiKey]) -> APIRouter:
    """Return the routes that show and replay ``notification.failed`` dead letters."""
    router = APIRouter(prefix="/v1/deliveries", tags=["ops"])
    ops = Depends(require_ops(api_keys))

    @router.get("/failed")
    async def list_failed(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100, _source: str = ops
    ) -> dict[str, Any]:
        """Return the deliveries given up on (oldest first): what a replay would re-send."""
        letters = await given_up(client, keys, limit)
        return {"failed": [{"id": letter.id, **letter.record} for letter in letters]}

    @router.post("/failed/{dlq_id}/replay", status_code=status.HTTP_202_ACCEPTED)
    async def replay(
        dlq_id: Annotated[str, Path(pattern=r"^\d+-\d+$")], source: str = ops
    ) -> dict[str, str]:
        """Re-send one given-up delivery now; a second or concurrent replay sends nothing."""
        entries = await client.xrange(keys.dlq, min=dlq_id, max=dlq_id, count=1)
        if not entries:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such dead letter: {dlq_id}")
        try:
            letter = decode_letter(entries[0][1])
            scheduled = await replay_failed(client, keys, dlq_id, letter, by=f"api:{source}")
        except (ReplayError, codec.PayloadError) as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        if not scheduled:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"already replayed or purged: {dlq_id}")
        return {"id": dlq_id, "delivery_id": str(letter["delivery_id"]), "status": "scheduled"}

    return router
