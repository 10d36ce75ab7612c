"""A webhook receiver down for minutes, the notifier SIGTERMed meanwhile: every message once."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from redis.asyncio import Redis

from shared.streams import Keys
from tests.chaos.harness import ROOT, Load, Stack, drain, record, verdict
from tests.helpers import eventually
from zhitong.receiver import Receiver, serving
from zhitong.redis_server import free_port

pytestmark = pytest.mark.chaos

KEYS = Keys()
# Minutes, as a receiver's bad deploy takes; the old schedule (6 tries from 1 s) gave up
# after ~25 s.  The schedule is scaled down (0.2 s base, 2 s cap), not the horizon (24 h).
OUTAGE_S = 120
# A send times out after 5 s (not the harness's 0.5 s): a receiver slow under load must not
# be re-sent what it already took.
SCALED = {"ZHITONG_RETRY_BASE_S": "0.2", "ZHITONG_RETRY_MAX_S": "2", "ZHITONG_HTTP_TIMEOUT_S": "5"}


def _webhook_config(path: Path, port: int) -> tuple[Path, list[str]]:
    """Write the demo config with its webhook pointed at ``port``; return it and the secrets."""
    raw = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    hooks = raw["channels"]["webhooks"]
    for hook in hooks.values():
        hook["url"] = f"http://127.0.0.1:{port}/hooks"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path, [s for hook in hooks.values() for s in hook["secrets"]]


async def _webhook_deliveries(client: Redis) -> dict[str, list[str]]:
    """Return each webhook delivery id with the outcomes ``zt:deliveries`` recorded for it."""
    outcomes: dict[str, list[str]] = {}
    for _id, fields in await client.xrange(KEYS.deliveries):
        rec: dict[str, Any] = json.loads(fields[b"payload"])
        if str(rec.get("channel", "")).startswith("webhook"):
            outcomes.setdefault(rec["delivery_id"], []).append(rec["status"])
    return outcomes


async def test_receiver_down_for_minutes_gets_every_message_once_after(tmp_path: Path) -> None:
    """Receiver down 2 min under load, notifier restarted meanwhile: all arrive, none twice."""
    port = free_port()
    stack = Stack(tmp_path, env=SCALED)
    stack.config, secrets = _webhook_config(tmp_path / "hooks.yaml", port)
    receiver = Receiver(secrets)
    try:
        await stack.start_all()
        client = Redis.from_url(stack.url, socket_timeout=5, retry_on_timeout=True)
        down_at = time.monotonic()
        load = Load(stack, client, grievances=150)
        await load.run()
        await asyncio.sleep(OUTAGE_S / 2)  # the outage itself: nothing to poll for
        sigterm_code = await stack.restart("notifier", graceful=True)
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
        retrying = await client.zcard(KEYS.retries)
        async with serving(receiver, port=port):
            up_at = time.monotonic()
            drained_s = await drain(client, within_s=120)
            outcomes = await _webhook_deliveries(client)

            async def all_received() -> bool:
                return {d["webhook_id"] for d in receiver.deliveries} >= set(outcomes)

            await eventually(all_received, timeout=30)
        result = await verdict(client, load.acked)
        record(
            tmp_path,
            "receiver_outage",
            {
                "outage_s": round(up_at - down_at, 1),
                "webhook_deliveries": len(outcomes),
                "retrying_at_end_of_outage": retrying,
                "received": len(receiver.deliveries),
                "duplicates": receiver.duplicates,
                "drain_after_up_s": round(drained_s, 1),
                "notifier_sigterm_exit": sigterm_code,
                **result.counts(),
            },
        )
        await client.aclose()
    finally:
        stack.stop()
    assert up_at - down_at >= OUTAGE_S
    assert retrying > 0, "nothing was waiting for the receiver: the outage tested nothing"
    assert sigterm_code == 0
    assert outcomes
    assert all(o[-1] == "sent" and "failed" not in o for o in outcomes.values()), outcomes
    assert {d["webhook_id"] for d in receiver.deliveries} == set(outcomes)
    assert receiver.duplicates == 0
    assert not receiver.rejected
    assert result.ok, result.summary()
