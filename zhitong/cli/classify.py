"""``zhitong classify eval``: measure intake's classifier on the frozen sets."""

from __future__ import annotations

from typing import Annotated

import typer

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
