"""Standard Webhooks signing and verification (shared/webhooks.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from shared import webhooks
from shared.webhooks import WebhookVerificationError, sign_headers, verify

SECRET = "whsec_" + base64.b64encode(b"test-secret-for-zhitong-webhooks").decode()
OTHER = webhooks.generate_secret()
BODY = '{"type":"grievance.assigned","data":{"text":"您的诉求已转交"}}'.encode()
NOW = 1_790_000_000


def test_signature_matches_the_standard_formula() -> None:
    """The signature is v1,base64(HMAC-SHA256(key, 'id.timestamp.body'))."""
    headers = sign_headers([SECRET], "msg_1", BODY, timestamp=NOW)
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    expected = hmac.new(key, f"msg_1.{NOW}.".encode() + BODY, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(NOW)


def test_signed_message_verifies() -> None:
    """A message signed with the secret verifies within the tolerance."""
    headers = sign_headers([SECRET], "msg_1", BODY, timestamp=NOW)
    verify([SECRET], headers, BODY, now=NOW + 10)


def test_header_names_are_case_insensitive() -> None:
    """Headers as an HTTP stack may capitalise them still verify."""
    headers = {k.title(): v for k, v in sign_headers([SECRET], "m", BODY, timestamp=NOW).items()}
    verify([SECRET], headers, BODY, now=NOW)


def test_tampered_body_fails() -> None:
    """Changing one byte of the body fails verification with a clear reason."""
    headers = sign_headers([SECRET], "msg_1", BODY, timestamp=NOW)
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify([SECRET], headers, BODY.replace(b"assigned", b"resolved"), now=NOW)


def test_old_timestamp_fails() -> None:
    """A timestamp older than the tolerance is refused (replay protection)."""
    headers = sign_headers([SECRET], "msg_1", BODY, timestamp=NOW)
    with pytest.raises(WebhookVerificationError, match="301s old"):
        verify([SECRET], headers, BODY, now=NOW + 301)


def test_future_timestamp_fails() -> None:
    """A timestamp too far in the future is refused too."""
    headers = sign_headers([SECRET], "msg_1", BODY, timestamp=NOW + 1000)
    with pytest.raises(WebhookVerificationError, match="in the future"):
        verify([SECRET], headers, BODY, now=NOW)


def test_wrong_secret_fails() -> None:
    """A receiver holding another secret refuses the message."""
    headers = sign_headers([SECRET], "msg_1", BODY, timestamp=NOW)
    with pytest.raises(WebhookVerificationError):
        verify([OTHER], headers, BODY, now=NOW)


def test_rotation_signs_with_every_secret() -> None:
    """During rotation a receiver with either the old or the new secret verifies."""
    headers = sign_headers([SECRET, OTHER], "msg_1", BODY, timestamp=NOW)
    assert len(headers["webhook-signature"].split()) == 2
    verify([SECRET], headers, BODY, now=NOW)
    verify([OTHER], headers, BODY, now=NOW)


def test_missing_header_is_named() -> None:
    """A request without the signature header says which header is missing."""
    headers = sign_headers([SECRET], "msg_1", BODY, timestamp=NOW)
    del headers["webhook-signature"]
    with pytest.raises(WebhookVerificationError, match="webhook-signature"):
        verify([SECRET], headers, BODY, now=NOW)


def test_malformed_secret_is_explained() -> None:
    """A secret that is not whsec_<base64> fails with advice, not a binascii error."""
    with pytest.raises(ValueError, match="whsec_"):
        sign_headers(["whsec_not base64!"], "m", BODY)
