"""The ``zhitong`` command: run the stack, check configuration (more commands: issue 7).

Every error is one line on stderr and a non-zero exit code; no tracebacks for the user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from shared.config import Config, load_config
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


@directory_app.command("validate")
def directory_validate(
    file: Annotated[Path, typer.Argument(help="The YAML config file to check.")],
) -> None:
    """Check FILE's schema and cross-references; print every error, exit 1 if there are any."""
    try:
        config = load_config(file)
    except ValidationError as exc:
        errors = schema_errors(exc)
    except ValueError as exc:
        fail(str(exc))
    else:
        errors = cross_reference_errors(config)
    if errors:
        for error in errors:
            typer.echo(f"{file}: {one_line(error)}", err=True)
        typer.echo(f"{file}: {len(errors)} error(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{file}: ok ({summary(config)})")


def schema_errors(exc: ValidationError) -> list[str]:
    """Return one readable line per pydantic error, located by its dotted path."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"{where}: {error['msg']}")
    return lines


def cross_reference_errors(config: Config) -> list[str]:
    """Return the router's directory checks (unknown ids, overlaps…) when it is installed."""
    try:
        from services.router.directory import validate  # noqa: PLC0415  (optional dependency)
    except ImportError:
        return []
    return validate(config)


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
    if isinstance(exc, ValidationError):
        first = schema_errors(exc)[0]
        return (
            f"config {path} is invalid ({exc.error_count()} error(s), first: {first}); "
            f"run: zhitong directory validate {path}"
        )
    return str(exc)


if __name__ == "__main__":
    app()
