"""Developer commands: ``run`` the whole stack, ``bench`` it, regenerate the API ``docs``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared.config import load_config
from zhitong.cli.common import fail
from zhitong.cli.directory import config_error_summary
from zhitong.redis_server import RedisServerError


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
        fail(config_error_summary(config, exc))
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
        fail(config_error_summary(config, exc))
    raise typer.Exit(code)


def bench(ctx: typer.Context) -> None:
    """Run the benchmarks on private redis-servers (options: --quick, --only, --keep)."""
    from zhitong.bench import main as bench_main  # noqa: PLC0415  (heavy imports, only here)

    bench_main(ctx.args)


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
