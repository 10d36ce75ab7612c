"""The ``zhitong`` command: run the stack, file and inspect grievances, KPIs, the DLQ, docs.

Every error is one line on stderr and a non-zero exit code; no tracebacks for the user.
Commands that read Redis take ``--redis-url`` (or ``ZHITONG_REDIS_URL``), as the services do.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import typer
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from rich.console import Console
from rich.progress import Progress

from shared.config import Config, load_config
from shared.config_checks import ConfigError, refusal_reasons
from shared.streams import DEFAULT_PREFIX, Keys
from zhitong.i18n import Lang, word
from zhitong.redis_server import RedisServerError

app = typer.Typer(
    name="zhitong",
    help="直通 Zhitong — grievance routing for platform workers over Redis Streams.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
directory_app = typer.Typer(
    help="Check the directory / SLA configuration file.", no_args_is_help=True
)
app.add_typer(directory_app, name="directory")
dlq_app = typer.Typer(
    help="Inspect and repair the dead-letter stream (zt:dlq).", no_args_is_help=True
)
app.add_typer(dlq_app, name="dlq")
classify_app = typer.Typer(
    help="Measure intake's category/urgency classifier (issue 16).", no_args_is_help=True
)
app.add_typer(classify_app, name="classify")

T = TypeVar("T")
RedisUrl = Annotated[
    str, typer.Option(envvar="ZHITONG_REDIS_URL", help="Redis to use (redis:// or rediss://).")
]
Prefix = Annotated[
    str, typer.Option(envvar="ZHITONG_STREAM_PREFIX", help="Prefix of every stream and key.")
]
LangOption = Annotated[Lang, typer.Option("--lang", help="Language of the human output.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` as one line on stderr and exit with ``code``."""
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(code)


def one_line(text: str) -> str:
    """Return ``text`` with its line breaks and runs of spaces folded into single spaces."""
    return " ".join(text.split())


