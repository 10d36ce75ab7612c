"""What Zhitong relies on from Redis Cluster, proven on a real local 3 + 3 cluster (issue 14).

Hash tags pin keys to slots spread over every master; a script's keys must share one slot;
streams with consumer groups work through the cluster client; a killed master's replica takes
its slots over.  Figures (failover time, writes lost) print as ``CLUSTER {...}`` lines (-s).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from faststream.redis import RedisClusterBroker, StreamSub
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import ClusterCrossSlotError, RedisClusterException, RedisError

from tests.helpers import eventually
from zhitong.redis_cluster import LocalRedisCluster

pytestmark = pytest.mark.integration

# Sets both keys in one atomic step: only possible when they share a slot.
SET_BOTH = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return 2"


def _report(name: str, figures: dict[str, Any]) -> None:
    print(f"\nCLUSTER {json.dumps({'test': name, **figures})}")


async def test_hash_tags_spread_over_every_master(
    local_cluster: LocalRedisCluster, cluster_client: RedisCluster
) -> None:
    """Keys with 16 different hash tags land on all three masters, where the slot map says."""
    keys = [f"zt:{{p{i}}}:probe" for i in range(16)]
    for key in keys:
        await cluster_client.set(key, "1")
    masters = local_cluster.current_masters()
    assert len(masters) == 3
    held: dict[int, set[str]] = {}
    for master in masters:
        plain = Redis(port=master.port, decode_responses=True)
        # KEYS on one node lists only the keys stored there.
        held[master.port] = set(await plain.keys("zt:*:probe"))
        await plain.aclose()
    assert all(held.values()), f"a master holds none of the keys: {held}"
    assert set().union(*held.values()) == set(keys)
    for key in keys:
        assert key in held[local_cluster.master_of_key(key).port]


async def test_hash_tagged_script_runs(cluster_client: RedisCluster) -> None:
    """One EVAL writes {p1}:a and {p1}:b: the tag puts both in one slot."""
    assert key_slot(b"{p1}:a") == key_slot(b"{p1}:b")
    assert await cluster_client.eval(SET_BOTH, 2, "{p1}:a", "{p1}:b", "v") == 2
    assert await cluster_client.mget("{p1}:a", "{p1}:b") == [b"v", b"v"]


async def test_cross_slot_script_refused(
    local_cluster: LocalRedisCluster, cluster_client: RedisCluster
) -> None:
    """A script over {p1} and {p2} keys is refused with CROSSSLOT and writes nothing."""
    assert key_slot(b"{p1}:a") != key_slot(b"{p2}:b")
    # redis-py refuses it before sending when it knows the slots, the server otherwise.
    with pytest.raises((RedisClusterException, ClusterCrossSlotError)):
        await cluster_client.eval(SET_BOTH, 2, "{p1}:a", "{p2}:b", "v")
    # The server refuses it too: a node asked directly (no client check) answers CROSSSLOT,
    # the error code redis-py maps to ClusterCrossSlotError.
    plain = Redis(port=local_cluster.master_of_key("{p1}:a").port)
    with pytest.raises(ClusterCrossSlotError):
        await plain.execute_command("EVAL", SET_BOTH, 2, "{p1}:a", "{p2}:b", "v")
    await plain.aclose()
    assert await cluster_client.exists("{p1}:a") == 0


async def test_stream_group_read_and_autoclaim(cluster_client: RedisCluster) -> None:
    """XADD, XREADGROUP and XAUTOCLAIM on a hash-tagged stream through the cluster client."""
    stream = "zt:{p3}:submitted"
    await cluster_client.xgroup_create(stream, "router", id="0", mkstream=True)
    ids = [await cluster_client.xadd(stream, {"n": str(n)}) for n in range(3)]
    read = await cluster_client.xreadgroup("router", "r1", {stream: ">"}, count=10)
    assert [entry_id for entry_id, _ in read[0][1]] == ids
    # r1 "dies" without acking: r2 claims all three.
    _, claimed, _ = await cluster_client.xautoclaim(stream, "router", "r2", min_idle_time=0)
    assert [entry_id for entry_id, _ in claimed] == ids
    assert await cluster_client.xack(stream, "router", *ids) == 3
    assert (await cluster_client.xpending(stream, "router"))["pending"] == 0


async def test_faststream_cluster_broker_consumes_with_group(
    local_cluster: LocalRedisCluster, cluster_client: RedisCluster
) -> None:
    """FastStream's RedisClusterBroker reads a group on a tagged stream and reclaims a pending."""
    stream = "zt:{p4}:actions"
    # One entry left pending by a consumer that died: only a claimer can take it.
    await cluster_client.xgroup_create(stream, "reclaim", id="0", mkstream=True)
    orphan = await cluster_client.xadd(stream, {"__data__": b'{"n": 0}'})
    await cluster_client.xreadgroup("reclaim", "dead", {stream: ">"})

    fresh: list[dict[str, int]] = []
    reclaimed: list[dict[str, int]] = []
    broker = RedisClusterBroker(local_cluster.url, logger=None)

    @broker.subscriber(stream=StreamSub(stream, group="readers", consumer="c1"))
    async def read(body: dict[str, int]) -> None:
        fresh.append(body)

    @broker.subscriber(stream=StreamSub(stream, group="reclaim", consumer="c2", min_idle_time=50))
    async def claim(body: dict[str, int]) -> None:
        reclaimed.append(body)

    await broker.start()
    try:
        await broker.publish({"n": 1}, stream=stream)

        async def both_consumed() -> bool:
            return bool(fresh and reclaimed)

        await eventually(both_consumed, timeout=10)
    finally:
        await broker.stop()
    assert fresh == [{"n": 1}]
    assert reclaimed[0] == {"n": 0}
    pending = await cluster_client.xpending_range(stream, "reclaim", "-", "+", 10)
    assert orphan not in [p["message_id"] for p in pending], "the claimer did not ack"


