"""Standard Webhooks signing and verification (https://www.standardwebhooks.com).

Standard library only, so an upstream receiver can copy this one file.  A message is signed
over ``f"{webhook-id}.{webhook-timestamp}.{body}"`` with HMAC-SHA256; the secret is
``whsec_`` followed by base64.  Several secrets (rotation) give several space-separated
``v1,<base64>`` signatures; a receiver accepts the message when any one of them matches.

    from shared.webhooks import verify, WebhookVerificationError
    try:
        verify(["whsec_..."], request.headers, await request.body())
    except WebhookVerificationError as exc:
        return 401, str(exc)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _secrets
import time
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 — the format's prefix, not a secret
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_S = 300

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"


class WebhookVerificationError(ValueError):
    """Raise when a webhook's headers or signature do not prove who sent it and when."""


def generate_secret() -> str:
    """Return a new random secret in the ``whsec_<base64>`` form."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """Return the raw HMAC key of a ``whsec_<base64>`` secret."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(
            "a webhook secret must be 'whsec_' followed by base64 "
            "(make one with shared.webhooks.generate_secret())"
        ) from exc


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` value: one ``v1,<base64>`` per secret."""
    if not secrets:
        raise ValueError("at least one webhook secret is needed to sign")
    return " ".join(
        f"{SIGNATURE_VERSION},{_signature(secret_key(s), msg_id, timestamp, body)}" for s in secrets
    )


def sign_headers(
    secrets: Sequence[str], msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """Return the three Standard Webhooks headers for ``body``."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(ts),
        HEADER_SIGNATURE: sign(secrets, msg_id, ts, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    # HTTP header names are case-insensitive; plain dicts are not.
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"missing header {name!r}")


def verify(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Check ``body`` against its headers; raise ``WebhookVerificationError`` saying why not.

    The timestamp must lie within ``tolerance`` seconds of ``now`` (replay protection) and
    one ``v1`` signature must match one of ``secrets`` (old and new during a rotation).
    """
    msg_id = _header(headers, HEADER_ID)
    raw_ts = _header(headers, HEADER_TIMESTAMP)
    try:
        timestamp = int(raw_ts)
    except ValueError:
        raise WebhookVerificationError(f"{HEADER_TIMESTAMP} {raw_ts!r} is not an integer") from None
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError(
            f"{HEADER_TIMESTAMP} is {int(current - timestamp)}s old (tolerance {tolerance}s)"
        )
    if timestamp > current + tolerance:
        raise WebhookVerificationError(
            f"{HEADER_TIMESTAMP} is {int(timestamp - current)}s in the future "
            f"(tolerance {tolerance}s)"
        )
    offered = [
        sig.split(",", 1)[1]
        for sig in _header(headers, HEADER_SIGNATURE).split()
        if sig.startswith(f"{SIGNATURE_VERSION},")
    ]
    if not offered:
        raise WebhookVerificationError(f"{HEADER_SIGNATURE} has no {SIGNATURE_VERSION} signature")
    for secret in secrets:
        expected = _signature(secret_key(secret), msg_id, timestamp, body)
        if any(hmac.compare_digest(expected, sig) for sig in offered):
            return
    raise WebhookVerificationError("no signature matches any known secret (body or secret differ)")
