"""``zhitong directory validate``: check a config the way every service checks it at load."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from shared.config import Config, load_config
from shared.config_checks import ConfigError, refusal_reasons
from zhitong.cli.common import fail, one_line

app = typer.Typer(help="Check the directory / SLA configuration file.", no_args_is_help=True)


@app.command("validate")
def validate(
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


def config_error_summary(path: Path, exc: ValueError) -> str:
    """Return one line on why ``path`` was refused, pointing at ``directory validate``."""
    if isinstance(exc, ValidationError | ConfigError):
        errors = refusal_reasons(exc)
        return (
            f"config {path} is invalid ({len(errors)} error(s), first: {errors[0]}); "
            f"run: zhitong directory validate {path}"
        )
    return str(exc)