async def test_master_failover(disposable_cluster: LocalRedisCluster) -> None:
    """A killed master's replica takes its slots over and writes to them succeed again.

    Replication is asynchronous: the master answers a write before its replica has it, so
    writes acknowledged in the last moment before a kill -9 may be missing on the promoted
    replica.  What the replica has is always a *prefix* of the master's writes (the stream
    is ordered), and writes confirmed by ``WAIT 1`` must all be there.  The test asserts
    those two and measures (prints) how many un-WAITed acknowledged writes were lost; it
    does not assert that number is zero, because it need not be.
    """
    cluster = disposable_cluster
    tag = "{p5}"
    master = cluster.master_of_key(tag)
    replicas = cluster.replicas_of(master)
    assert replicas, "the master to kill has no replica"
    writer = Redis(port=master.port, single_connection_client=True)
    for i in range(100):
        await writer.set(f"{tag}:w:{i}", i)
    assert await writer.execute_command("WAIT", 1, 5000) == 1
    acked = list(range(100))
    waited = len(acked)

    async def write_until_refused() -> None:
        i = waited
        while True:
            try:
                await writer.set(f"{tag}:w:{i}", i)
            except RedisError:
                return
            acked.append(i)
            i += 1

    task = asyncio.create_task(write_until_refused())

    async def under_way() -> bool:
        return len(acked) >= waited + 300 or task.done()

    await eventually(under_way, timeout=10, interval=0.001)
    assert not task.done(), "the writer stopped before the kill"
    killed = cluster.kill_master(master)
    killed_at = time.monotonic()
    await asyncio.wait_for(task, timeout=10)
    await writer.aclose()

    failover = await asyncio.to_thread(cluster.wait_failover, killed, 20.0)
    assert failover.promoted in replicas
    assert failover.promoted.node_id != killed.node_id

    client = RedisCluster.from_url(cluster.url)

    async def writes_again() -> bool:
        try:
            return bool(await client.set(f"{tag}:after", 1))
        except RedisError:
            return False

    await eventually(writes_again, timeout=20, interval=0.05)
    writable_after = time.monotonic() - killed_at

    values = await client.mget([f"{tag}:w:{i}" for i in acked])
    await client.aclose()
    kept = [i for i, value in zip(acked, values, strict=True) if value is not None]
    lost = [i for i, value in zip(acked, values, strict=True) if value is None]
    assert kept == acked[: len(kept)], f"the replica's copy has a gap: lost {lost[:10]}…"
    assert len(kept) >= waited, "a write confirmed by WAIT 1 was lost in the failover"
    _report(
        "master_failover",
        {
            "node_timeout_ms": cluster.node_timeout_ms,
            "failover_s": round(failover.seconds, 2),
            "writable_again_s": round(writable_after, 2),
            "acked_without_wait": len(acked) - waited,
            "lost_acked": len(lost),
        },
    )
