"""The chaos harness: a private Redis, the three services as processes, a load, a drain.

Each chaos test gets its own ``redis-server`` (killing it hurts no other test) and its own
service processes with short reclaim times, so a killed consumer's entries come back fast.
The load records exactly what the system acknowledged, for ``tests.checker``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared import codec
from shared.streams import Keys
from tests.checker import Acknowledged, Verdict, check, observe
from tests.processes import ServiceProcess
from zhitong.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
KEYS = Keys()
AUTH = {"Authorization": "Bearer zt-demo-key"}
# The demo committee key (c-express): acknowledgements over HTTP speak for the committee.
COMMITTEE_AUTH = {"Authorization": "Bearer zt-demo-committee-key"}
SERVICES = ("intake", "router", "notifier")
CONSUMED = (KEYS.intake, KEYS.submitted, KEYS.actions, KEYS.events)
FAST_ENV = {
    "ZHITONG_RECLAIM_IDLE_MS": "1000",
    "ZHITONG_POLL_MS": "20",
    "ZHITONG_MAX_DELIVERIES": "5",
    # The notifier's send lease is 2 × timeout + 5 s: keep a killed send's wait short.
    "ZHITONG_HTTP_TIMEOUT_S": "0.5",
    "ZHITONG_GRACEFUL_TIMEOUT": "5",
}


def log_only_config(path: Path) -> Path:
    """Write the demo config without webhook channels (no receiver runs here)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items()}
        if isinstance(node, list):
            kept = [v for v in node if not (isinstance(v, dict) and v.get("type") == "webhook")]
            return [strip(v) for v in kept]
        return node

    raw = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump(strip(raw), allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Stack:
    """Return a private Redis plus one process per service, restartable one by one."""

    tmp: Path
    appendfsync: str = "always"
    env: dict[str, str] = field(default_factory=dict)
    redis: RedisServer | None = None
    procs: dict[str, ServiceProcess] = field(default_factory=dict)
    generation: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        (self.tmp / "logs").mkdir(parents=True, exist_ok=True)
        self.config = log_only_config(self.tmp / "config.yaml")

    @property
    def url(self) -> str:
        assert self.redis is not None
        return self.redis.url

    def start_redis(self) -> None:
        port = self.redis.port if self.redis else None
        server = RedisServer(data_dir=self.tmp / "redis", appendfsync=self.appendfsync)
        if port is not None:
            server.port = port
        self.redis = server.start()

    def start(self, name: str) -> ServiceProcess:
        """Start (or restart) ``name`` as a new consumer, as a replacement replica would."""
        proc = ServiceProcess(
            name,
            self.url,
            self.config,
            self.tmp / "logs",
            consumer=f"{name}-{next(self.generation)}",
            env={**FAST_ENV, **self.env},
        )
        if name in self.procs:
            proc.port = self.procs[name].port
        self.procs[name] = proc.start(ready_timeout=30)
        return proc

    async def start_all(self) -> None:
        await asyncio.to_thread(self.start_redis)
        await asyncio.gather(*(asyncio.to_thread(self.start, n) for n in SERVICES))

    async def restart(self, name: str, graceful: bool = False) -> int | None:
        """Kill -9 (or SIGTERM) ``name``, start a new one; return the exit code if graceful."""
        code = None
        if graceful:
            code = await asyncio.to_thread(self.procs[name].terminate)
        else:
            await asyncio.to_thread(self.procs[name].kill)
        await asyncio.to_thread(self.start, name)
        return code

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.kill()
        if self.redis is not None:
            self.redis.stop()

    def log_lines(self) -> list[str]:
        return [
            line
            for path in sorted((self.tmp / "logs").glob("*.log"))
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
        ]

    @property
    def intake_url(self) -> str:
        return f"http://127.0.0.1:{self.procs['intake'].port}"


@contextlib.asynccontextmanager
async def running_stack(tmp: Path, **options: Any) -> AsyncIterator[tuple[Stack, Redis]]:
    """Start a stack; yield it with a client on its Redis; kill everything after."""
    stack = Stack(tmp, **options)
    try:
        await stack.start_all()
        client = Redis.from_url(stack.url, socket_timeout=5, retry_on_timeout=True)
        try:
            yield stack, client
        finally:
            await client.aclose()
    finally:
        stack.stop()


def grievance_body(i: int) -> dict[str, Any]:
    return {
        "worker": {
            "id": f"w-{i}",
            "industry": "express_delivery",
            "platform": "中通",
            "region": "城东区",
        },
        "category": "road_access",
        "urgency": "normal",
        "description": f"第{i}号：小区物业禁止快递员进入，进不了小区送件",
    }


@dataclass
class Load:
    """Return a load generator that records every acknowledgement it receives."""

    stack: Stack
    client: Redis
    grievances: int = 2000
    # First grievance number: a later Load on the same stack takes fresh keys and ids.
    offset: int = 0
    http_share: float = 0.3
    concurrency: int = 12
    deadline_s: float = 90.0
    acked: Acknowledged = field(default_factory=Acknowledged)
    failures: int = 0
    started_at: float = 0.0
    finished_at: float = 0.0

    async def run(self) -> Acknowledged:
        """Submit every grievance (HTTP or XADD) and two actions per HTTP grievance."""
        self.started_at = time.monotonic()
        gate = asyncio.Semaphore(self.concurrency)
        first, n_http = self.offset, self.offset + int(self.grievances * self.http_share)
        async with httpx.AsyncClient(timeout=5) as http:

            async def one_http(i: int) -> None:
                async with gate:
                    await self._post_grievance(http, i)

            async def stream_all() -> None:
                for i in range(n_http, self.offset + self.grievances):
                    await self._xadd_grievance(i)

            await asyncio.gather(stream_all(), *(one_http(i) for i in range(first, n_http)))
        self.finished_at = time.monotonic()
        return self.acked

    async def _retrying(self, attempt: Any) -> Any:
        deadline = time.monotonic() + self.deadline_s
        while True:
            try:
                return await attempt()
            except (httpx.HTTPError, RedisError, OSError, _NotAcknowledgedError):
                self.failures += 1
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05 + random.random() * 0.1)

    async def _post_grievance(self, http: httpx.AsyncClient, i: int) -> None:
        key = f"chaos-{i}"

        async def attempt() -> str:
            reply = await http.post(
                f"{self.stack.intake_url}/v1/grievances",
                json=grievance_body(i),
                headers={**AUTH, "Idempotency-Key": key},
            )
            if reply.status_code not in (200, 202):
                raise _NotAcknowledgedError(reply.status_code)
            gid: str = reply.json()["id"]
            return gid

        try:
            gid = await self._retrying(attempt)
        except (httpx.HTTPError, _NotAcknowledgedError):
            self.acked.indeterminate_keys.add(("demo-app", key))
            return
        self.acked.grievances.add(gid)
        await self._act(http, i, gid)

    async def _act(self, http: httpx.AsyncClient, i: int, gid: str) -> None:
        """Act as the committee (always in the chain): acknowledge, then add a note.

        Every third acknowledgement goes over HTTP with the committee's key (retried while
        the router has not routed it yet: until then it is not the committee's to read, 404),
        the rest and every note straight to ``zt:actions``, as an upstream app may publish them.
        """
        committee = {"id": "c-express", "role": "committee"}
        if i % 3 == 0:
            await self._post_action(http, i, gid, {"type": "acknowledge", "actor": committee})
        else:
            ack = {"type": "acknowledge", "actor": committee}
            await self._xadd_action(f"chaos-ack-{i}", gid, ack)
        note = {"type": "add_note", "actor": committee, "note": f"第{i}号已转交"}
        await self._xadd_action(f"chaos-note-{i}", gid, note)

    async def _xadd_action(self, action_id: str, gid: str, body: dict[str, Any]) -> None:
        payload = {**body, "action_id": action_id, "grievance_id": gid, "source": "chaos"}
        await self._retrying(lambda: self.client.xadd(KEYS.actions, codec.fields(payload)))
        self.acked.actions[action_id] = gid

    async def _post_action(
        self, http: httpx.AsyncClient, i: int, gid: str, body: dict[str, Any]
    ) -> None:
        async def attempt() -> str:
            reply = await http.post(
                f"{self.stack.intake_url}/v1/grievances/{gid}/actions",
                json=body,
                headers={**COMMITTEE_AUTH, "Idempotency-Key": f"act-{i}"},
            )
            if reply.status_code != 202:
                raise _NotAcknowledgedError(reply.status_code)
            action_id: str = reply.json()["action_id"]
            return action_id

        self.acked.actions[await self._retrying(attempt)] = gid

    async def _xadd_grievance(self, i: int) -> None:
        # As the README tells upstream apps: a key in the payload makes a retried XADD (its
        # reply lost when Redis died after persisting it) yield the same grievance.
        key = f"kiosk-{i}"
        payload = {**grievance_body(i), "source": "chaos-kiosk", "idempotency_key": key}
        fields = codec.fields(payload)
        await self._retrying(lambda: self.client.xadd(KEYS.intake, fields))
        self.acked.keyed_entries.add(("chaos-kiosk", key))


