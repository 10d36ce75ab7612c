"""The ``zhitong`` command: run the stack, file and inspect grievances, KPIs, the DLQ, docs.

Every error is one line on stderr and a non-zero exit code; no tracebacks for the user.
Commands that read Redis take ``--redis-url`` (or ``ZHITONG_REDIS_URL``), as the services do.
Each command group lives in its own module; this one only assembles them, in help order.
"""

from __future__ import annotations

import typer

from zhitong.cli import classify, directory, dlq, grievances, listing, maintenance, stack

app = typer.Typer(
    name="zhitong",
    help="直通 Zhitong — grievance routing for platform workers over Redis Streams.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(stack.run)
# bench parses its own options (--quick, --only, --keep), so typer passes them through.
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    stack.bench
)
app.command()(grievances.submit)
app.command()(grievances.show)
app.command("list")(listing.list_grievances)
app.command()(grievances.stats)
app.command()(stack.docs)
app.command()(maintenance.reindex)
app.add_typer(directory.app, name="directory")
app.add_typer(dlq.app, name="dlq")
app.add_typer(classify.app, name="classify")
