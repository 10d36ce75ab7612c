"""``zhitong list``: find grievances by state, unit, worker, … — the API's list, on Redis.

The same query as ``GET /v1/grievances`` (``shared/query.py``) over the same indexes, with
the same rows (``shared/views.py``), read as an operator reads: every grievance, the
workers' names and phones never shown.  Units are named from the config's directory, which
also gives ``--unit`` its subtree (a branch lists its members' grievances too).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from redis.asyncio import Redis

from shared.config import Config, load_config
from shared.events import Category, State, Urgency
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
from zhitong.i18n import Lang

if TYPE_CHECKING:
    from shared.views import UnitRef

DEFAULT_CONFIG = Path("config/demo.yaml")  # the services' default (shared/settings.py)
TIMES = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        envvar="ZHITONG_CONFIG",
        help="Config whose directory names the units (default: config/demo.yaml if here).",
    ),
]


def load_directory(config: Path | None) -> Config | None:
    """Return the config naming the units (``None`` when there is none to read)."""
    if config is None and not DEFAULT_CONFIG.is_file():
        return None
    try:
        return load_config(config or DEFAULT_CONFIG)
    except ValueError as exc:
        fail(f"config for unit names: {exc}")


def load_units(config: Path | None) -> dict[str, UnitRef]:
    """Return the directory's units by id, named (empty when there is no config to read)."""
    from shared.views import unit_names  # noqa: PLC0415 - keeps the CLI start light

    directory = load_directory(config)
    return unit_names(directory.directory) if directory else {}


def _ms(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # a time without a zone is UTC, as in the API
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def list_grievances(  # typer maps each option to a keyword parameter
    *,
    state: Annotated[State | None, typer.Option(help="Only in this state.")] = None,
    unit: Annotated[
        str | None, typer.Option(help="Held by this unit or one below it (chain, referral).")
    ] = None,
    worker_id: Annotated[str | None, typer.Option(help="Filed by this worker.")] = None,
    source: Annotated[str | None, typer.Option(help="Filed by this app.")] = None,
    category: Annotated[Category | None, typer.Option()] = None,
    urgency: Annotated[Urgency | None, typer.Option()] = None,
    overdue: Annotated[bool | None, typer.Option("--overdue/--not-overdue")] = None,
    needs_review: Annotated[
        bool | None,
        typer.Option("--needs-review/--reviewed", help="Flagged: the classifier was unsure."),
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(formats=TIMES, help="Submitted at or after (UTC).")
    ] = None,
    until: Annotated[datetime | None, typer.Option(formats=TIMES, help="Submitted before.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="Rows per page.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Go on from a page's next cursor.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every page, not only the first.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV (the API's export columns).")] = False,
    config: ConfigOption = None,
    redis_url: RedisUrl = None,
    prefix: Prefix = DEFAULT_PREFIX,
    lang: LangOption = Lang.ZH_CN,
    as_json: JsonOption = False,
) -> None:
    """List grievances newest first, filtered; the same rows as GET /v1/grievances."""
    from shared import export, query, views  # noqa: PLC0415
    from zhitong import render  # noqa: PLC0415

    directory = load_directory(config)
    units = views.unit_names(directory.directory) if directory else {}
    since_ms, until_ms = _ms(since), _ms(until)
    if since_ms is not None and until_ms is not None and since_ms >= until_ms:
        fail("--until must be later than --since")
    unit_sets: tuple[frozenset[str], ...] = ()
    if unit is not None:
        if directory is not None:
            from services.intake.principals import UnitTree  # noqa: PLC0415

            tree = UnitTree.of(directory.directory)
            if unit not in tree.kinds:
                fail(f"'{unit}' is not a unit of the directory in {config or DEFAULT_CONFIG}")
            unit_sets = (tree.subtree(unit),)
        else:
            unit_sets = (frozenset({unit}),)
    try:
        position = query.decode_cursor(cursor) if cursor else None
    except ValueError as exc:
        fail(f"--cursor: {exc}")
    wanted = query.Query(
        state=state.value if state else None,
        unit_sets=unit_sets,
        source=source,
        worker_id=worker_id,
        category=category.value if category else None,
        urgency=urgency.value if urgency else None,
        overdue=overdue,
        needs_review=needs_review,
        since_ms=since_ms,
        until_ms=until_ms,
    )
    keys = Keys(prefix)

    async def pages(client: Redis) -> tuple[list[views.GrievanceRow], str | None]:
        rows: list[views.GrievanceRow] = []
        at = position
        while True:
            found = await query.find(client, keys, wanted, limit=limit, cursor=at)
            stored = await views.read_stored(client, keys, found.ids)
            rows += [views.grievance_row(s, reveal_worker=False, units=units) for s in stored if s]
            if not every or found.next_cursor is None:
                return rows, found.next_cursor
            at = query.decode_cursor(found.next_cursor)

    rows, next_cursor = with_redis(redis_url, pages)
    if as_csv:
        typer.echo(export.to_csv(rows).removeprefix(export.BOM), nl=False)
    elif as_json:
        page = views.GrievancePage(items=rows, next_cursor=next_cursor)
        print_json(page.model_dump(mode="json"))
    else:
        console().print(render.grievances(lang, rows, next_cursor))
