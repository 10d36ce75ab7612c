"""``zhitong classify eval``: measure intake's classifier on the frozen sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared.streams import DEFAULT_PREFIX, Keys
from zhitong.cli.common import Prefix, RedisUrl, with_redis

app = typer.Typer(
    help="Measure intake's category/urgency classifier (issue 16).", no_args_is_help=True
)


@app.command("eval")
def evaluate(
    training: Annotated[
        bool, typer.Option(help="Also score the training data (labelled as such).")
    ] = True,
) -> None:
    """Print accuracy, critical/high recall and confusion tables on frozen sets B and C."""
    from services.intake.classify import load_rules  # noqa: PLC0415  (loads the model)
    from zhitong.classify_eval import run as run_eval  # noqa: PLC0415

    print(run_eval(load_rules(), training=training))


@app.command("export")
def export(
    *,
    out: Annotated[
        Path | None,
        typer.Option(help="Append to this corpus folder (one <category>.tsv per category)."),
    ] = None,
    redis_url: RedisUrl = None,
    prefix: Prefix = DEFAULT_PREFIX,
) -> None:
    """Turn reclassified grievances into labelled training lines (print, or append to --out)."""
    from zhitong.classify_export import corrections, write  # noqa: PLC0415

    found = with_redis(redis_url, lambda client: corrections(client, Keys(prefix)))
    if out is None:
        for correction in found:
            print(f"{correction.category}\t{correction.line()}")
        return
    written = write(found, out)
    print(f"{written} new line(s) of {len(found)} correction(s) written to {out}")
