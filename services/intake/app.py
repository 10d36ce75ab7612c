"""Build the intake process: HTTP API + ``zt:intake`` consumer on one FastAPI app."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.intake.api import MISSING_CONTENT_TYPE, grievance_router
from services.intake.auth import KeyRing
from services.intake.civic import CivicIndex
from services.intake.classify import RuleSet, load_rules
from services.intake.console import console_router
from services.intake.ingest import StreamIntake
from services.intake.listing import listing_router
from services.intake.open311 import open311_router
from services.intake.principals import Policy
from services.intake.stats import stats_router
from services.intake.submission import Intake
from services.intake.validation import format_errors
from shared import codec
from shared.app import Service, make_broker
from shared.config import Config, load_config
from shared.consumer import StreamConsumer
from shared.metrics import HttpMetrics, TransitionMetrics
from shared.privacy import pseudonym_secret
from shared.redis.client import make_client
from shared.redis.scripts import Scripts
from shared.settings import IntakeSettings
from shared.streams import GROUP_INTAKE
from shared.views import unit_names


def build_app(
    settings: IntakeSettings, config: Config | None = None, rules: RuleSet | None = None
) -> FastAPI:
    """Return the intake app; its lifespan starts the broker (and the stream consumer)."""
    config = config or load_config(settings.config)
    keys = settings.keys
    client = make_client(settings.redis_url, settings.redis_max_connections)
    registry = CollectorRegistry()
    broker = make_broker(settings, registry)
    scripts = Scripts(client)
    intake = Intake(
        client=client,
        scripts=scripts,
        keys=keys,
        rules=rules or load_rules(),
        civic=CivicIndex(client, keys, config.civic_duplicates),
        pseudonym_secret=pseudonym_secret(
            config.pseudonym_secret, (k.key_sha256 for k in config.api_keys)
        ),
        on_accepted=TransitionMetrics(registry, times=False).submitted,
        unit_ids=frozenset(unit_names(config.directory)),
    )
    stream_intake = StreamConsumer(
        client, settings, keys.intake, GROUP_INTAKE, StreamIntake(intake, scripts, keys)
    )
    keyring = KeyRing(config.api_keys)
    policy = Policy.of(config)
    units = unit_names(config.directory)
    service = Service(
        name="intake",
        settings=settings,
        client=client,
        broker=broker,
        registry=registry,
        consumers=[stream_intake],
        routers=[
            listing_router(keyring, policy, client, keys, units),
            grievance_router(intake, keyring, policy, client, keys, sla=config.sla, units=units),
            open311_router(intake, keyring, client, keys),
            stats_router(keyring, client, keys, {u: r.name for u, r in units.items() if r.name}),
            console_router(keyring, client, keys, units),
        ],
    )
    app = service.build(title="Zhitong intake", docs=True)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    # Open311 answers in GeoReport's error shape and checks the depth of its bodies itself.
    app.add_middleware(JsonDepthLimit, max_depth=codec.MAX_DEPTH, exempt=("/open311/",))
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Outermost, so requests the limits above refuse are counted too.
    app.add_middleware(HttpMetrics, registry=registry)
    return app


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # registered for this type only
    if request.method == "POST" and "content-type" not in request.headers:
        # FastAPI parses an undeclared body as JSON before require_json can say why it failed.
        detail = {"detail": MISSING_CONTENT_TYPE}
        return JSONResponse(detail, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
    errors = format_errors(exc.errors())
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return JSONResponse(
        {"detail": errors, "message": f"{len(errors)} invalid field(s): {fields}"},
        status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def _content_length(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:
        if name == b"content-length":
            return value
    return None


class BodyLimit:
    """Refuse request bodies above ``max_bytes`` with 413 before any handler reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope["headers"])
        if declared is not None and declared.isdigit():
            if int(declared) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            # The server delivers exactly the declared bytes (h11 frames the body by
            # Content-Length), so a body within the limit passes straight through.
            await self.app(scope, receive, send)
            return
        # Chunked bodies have no length up front: buffer up to the limit, then replay.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail: dict[str, Any] = {
            "detail": f"Request body exceeds the limit of {self.max_bytes} bytes",
            "limit_bytes": self.max_bytes,
        }
        await JSONResponse(detail, status.HTTP_413_CONTENT_TOO_LARGE)(scope, receive, send)


def _declares_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


def deep_json_detail(max_depth: int) -> str:
    """Return what a client is told when its JSON body nests deeper than ``max_depth``."""
    return (
        f"JSON body nests deeper than {max_depth} levels (the limit); no grievance or action "
        "needs more than a few: send a flatter body"
    )


def not_utf8_detail(position: int) -> str:
    """Return why a body that is not UTF-8 is refused (the byte where decoding failed)."""
    return (
        f"body is not UTF-8 (invalid byte at position {position}); JSON must be sent as "
        "UTF-8 — an older app may be sending GBK: re-encode the text as UTF-8"
    )


class JsonDepthLimit:
    """Refuse a JSON body that is not UTF-8, or nested deeper than ``max_depth``, with 400
    and the reason.

    Left to FastAPI, both are answered with a bare "There was an error parsing the body"
    (a body ~1,000 levels deep makes ``json`` raise ``RecursionError``; a GBK-encoded body
    from an older app fails to decode).  The body is checked as the route reads it (nothing
    is buffered a second time) with the same depth limit as the streams'.
    """

    def __init__(self, app: ASGIApp, max_depth: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_depth = max_depth
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in {"GET", "HEAD", "OPTIONS"}
            or str(scope["path"]).startswith(self.exempt)
            or not _declares_json(scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def checked() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                    try:
                        body.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise HTTPException(
                            status.HTTP_400_BAD_REQUEST, not_utf8_detail(exc.start)
                        ) from exc
                    try:
                        codec.check_depth(body, self.max_depth)
                    except codec.PayloadError as exc:
                        # Raised inside the route's body read, so FastAPI answers it as is.
                        raise HTTPException(
                            status.HTTP_400_BAD_REQUEST, deep_json_detail(self.max_depth)
                        ) from exc
            return message

        await self.app(scope, checked, send)