@app.command()
def run(  # typer maps each option to a keyword parameter
    *,
    config: Annotated[
        Path, typer.Option(envvar="ZHITONG_CONFIG", help="The YAML config the services use.")
    ] = Path("config/demo.yaml"),
    var_dir: Annotated[
        Path, typer.Option(envvar="ZHITONG_VAR_DIR", help="Redis data and logs go here.")
    ] = Path("var"),
    http_port: Annotated[
        int, typer.Option(envvar="ZHITONG_HTTP_PORT", help="Intake's port; router +1, notifier +2.")
    ] = 8080,
    redis_port: Annotated[
        int | None,
        typer.Option(envvar="ZHITONG_REDIS_PORT", help="Private Redis port (default: a free one)."),
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(help="Use this Redis instead of starting a private redis-server."),
    ] = None,
    receiver_port: Annotated[
        int, typer.Option(envvar="ZHITONG_RECEIVER_PORT", help="The demo webhook receiver's port.")
    ] = 8090,
    receiver: Annotated[bool, typer.Option(help="Start the demo webhook receiver.")] = True,
    ready_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for every component's /readyz.")
    ] = 60.0,
) -> None:
    """Start Redis, intake, router, notifier and the demo webhook receiver; Ctrl-C stops all."""
    from zhitong.devstack import DevStack, DevStackError, StackOptions  # noqa: PLC0415  (keeps --help fast)

    # Check the config before DevStack sets up logging and signal handlers for the whole
    # process, so a bad file is one line and leaves the caller (or a test) untouched.
    if not config.is_file():
        fail(f"config file not found: {config}")
    try:
        load_config(config)
    except ValueError as exc:
        fail(_config_error_summary(config, exc))
    options = StackOptions(
        config=config,
        var_dir=var_dir,
        http_port=http_port,
        redis_port=redis_port,
        redis_url=redis_url,
        receiver_port=receiver_port,
        receiver=receiver,
        ready_timeout=ready_timeout,
    )
    try:
        code = DevStack(options).serve()
    except (DevStackError, RedisServerError) as exc:
        fail(str(exc))
    except ValueError as exc:  # load_config: unreadable, not YAML, or schema errors
        fail(_config_error_summary(config, exc))
    raise typer.Exit(code)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Run the benchmarks on private redis-servers (options: --quick, --only, --keep)."""
    from zhitong.bench import main as bench_main  # noqa: PLC0415  (heavy imports, only here)

    bench_main(ctx.args)


def safe_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (for error lines)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (
        f":{parts.port}" if parts.port else ""
    )
    return urlunsplit(parts._replace(netloc=netloc))


def with_redis(redis_url: str, work: Callable[[Redis], Awaitable[T]]) -> T:
    """Return ``work(client)`` run on a client for ``redis_url``; Redis errors become one line."""

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


@app.command()
def submit(  # typer maps each option to a keyword parameter
    *,
    file: Annotated[
        Path | None, typer.Option("--file", help="A grievance as JSON (flags override it).")
    ] = None,
    worker_id: Annotated[str | None, typer.Option(help="The worker's id upstream.")] = None,
    worker_name: Annotated[str | None, typer.Option()] = None,
    worker_phone: Annotated[str | None, typer.Option()] = None,
    worker_industry: Annotated[
        str | None, typer.Option("--industry", help="e.g. express_delivery, food_delivery.")
    ] = None,
    worker_platform: Annotated[str | None, typer.Option("--platform")] = None,
    worker_region: Annotated[str | None, typer.Option("--region")] = None,
    worker_station: Annotated[str | None, typer.Option("--station")] = None,
    description: Annotated[str | None, typer.Option(help="What happened.")] = None,
    title: Annotated[str | None, typer.Option()] = None,
    category: Annotated[str | None, typer.Option(help="Left out: classified.")] = None,
    urgency: Annotated[str | None, typer.Option(help="Left out: classified.")] = None,
    anonymous: Annotated[bool | None, typer.Option("--anonymous/--named")] = None,
    locale: Annotated[str | None, typer.Option(help="zh-CN (default) or en.")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Repeat safely: the same key never files twice.")
    ] = None,
    source: Annotated[
        str, typer.Option(help="Stream mode: the upstream app this grievance comes from.")
    ] = "cli",
    url: Annotated[
        str | None, typer.Option(envvar="ZHITONG_URL", help="Intake's base URL (HTTP mode).")
    ] = None,
    key: Annotated[
        str | None, typer.Option(envvar="ZHITONG_API_KEY", help="API key with 'submit' scope.")
    ] = None,
    redis_url: RedisUrl = DEFAULT_REDIS_URL,
    prefix: Prefix = DEFAULT_PREFIX,
    as_json: JsonOption = False,
) -> None:
    """File a grievance from flags or --file.

    With --url and --key it is POSTed to intake's HTTP API (reply: id and tracking number).
    Otherwise it is XADDed to the zt:intake stream with --source, as an upstream app would;
    intake then accepts it, or records why not in zt:intake.rejected.
    """
    from zhitong.submit import SubmitError, read_body, to_http, to_stream  # noqa: PLC0415

    flags = {
        "worker_id": worker_id,
        "worker_name": worker_name,
        "worker_phone": worker_phone,
        "worker_industry": worker_industry,
        "worker_platform": worker_platform,
        "worker_region": worker_region,
        "worker_station": worker_station,
        "description": description,
        "title": title,
        "category": category,
        "urgency": urgency,
        "anonymous": anonymous,
        "locale": locale,
        "idempotency_key": idempotency_key,
    }
    if (url is None) != (key is None):
        fail("HTTP mode needs both --url and --key (or neither, to publish on the stream)")
    try:
        body = read_body(file, flags)
        if url is not None and key is not None:
            reply = to_http(url, key, body)
            if as_json:
                print_json(reply)
            else:
                typer.echo(f"accepted {reply['id']} tracking_no={reply['tracking_no']}")
            return
        body.setdefault("source", source)
        keys = Keys(prefix)
        entry_id = with_redis(redis_url, lambda client: to_stream(client, keys, body))
    except SubmitError as exc:
        fail(str(exc))
    if as_json:
        print_json({"stream": keys.intake, "entry_id": entry_id})
    else:
        typer.echo(f"published {keys.intake} {entry_id} (intake accepts or rejects it)")


@app.command()
def show(
    grievance: Annotated[str, typer.Argument(help="A grievance id or tracking number.")],
    *,
    redis_url: RedisUrl = DEFAULT_REDIS_URL,
    prefix: Prefix = DEFAULT_PREFIX,
    lang: LangOption = Lang.ZH_CN,
    as_json: JsonOption = False,
) -> None:
    """Show one grievance: its state, deadlines and full timeline."""
    from shared import store  # noqa: PLC0415
    from zhitong import render  # noqa: PLC0415

    keys = Keys(prefix)

    async def load(client: Redis) -> tuple[str, Any]:
        found = await store.resolve_id(client, keys, grievance)
        return found, await store.load(client, keys, found)

    found, loaded = with_redis(redis_url, load)
    if loaded is None:
        fail(f"{word(lang, 'not_found')}: {grievance}")
    record, timeline = loaded
    if as_json:
        print_json({"id": found, **record, "timeline": timeline})
        return
    console().print(render.grievance(lang, found, record, timeline))


@app.command()
def stats(
    *,
    redis_url: RedisUrl = DEFAULT_REDIS_URL,
    prefix: Prefix = DEFAULT_PREFIX,
    lang: LangOption = Lang.ZH_CN,
    as_json: JsonOption = False,
) -> None:
    """Show the KPIs: response, resolution and satisfaction rates, times, breaches, open and
    overdue counts — overall, per unit and per tier (the same numbers as GET /v1/stats)."""
    from shared import stats as kpis  # noqa: PLC0415
    from zhitong import render  # noqa: PLC0415

    result = with_redis(redis_url, lambda client: kpis.compute(client, Keys(prefix)))
    if as_json:
        print_json(result)
        return
    console().print(render.stats(lang, result))


@dlq_app.command("list")
def dlq_list(
    *,
    limit: Annotated[
        int | None, typer.Option(help="Show at most this many (oldest first).")
    ] = None,
    redis_url: RedisUrl = DEFAULT_REDIS_URL,
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


IdsArgument = Annotated[list[str] | None, typer.Argument(help="DLQ entry ids (zhitong dlq list).")]
AllOption = Annotated[bool, typer.Option("--all", help="Every entry in the DLQ now.")]


def _chosen(ids: list[str] | None, every: bool) -> list[str] | None:
    """Return the ids asked for, ``None`` for --all; fail when neither or both are given."""
    if bool(ids) == every:
        fail("name DLQ entry ids or pass --all (not both)")
    return None if every else list(ids or [])


@dlq_app.command("replay")
def dlq_replay(
    ids: IdsArgument = None,
    *,
    every: AllOption = False,
    redis_url: RedisUrl = DEFAULT_REDIS_URL,
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


@dlq_app.command("purge")
def dlq_purge(
    ids: IdsArgument = None,
    *,
    every: AllOption = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask (required in scripts).")
    ] = False,
    redis_url: RedisUrl = DEFAULT_REDIS_URL,
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


@app.command()
def docs(
    *,
    out: Annotated[Path, typer.Option(help="Where to write the documents.")] = Path("docs"),
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if the files differ from the code.")
    ] = False,
) -> None:
    """Write docs/asyncapi.yaml and docs/openapi.json, generated from the code."""
    from zhitong.apidocs import render_all  # noqa: PLC0415

    stale = []
    for name, text in render_all().items():
        path = out / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(str(path))
        if not check:
            out.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if check and stale:
        fail(f"{', '.join(stale)} out of date with the code; run: zhitong docs (or make docs)")
    typer.echo(f"{'wrote' if stale and not check else 'up to date:'} {', '.join(stale) or out}")


@directory_app.command("validate")
def directory_validate(
    file: Annotated[Path, typer.Argument(help="The YAML config file to check.")],
) -> None:
    """Check FILE's schema and cross-references; print every error, exit 1 if there are any."""
    try:
        config = load_config(file)
    except (ValidationError, ConfigError) as exc:  # the same reasons a service refuses it for
        errors = refusal_reasons(exc)
    except ValueError as exc:  # unreadable or not YAML: one line
        fail(str(exc))
    else:
        typer.echo(f"{file}: ok ({summary(config)})")
        return
    for error in errors:
        typer.echo(f"{file}: {one_line(error)}", err=True)
    typer.echo(f"{file}: {len(errors)} error(s)", err=True)
    raise typer.Exit(1)


def summary(config: Config) -> str:
    """Return a short count of what the directory holds."""
    committees = config.directory.committees
    branches = [b for c in committees for b in c.branches]
    members = [m for b in branches for m in b.members]
    return (
        f"{len(committees)} committees, {len(branches)} branches, {len(members)} members, "
        f"{len(config.api_keys)} API keys"
    )


def _config_error_summary(path: Path, exc: ValueError) -> str:
    if isinstance(exc, ValidationError | ConfigError):
        errors = refusal_reasons(exc)
        return (
            f"config {path} is invalid ({len(errors)} error(s), first: {errors[0]}); "
            f"run: zhitong directory validate {path}"
        )
    return str(exc)


@classify_app.command("eval")
def classify_eval(
    training: Annotated[
        bool, typer.Option(help="Also score the training data (labelled as such).")
    ] = True,
) -> None:
    """Print accuracy, critical/high recall and confusion tables on frozen sets B and C."""
    from services.intake.classify import load_rules  # noqa: PLC0415  (loads the model)
    from zhitong.classify_eval import run as run_eval  # noqa: PLC0415

    print(run_eval(load_rules(), training=training))


if __name__ == "__main__":
    app()
