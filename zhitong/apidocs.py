"""Generate ``docs/asyncapi.yaml`` and ``docs/openapi.json`` from the code (``zhitong docs``).

The AsyncAPI document is FastStream's, from the three services' own brokers built exactly as
the services build them (nothing connects): their subscribers are the channels each service
reads.  Two things FastStream cannot see are added from the code that defines them:

* payloads — our handlers read raw entries (shared/consumer.py), so each subscribed stream
  gets the pydantic model its handler validates (``shared.events``);
* what the services write with Lua scripts or plain XADD (events, deliveries, rejections,
  dead letters) — declared here as publishers with their record models.

``tests/contract/test_docs.py`` regenerates both and fails when the files have drifted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from faststream.redis import RedisBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, Field

from shared.events import Action, Event, Grievance, StreamGrievanceIn
from shared.settings import IntakeSettings, NotifierSettings, RouterSettings
from shared.streams import Keys

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "demo.yaml"
# Fixed values so the documents do not depend on the machine that generates them.
DOC_SETTINGS: dict[str, Any] = {
    "redis_url": "redis://redis:6379/0",
    "consumer_name": "<hostname>-<pid>",
    "config": CONFIG,
}
VERSION = "0.1.0"
DESCRIPTION = (
    "Zhitong (直通) over Redis Streams.  Every entry is plain JSON in ONE field named "
    "`payload` (SPEC §3), e.g. `XADD zt:intake * payload '{...}'`; the schemas below are that "
    "JSON.  Consumer names are `<hostname>-<pid>` (ZHITONG_CONSUMER_NAME); every service "
    "reads with XREADGROUP and reclaims idle entries with XAUTOCLAIM."
)


class Rejection(BaseModel):
    """What intake refused from ``zt:intake`` (services/intake/ingest.py)."""

    entry_id: str
    stream: str
    source: str | None = None
    payload: str = Field(description="The original payload text, as sent")
    reasons: list[str]
    errors: list[dict[str, Any]]
    at: str


class Delivery(BaseModel):
    """One delivery outcome on ``zt:deliveries`` (services/notifier/delivery.py)."""

    event_id: str
    grievance_id: str
    event_type: str
    delivery_id: str
    recipient: str
    channel: str
    status: Literal["sent", "retrying", "failed", "held", "digested", "replayed"] = Field(
        description="held: kept for a digest (quiet hours, rate limit); digested: carried by "
        "the digest delivery `digest_id`, whose own records follow; replayed: a failed "
        "delivery re-sent by ops (`by`, from dead letter `dlq_id`), its horizon afresh"
    )
    attempt: int
    error: str | None = None
    retry_in_s: float | None = None
    reason: Literal["quiet_hours", "rate_limit", "digest_pending"] | None = Field(
        None, description="Why a message was held"
    )
    held_until: str | None = Field(None, description="When its digest is next due")
    digest_id: str | None = Field(None, description="The digest delivery that carried it")
    dlq_id: str | None = Field(None, description="The dead letter a replay came from")
    by: str | None = Field(None, description="Who replayed it: cli, or api:<key source>")
    at: str


class DeadLetter(BaseModel):
    """One ``zt:dlq`` record (shared/consumer.py, router handlers, notifier)."""

    kind: Literal["poison", "invalid_action", "notification.failed"]
    stream: str | None = Field(None, description="Where the original entry was (replayable)")
    group: str | None = None
    entry_id: str | None = None
    deliveries: int | None = None
    error: str | None = None
    fields: dict[str, str] | None = Field(None, description="The original entry's fields")
    at: str


def _brokers() -> tuple[RedisBroker, RedisBroker, RedisBroker]:
    """Return the intake, router and notifier brokers, wired but not connected."""
    from services.intake.app import build_app as build_intake  # noqa: PLC0415
    from services.notifier.app import build_app as build_notifier  # noqa: PLC0415
    from services.router.app import build_service as build_router  # noqa: PLC0415

    intake = build_intake(IntakeSettings(**DOC_SETTINGS)).state.service.broker
    router = build_router(RouterSettings(**DOC_SETTINGS)).broker
    notifier = build_notifier(NotifierSettings(**DOC_SETTINGS)).state.service.broker
    return intake, router, notifier


def _declare_writes(
    keys: Keys, intake: RedisBroker, router: RedisBroker, notifier: RedisBroker
) -> None:
    """Declare what each service writes outside FastStream (Lua scripts, XADD)."""
    writes: list[tuple[RedisBroker, str, type[BaseModel], str, str]] = [
        (intake, keys.submitted, Grievance, "intake:submitted",
         "Accepted, normalised grievances, written with the record by accept.lua"),
        (intake, keys.intake_rejected, Rejection, "intake:rejected",
         "Entries of zt:intake that were refused, with every reason (never dropped)"),
        (intake, keys.actions, Action, "intake:actions",
         "Actions posted to /v1/grievances/{id}/actions (others may XADD here too)"),
        (router, keys.events, Event, "router:events",
         "The public lifecycle log, written atomically with each state change"),
        (router, keys.dlq, DeadLetter, "router:dlq",
         "Actions for no known grievance (kind invalid_action); poison entries"),
        (notifier, keys.deliveries, Delivery, "notifier:deliveries",
         "Each delivery's outcome per event, recipient and channel"),
        (notifier, keys.dlq, DeadLetter, "notifier:dlq",
         "Deliveries that ran out of attempts (kind notification.failed); poison entries"),
    ]  # fmt: skip
    for broker, stream, model, title, description in writes:
        broker.publisher(stream=stream, schema=model, title=title, description=description)


# What each subscribed stream carries: the model its handler validates.
def _read_models(keys: Keys) -> dict[str, type[BaseModel]]:
    return {
        keys.intake: StreamGrievanceIn,
        keys.submitted: Grievance,
        keys.actions: Action,
        keys.events: Event,
    }


def _model_schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    """Add ``model``'s JSON schema (and its definitions) to ``schemas``; return its $ref."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def asyncapi() -> dict[str, Any]:
    """Return the AsyncAPI 3.0 document of all three services as a plain dict."""
    keys = Keys()
    intake, router, notifier = _brokers()
    _declare_writes(keys, intake, router, notifier)
    spec = AsyncAPI(
        intake, router, notifier, title="Zhitong", version=VERSION, description=DESCRIPTION
    ).to_specification()
    document: dict[str, Any] = json.loads(spec.to_json())
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    models = _read_models(keys)
    for channel in document.get("channels", {}).values():
        model = models.get(channel["address"])
        for ref in channel.get("messages", {}).values():
            message = components["messages"][ref["$ref"].rsplit("/", 1)[-1]]
            if model is not None and message["payload"] == {
                "$ref": "#/components/schemas/EmptyPayload"
            }:
                message["payload"] = _model_schema(model, schemas)
    if "#/components/schemas/EmptyPayload" not in json.dumps(document):
        schemas.pop("EmptyPayload", None)
    # FastStream's channel order follows subscriber registration internals; sort for a
    # stable file.
    for parent, name in (
        (document, "channels"),
        (document, "operations"),
        (components, "messages"),
        (components, "schemas"),
    ):
        parent[name] = dict(sorted(parent.get(name, {}).items()))
    return document


def openapi() -> dict[str, Any]:
    """Return intake's OpenAPI document (what ``/openapi.json`` serves)."""
    from services.intake.app import build_app  # noqa: PLC0415

    document: dict[str, Any] = build_app(IntakeSettings(**DOC_SETTINGS)).openapi()
    return document


def render_all() -> dict[str, str]:
    """Return each document's file name and text, as written under ``docs/``."""
    return {
        "asyncapi.yaml": yaml.safe_dump(asyncapi(), sort_keys=False, allow_unicode=True, width=100),
        "openapi.json": json.dumps(openapi(), ensure_ascii=False, indent=2) + "\n",
    }
