"""Redis client factory: ``redis://``, ``rediss://`` (TLS) and ACL users all come from the URL."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis


def as_text(value: object) -> str:
    """Return a Redis reply value (bytes in this project's clients) as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


def make_client(url: str, max_connections: int = 64) -> Redis:
    """Return a bytes-mode client whose pool waits for a free connection instead of raising."""
    # redis-py 8 raises when its pool is exhausted (FASTSTREAM-NOTES); a blocking pool
    # turns a burst into back-pressure instead of errors.
    # A Redis host that drops packets instead of refusing must not hang requests for
    # minutes: connecting gives up after 5 s and the caller answers 503.
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=10, socket_connect_timeout=5
    )
    return Redis(connection_pool=pool)
