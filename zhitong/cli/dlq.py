"""``zhitong dlq list|replay|purge``: inspect and repair the dead-letter stream."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from redis.asyncio import Redis
from rich.progress import Progress

from shared.streams import DEFAULT_PREFIX, Keys
from zhitong.cli.common import (
    JsonOption,
    LangOption,
    Prefix,
    RedisUrl,
    console,
    fail,
    print_json,
    with_redis,
)
from zhitong.i18n import Lang, word

app = typer.Typer(help="Inspect and repair the dead-letter stream (zt:dlq).", no_args_is_help=True)
IdsArgument = Annotated[list[str] | None, typer.Argument(help="DLQ entry ids (zhitong dlq list).")]
AllOption = Annotated[bool, typer.Option("--all", help="Every entry in the DLQ now.")]


@app.command("list")
def list_letters(
    *,
    limit: Annotated[
        int | None, typer.Option(help="Show at most this many (oldest first).")
    ] = None,
    redis_url: RedisUrl = None,
    prefix: Prefix = DEFAULT_PREFIX,
    lang: LangOption = Lang.ZH_CN,
    as_json: JsonOption = False,
) -> None:
    """List dead letters: kind, source stream, original entry, last error, deliveries."""
    from zhitong import dlq, render  # noqa: PLC0415

    letters = with_redis(redis_url, lambda c: dlq.list_entries(c, Keys(prefix), limit))
    if as_json:
        print_json([{"id": letter.id, **letter.record} for letter in letters])
    elif not letters:
        typer.echo(word(lang, "dlq_empty"))
    else:
        console().print(render.dead_letters(lang, letters))


def _chosen(ids: list[str] | None, every: bool) -> list[str] | None:
    """Return the ids asked for, ``None`` for --all; fail when neither or both are given."""
    if bool(ids) == every:
        fail("name DLQ entry ids or pass --all (not both)")
    return None if every else list(ids or [])


@app.command("replay")
def replay(
    ids: IdsArgument = None,
    *,
    every: AllOption = False,
    redis_url: RedisUrl = None,
    prefix: Prefix = DEFAULT_PREFIX,
) -> None:
    """Put dead letters back on their stream and delete them from the DLQ (atomic per entry).

    Replay after fixing the cause (a bug, a missing unit): the consumer handles them anew.
    A given-up notification (notification.failed) is re-sent once, its horizon afresh.
    """
    from zhitong import dlq  # noqa: PLC0415

    chosen = _chosen(ids, every)
    keys = Keys(prefix)

    async def work(client: Redis) -> tuple[int, list[str], list[str]]:
        if chosen is None:
            letters = [
                letter
                for letter in await dlq.list_entries(client, keys)
                if letter.replay_error() is None
            ]
        else:
            letters = await dlq.get_entries(client, keys, chosen)
            problems = [p for p in (letter.replay_error() for letter in letters) if p]
            if problems:
                raise dlq.DlqError(problems[0])
        replayed, gone, refused = 0, [], []
        with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
            task = progress.add_task("replaying", total=len(letters))
            for letter in letters:
                try:
                    if await dlq.replay(client, keys, letter) is None:
                        gone.append(letter.id)
                    else:
                        replayed += 1
                except dlq.DlqError as exc:  # e.g. aged out: the others still go
                    refused.append(str(exc))
                progress.advance(task)
        return replayed, gone, refused

    try:
        replayed, gone, refused = with_redis(redis_url, work)
    except dlq.DlqError as exc:
        fail(str(exc))
    typer.echo(f"replayed {replayed} dead letter(s)")
    if gone:
        typer.echo(f"already gone (replayed or purged meanwhile): {', '.join(gone)}", err=True)
    if refused:
        fail("; ".join(refused))


@app.command("purge")
def purge(
    ids: IdsArgument = None,
    *,
    every: AllOption = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask (required in scripts).")
    ] = False,
    redis_url: RedisUrl = None,
    prefix: Prefix = DEFAULT_PREFIX,
) -> None:
    """Delete dead letters for good (list them first; replay what should be retried)."""
    from zhitong import dlq  # noqa: PLC0415

    chosen = _chosen(ids, every)
    keys = Keys(prefix)
    what = "every DLQ entry" if chosen is None else f"{len(chosen)} DLQ entr(y/ies)"
    if not yes:
        if not sys.stdin.isatty():
            fail(f"refusing to delete {what} without --yes (no terminal to ask)")
        typer.confirm(f"Delete {what}?", abort=True)

    async def work(client: Redis) -> int:
        if chosen is None:
            targets = [letter.id for letter in await dlq.list_entries(client, keys)]
        else:
            targets = [letter.id for letter in await dlq.get_entries(client, keys, chosen)]
        return await dlq.purge(client, keys, targets)

    try:
        removed = with_redis(redis_url, work)
    except dlq.DlqError as exc:
        fail(str(exc))
    typer.echo(f"purged {removed} dead letter(s)")
