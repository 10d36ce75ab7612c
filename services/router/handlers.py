"""Stream handlers: ``zt:submitted`` → assign, ``zt:actions`` → act (decode, check, apply)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError

from services.router.engine import Engine, Outcome
from shared import codec
from shared.consumer import Entry
from shared.events import Action, Grievance
from shared.logging import get_logger

log = get_logger(__name__)


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )


class SubmittedHandler:
    """Batch handler that assigns accepted grievances to tier 1."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, entries: Sequence[Entry]) -> Mapping[str, BaseException]:
        failures: dict[str, BaseException] = {}
        batch: list[tuple[Entry, Grievance, bytes]] = []
        for entry in entries:
            try:
                raw = codec.payload_bytes(entry.fields)
                batch.append((entry, Grievance.model_validate_json(raw), raw))
            except (codec.PayloadError, ValidationError) as exc:
                # Intake validated it; anything else publishing here is retried, then DLQ'd.
                failures[entry.id] = exc
        if not batch:
            return failures
        outcomes = await self.engine.assign([g for _, g, _ in batch], [r for _, _, r in batch])
        for (entry, grievance, _raw), outcome in zip(batch, outcomes, strict=True):
            if outcome.status == "assigned":
                event_id, assignee = outcome.detail
                log.info(
                    "grievance_assigned",
                    grievance_id=grievance.id,
                    event_id=event_id,
                    tier=1,
                    assignee=assignee,
                    entry_id=entry.id,
                )
            elif outcome.status == "linked":
                event_id, original, *routed_first = outcome.detail
                if routed_first:  # the original was still waiting: routed in the same step
                    log.info(
                        "grievance_assigned",
                        grievance_id=original,
                        event_id=routed_first[0],
                        assignee=routed_first[1],
                        before_duplicate=grievance.id,
                    )
                log.info(
                    "duplicate_linked",
                    grievance_id=grievance.id,
                    event_id=event_id,
                    duplicate_of=original,
                    entry_id=entry.id,
                )
            else:
                log.info(
                    "submission_skipped",
                    grievance_id=grievance.id,
                    state=outcome.detail[0] if outcome.detail else "",
                    entry_id=entry.id,
                )
        return failures


class ActionHandler:
    """Batch handler that applies actions (each one atomically, in order)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, entries: Sequence[Entry]) -> Mapping[str, BaseException]:
        failures: dict[str, BaseException] = {}
        for entry in entries:
            try:
                await self._one(entry)
            except Exception as exc:  # left pending for the reclaimer, then the DLQ
                failures[entry.id] = exc
        return failures

    async def _one(self, entry: Entry) -> None:
        try:
            body = codec.decode(entry.fields)
        except codec.PayloadError as exc:
            await self._dead_letter(entry, str(exc))
            return
        body.setdefault("action_id", f"entry:{entry.id}")
        try:
            action = Action.model_validate(body)
        except ValidationError as exc:
            await self._refuse_invalid(entry, body, _errors(exc))
            return
        outcome = await self.engine.act(action)
        self._log(action, outcome)
        if outcome.status == "missing":
            await self._dead_letter(entry, f"unknown grievance {action.grievance_id}")

    async def _refuse_invalid(self, entry: Entry, body: dict[str, Any], reason: str) -> None:
        gid = body.get("grievance_id")
        if isinstance(gid, str) and gid:
            outcome = await self.engine.refuse(
                gid, str(body["action_id"]), body, f"invalid action: {reason}"
            )
            if outcome.status != "missing":
                log.info("action_refused", grievance_id=gid, reason=reason, entry_id=entry.id)
                return
        await self._dead_letter(entry, f"invalid action: {reason}")

    async def _dead_letter(self, entry: Entry, reason: str) -> None:
        keys = self.engine.keys
        record = {
            "kind": "invalid_action",
            "stream": keys.actions,
            "entry_id": entry.id,
            "error": reason,
            "fields": codec.raw_fields_text(entry.fields),
            "at": datetime.now(UTC).isoformat(),
        }
        await self.engine.client.xadd(keys.dlq, codec.fields(record))
        log.warning("action_dead_lettered", entry_id=entry.id, error=reason)

    @staticmethod
    def _log(action: Action, outcome: Outcome) -> None:
        bound = structlog.get_logger(__name__).bind(
            grievance_id=action.grievance_id, action_id=action.action_id, action=action.type
        )
        if outcome.status == "applied":
            bound.info("action_applied", event_id=",".join(outcome.detail))
        elif outcome.status == "refused":
            bound.info("action_refused", reason=outcome.detail[0] if outcome.detail else "")
        else:
            bound.info("action_" + outcome.status)
