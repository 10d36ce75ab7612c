"""Test harness: a real Redis for everything about delivery (never fakeredis there).

A testcontainers Redis where a Docker engine is reachable, otherwise a private
``redis-server`` process on a free port with a temporary data directory.  Each test starts
from an empty database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from zhitong.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent


def _docker_reachable() -> bool:
    if os.environ.get("ZHITONG_TEST_NO_DOCKER"):
        return False
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:  # any failure means: no engine here, use a local process
        return False
    return True


@pytest.fixture(name="redis_server_url", scope="session")
def fixture_redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return the URL of a Redis server that lives for the whole session."""
    if _docker_reachable():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7.4-alpine") as container:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(6379)
            yield f"redis://{host}:{port}/0"
        return
    server = RedisServer(data_dir=tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(name="redis_url")
async def fixture_redis_url(redis_server_url: str) -> str:
    """Return the session Redis URL after emptying it, so each test starts clean."""
    client = Redis.from_url(redis_server_url)
    await client.flushall()
    await client.aclose()
    return redis_server_url


@pytest.fixture(name="redis")
async def fixture_redis(redis_url: str) -> AsyncIterator[Redis]:
    """Return a client on the emptied test Redis."""
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture(name="demo_config_path")
def fixture_demo_config_path() -> Path:
    """Return the demo configuration shipped with the repo."""
    return ROOT / "config" / "demo.yaml"
