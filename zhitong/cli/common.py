"""What every command shares: one-line errors, the Redis options and client, JSON and tables."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import typer
from redis.asyncio import Redis
from redis.exceptions import RedisError
from rich.console import Console

from zhitong.i18n import Lang
from zhitong.stackfile import choose_redis

T = TypeVar("T")
RedisUrl = Annotated[
    str | None,
    typer.Option(
        envvar="ZHITONG_REDIS_URL",
        help="Redis to use (redis:// or rediss://); default: the running stack's "
        "(var/stack.json, or $ZHITONG_VAR_DIR), else redis://127.0.0.1:6379/0.",
    ),
]
Prefix = Annotated[
    str, typer.Option(envvar="ZHITONG_STREAM_PREFIX", help="Prefix of every stream and key.")
]
LangOption = Annotated[Lang, typer.Option("--lang", help="Language of the human output.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` as one line on stderr and exit with ``code``."""
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(code)


def one_line(text: str) -> str:
    """Return ``text`` with its line breaks and runs of spaces folded into single spaces."""
    return " ".join(text.split())


def safe_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (for error lines)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (
        f":{parts.port}" if parts.port else ""
    )
    return urlunsplit(parts._replace(netloc=netloc))


def with_redis(redis_url: str | None, work: Callable[[Redis], Awaitable[T]]) -> T:
    """Return ``work(client)`` run on a client for ``redis_url``; Redis errors become one line.

    Given no URL, the running stack's Redis (or the default) is used and named on stderr, so
    zeros from the wrong Redis never pass for the stack's numbers.
    """
    if redis_url is None:
        choice = choose_redis(None)
        typer.echo(f"redis: {safe_url(choice.url)} ({choice.origin})", err=True)
        redis_url = choice.url

    async def main() -> T:
        client = Redis.from_url(redis_url, socket_connect_timeout=5)
        try:
            return await work(client)
        finally:
            await client.aclose()

    try:
        return asyncio.run(main())
    except (RedisError, OSError) as exc:
        fail(f"Redis at {safe_url(redis_url)}: {exc}")


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON with Chinese kept readable."""
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def console() -> Console:
    """Return a console for tables; wide when the output is not a terminal (pipes, tests)."""
    return Console(width=None if sys.stdout.isatty() else 160, soft_wrap=False)
