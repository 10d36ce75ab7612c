"""Fixtures: a real local Redis Cluster (3 masters + 3 replicas) of ``redis-server`` processes.

The session shares one cluster; a test that kills nodes takes a disposable one of its own, so
a failover never leaves the shared cluster short of a replica.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster

from zhitong.redis_cluster import LocalRedisCluster

# Small enough that a failover finishes in a few seconds, large enough for a busy CI machine.
NODE_TIMEOUT_MS = 2000


def _start_cluster(data_dir: Path) -> LocalRedisCluster:
    missing = [name for name in ("redis-server", "redis-cli") if shutil.which(name) is None]
    if missing:
        pytest.skip(
            f"{' and '.join(missing)} not installed: the cluster tests start their own nodes "
            "(Debian: apt-get install -y redis-server; make test installs it when it can)"
        )
    return LocalRedisCluster(data_dir, node_timeout_ms=NODE_TIMEOUT_MS).start()


@pytest.fixture(name="local_cluster", scope="session")
def fixture_local_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedisCluster]:
    """Return a 3 + 3 local cluster that lives for the whole session (kill no node of it)."""
    cluster = _start_cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(name="disposable_cluster")
def fixture_disposable_cluster(tmp_path: Path) -> Iterator[LocalRedisCluster]:
    """Return a 3 + 3 local cluster of this test's own, for killing its nodes."""
    cluster = _start_cluster(tmp_path / "cluster")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(name="cluster_client")
async def fixture_cluster_client(local_cluster: LocalRedisCluster) -> AsyncIterator[RedisCluster]:
    """Return a cluster client on the shared cluster after emptying every master."""
    client = RedisCluster.from_url(local_cluster.url)
    await client.flushall(target_nodes=RedisCluster.PRIMARIES)
    yield client
    await client.aclose()
