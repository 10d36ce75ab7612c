"""Accept one grievance from any door (HTTP, stream, Open311) exactly once.

Normalise (server-assigned id, tracking number, source, channel, time), classify when the
source left category or urgency out, link civic duplicates, then run the atomic accept
script: idempotency check + initial record + ``zt:submitted`` in one step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from redis.asyncio import Redis

from services.intake.civic import CivicIndex
from services.intake.classify import RuleSet
from services.intake.decide import classify
from services.intake.validation import FieldError
from shared import store
from shared.events import Channel, Grievance, GrievanceIn
from shared.ids import new_grievance_id, tracking_no
from shared.logging import get_logger
from shared.redis.scripts import Scripts
from shared.streams import Keys

log = get_logger(__name__)

# A clash of 40 random bits on one day is rare; a few draws make it vanishingly so.
_TRACKING_DRAWS = 8


class TrackingNumbersExhaustedError(RuntimeError):
    """Raise when no free tracking number was drawn (practically never)."""


@dataclass(frozen=True, slots=True)
class SubmissionOutcome:
    """What became of one submission."""

    result: Literal["accepted", "duplicate", "conflict"]
    id: str
    tracking_no: str
    status: str
    duplicate_of: str | None = None

    def reply(self) -> dict[str, object]:
        """Return the ``Accepted`` body the submitter sees.

        ``replayed`` (a repeat of an idempotency key) and ``linked_to`` (a civic duplicate)
        are different things, named apart; ``duplicate_of`` stays as an alias of the link
        for older clients.
        """
        body: dict[str, object] = {
            "id": self.id,
            "tracking_no": self.tracking_no,
            "status": self.status,
            "replayed": self.result == "duplicate",
            "linked_to": self.duplicate_of,
        }
        if self.duplicate_of:
            body["duplicate_of"] = self.duplicate_of
        return body


@dataclass(slots=True)
class Intake:
    """Accept step shared by every door of the intake service."""

    client: Redis
    scripts: Scripts
    keys: Keys
    rules: RuleSet
    civic: CivicIndex
    # Keys the pseudonyms of reporters without an account (Open311); see shared.privacy.
    pseudonym_secret: str = field(default="", repr=False)
    # Told every accepted grievance (intake's ``submitted`` counter).
    on_accepted: Callable[[Grievance], None] | None = None
    # The directory's unit ids: a worker may not take one as their id (see worker_refusal).
    unit_ids: frozenset[str] = frozenset()
    # Accepts of concurrent HTTP requests waiting for the next pipeline (see _accept_soon).
    _queued: list[tuple[store.AcceptRequest, asyncio.Future[store.AcceptResult]]] = field(
        default_factory=list, init=False, repr=False
    )
    _flushes: set[asyncio.Task[None]] = field(default_factory=set, init=False, repr=False)

    def worker_refusal(self, worker_id: str) -> list[FieldError]:
        """Return why ``worker_id`` cannot file a grievance (one field error), or nothing.

        A worker whose id is a unit's id could never act on their own grievance: the unit's
        role is what the directory says that id is.
        """
        if worker_id not in self.unit_ids:
            return []
        return [
            {
                "loc": ["body", "worker", "id"],
                "field": "worker.id",
                "msg": f"'{worker_id}' is the id of a unit of the directory, not of a worker; "
                "give the worker an id of their own (e.g. the app's account id)",
                "type": "value_error",
            }
        ]

    async def submit(
        self,
        body: GrievanceIn,
        *,
        source: str,
        channel: Channel,
        idempotency_key: str | None,
    ) -> SubmissionOutcome:
        """Return the outcome of accepting ``body`` from ``source`` once per key."""
        request = self.prepare(
            body, source=source, channel=channel, idempotency_key=idempotency_key
        )
        grievance = request.grievance
        grievance.duplicate_of = await self.civic.find_original(grievance)
        result = await self._accept_soon(request)
        if result.outcome == "retry":
            grievance.tracking_no = tracking_no(grievance.submitted_at)
            result = await self._accept_until_drawn(request)
        if result.outcome == "accepted":
            await self._accepted(grievance)
            return SubmissionOutcome(
                "accepted",
                grievance.id,
                grievance.tracking_no,
                "submitted",
                grievance.duplicate_of,
            )
        return await self._existing(result.outcome, result.grievance_id)

    async def submit_many(
        self, requests: Sequence[store.AcceptRequest]
    ) -> list[store.AcceptResult | BaseException]:
        """Accept a batch of prepared grievances in one pipelined round trip, in order.

        Civic duplicates are looked up first (only civic reports with a location touch
        Redis); every ``accept`` then goes out in one pipeline; the rare ``retry`` (tracking
        number taken) is redrawn one by one.  A failure is returned in its entry's place.
        """
        results: list[store.AcceptResult | BaseException] = [
            store.AcceptResult("retry", "") for _ in requests
        ]
        civic = [i for i, r in enumerate(requests) if self.civic.is_candidate(r.grievance)]
        if civic:
            found = await asyncio.gather(
                *(self.civic.find_original(requests[i].grievance) for i in civic),
                return_exceptions=True,
            )
            for i, original in zip(civic, found, strict=True):
                if isinstance(original, BaseException):
                    results[i] = original
                else:
                    requests[i].grievance.duplicate_of = original
        todo = [i for i, r in enumerate(results) if not isinstance(r, BaseException)]
        try:
            replies = await store.accept_many(
                self.client, self.scripts, self.keys, [requests[i] for i in todo]
            )
        except Exception as exc:  # the round trip itself failed: every entry fails
            return [exc for _ in requests]
        for i, reply in zip(todo, replies, strict=True):
            results[i] = reply
        for i, result in enumerate(results):
            if isinstance(result, store.AcceptResult) and result.outcome == "retry":
                request = requests[i]
                request.grievance.tracking_no = tracking_no(request.grievance.submitted_at)
                try:
                    results[i] = await self._accept_until_drawn(request)
                except Exception as exc:
                    results[i] = exc
        accepted = [
            i
            for i, result in enumerate(results)
            if isinstance(result, store.AcceptResult) and result.outcome == "accepted"
        ]
        remembered = await asyncio.gather(
            *(self._accepted(requests[i].grievance) for i in accepted), return_exceptions=True
        )
        for i, done in zip(accepted, remembered, strict=True):
            if isinstance(done, BaseException):
                # Stored, but not yet indexed: a retry of the entry finds it a duplicate.
                results[i] = done
        return results

    def prepare(
        self,
        body: GrievanceIn,
        *,
        source: str,
        channel: Channel,
        idempotency_key: str | None,
    ) -> store.AcceptRequest:
        """Return the normalised, classified grievance ready for ``accept`` (pure)."""
        grievance = self.normalise(body, source=source, channel=channel)
        grievance.idempotency_key = idempotency_key
        digest = store.body_hash(body.model_dump(mode="json", exclude={"source"}))
        return store.AcceptRequest(grievance, idempotency_key, digest)

    async def _accept_soon(self, request: store.AcceptRequest) -> store.AcceptResult:
        """Return the result of one ``accept``, pipelined with the other requests in flight.

        Every request that reaches this point during one turn of the event loop goes out in
        the same pipeline on the next turn (each script still runs atomically on its own):
        under load one round trip serves many requests; alone, a request waits one turn.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[store.AcceptResult] = loop.create_future()
        self._queued.append((request, future))
        if len(self._queued) == 1:
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._queued = self._queued, []
        task = asyncio.get_running_loop().create_task(self._send_queued(batch))
        self._flushes.add(task)  # keep a reference until it ends
        task.add_done_callback(self._flushes.discard)

    async def _send_queued(
        self, batch: list[tuple[store.AcceptRequest, asyncio.Future[store.AcceptResult]]]
    ) -> None:
        try:
            replies: Sequence[store.AcceptResult | BaseException] = await store.accept_many(
                self.client, self.scripts, self.keys, [request for request, _ in batch]
            )
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # the round trip failed: every request in it fails
            replies = [exc] * len(batch)
        for (_, future), reply in zip(batch, replies, strict=True):
            if future.done():  # the request was cancelled (client gone) meanwhile
                continue
            if isinstance(reply, BaseException):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _accept_until_drawn(self, request: store.AcceptRequest) -> store.AcceptResult:
        grievance = request.grievance
        for _ in range(_TRACKING_DRAWS):
            result = await store.accept(
                self.client,
                self.scripts,
                self.keys,
                grievance,
                idempotency_key=request.idempotency_key,
                digest=request.digest,
            )
            if result.outcome != "retry":
                return result
            grievance.tracking_no = tracking_no(grievance.submitted_at)
        raise TrackingNumbersExhaustedError(f"no free tracking number in {_TRACKING_DRAWS}")

    async def _accepted(self, grievance: Grievance) -> None:
        """Index an accepted civic original and write the one line per accepted grievance."""
        if self.on_accepted is not None:
            self.on_accepted(grievance)
        if self.civic.is_candidate(grievance):
            await self.civic.remember(grievance)
        log.info(
            "grievance_accepted",
            grievance_id=grievance.id,
            tracking_no=grievance.tracking_no,
            source=grievance.source,
            channel=grievance.channel.value,
            category=grievance.category.value,
            urgency=grievance.urgency.value,
            duplicate_of=grievance.duplicate_of,
        )

    def normalise(self, body: GrievanceIn, *, source: str, channel: Channel) -> Grievance:
        """Return the grievance with server-assigned fields and a classification."""
        now = datetime.now(UTC)
        category, urgency, why, needs_review = classify(
            self.rules,
            title=body.title,
            description=body.description,
            category=body.category,
            urgency=body.urgency,
        )
        fields = body.model_dump(exclude={"source", "category", "urgency"})
        fields["attachments"] = [str(url) for url in body.attachments]
        return Grievance(
            **fields,
            id=new_grievance_id(),
            tracking_no=tracking_no(now),
            source=source,
            channel=channel,
            submitted_at=now,
            category=category,
            urgency=urgency,
            classification=why,
            needs_review=needs_review,
        )

    async def _existing(
        self, result: Literal["duplicate", "conflict", "accepted", "retry"], grievance_id: str
    ) -> SubmissionOutcome:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hmget(self.keys.grievance(grievance_id), ["tracking_no", "state", "duplicate_of"])
            pipe.get(self.keys.document(grievance_id))
            (tracking, state, linked), doc = await pipe.execute()
        now = state.decode() if isinstance(state, bytes) else "submitted"
        # The link as it stands: the record's once the router has seen the report (it
        # clears it when the original ends unresolved), what intake found until then.
        if now != "submitted":
            link = linked.decode() if isinstance(linked, bytes) and linked else None
        else:
            link = Grievance.model_validate_json(doc).duplicate_of if doc else None
        return SubmissionOutcome(
            "conflict" if result == "conflict" else "duplicate",
            grievance_id,
            tracking.decode() if isinstance(tracking, bytes) else "",
            now,
            link,
        )