class _NotAcknowledgedError(Exception):
    """Raise when a reply is not an acknowledgement (e.g. 5xx while Redis restarts)."""


async def backlog(client: Redis) -> dict[str, Any]:
    """Return what is still in flight: per-group lag and pending, and scheduled retries."""
    left: dict[str, Any] = {}
    for stream in CONSUMED:
        if not await client.exists(stream):
            continue
        info = await client.xinfo_stream(stream)
        for group in await client.xinfo_groups(stream):
            lag = group.get("lag")
            if lag is None:  # unknown after deletions: compare the last ids instead
                lag = int(group["last-delivered-id"] != info["last-generated-id"])
            if lag or group["pending"]:
                left[f"{stream}:{group['name'].decode()}"] = (lag, group["pending"])
    retries = await client.zcard(KEYS.retries)
    if retries:
        left[KEYS.retries] = retries
    return left


async def drain(client: Redis, within_s: float = 60.0) -> float:
    """Poll until nothing is left in flight; return how long it took."""
    start = time.monotonic()
    deadline = start + within_s
    left = await backlog(client)
    while left:
        if time.monotonic() > deadline:
            raise AssertionError(f"not drained within {within_s}s: {left}")
        await asyncio.sleep(0.1)
        left = await backlog(client)
    return time.monotonic() - start


async def verdict(client: Redis, acked: Acknowledged) -> Verdict:
    """Return the checker's verdict on what the load was told and what Redis holds."""
    return check(acked, await observe(client, KEYS))


def record(tmp: Path, name: str, figures: dict[str, Any]) -> None:
    """Print a figure line (visible with ``-s`` and in the report) and keep it as JSON."""
    line = json.dumps({"test": name, **figures}, ensure_ascii=False)
    print(f"\nCHAOS {line}")
    (tmp / f"{name}.json").write_text(line, encoding="utf-8")
