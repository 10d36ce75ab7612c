"""Grievance commands: ``submit`` one, ``show`` one, and the KPI ``stats`` over all."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from redis.asyncio import Redis

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
from zhitong.cli.listing import ConfigOption, load_units
from zhitong.i18n import Lang, word


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
    redis_url: RedisUrl = None,
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


def show(
    grievance: Annotated[str, typer.Argument(help="A grievance id or tracking number.")],
    *,
    config: ConfigOption = None,
    redis_url: RedisUrl = None,
    prefix: Prefix = DEFAULT_PREFIX,
    lang: LangOption = Lang.ZH_CN,
    as_json: JsonOption = False,
) -> None:
    """Show one grievance: its state, deadlines and full timeline (the API's read model)."""
    from shared import store, views  # noqa: PLC0415
    from zhitong import render  # noqa: PLC0415

    keys = Keys(prefix)
    units = load_units(config)

    async def load(client: Redis) -> views.Stored | None:
        found = await store.resolve_id(client, keys, grievance)
        return (await views.read_stored(client, keys, [found], timeline=True))[0]

    stored = with_redis(redis_url, load)
    if stored is None:
        fail(f"{word(lang, 'not_found')}: {grievance}")
    view = views.grievance_view(stored, reveal_worker=False, units=units)
    if as_json:
        print_json(view.model_dump(mode="json"))
        return
    console().print(render.grievance(lang, view, units))


DAY = ["%Y-%m-%d"]


def stats(
    *,
    since: Annotated[
        datetime | None,
        typer.Option(formats=DAY, help="Count grievances submitted from this UTC day."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(formats=DAY, help="… up to this UTC day, excluded (default: tomorrow)."),
    ] = None,
    config: ConfigOption = None,
    redis_url: RedisUrl = None,
    prefix: Prefix = DEFAULT_PREFIX,
    lang: LangOption = Lang.ZH_CN,
    as_json: JsonOption = False,
) -> None:
    """Show the KPIs: response, resolution and satisfaction rates, times, breaches, open and
    overdue counts — overall, per unit and per tier (the same numbers as GET /v1/stats), of
    every grievance or of those submitted in [--since, --until)."""
    from shared import stats as kpis  # noqa: PLC0415
    from zhitong import render  # noqa: PLC0415

    units = load_units(config)
    names = {unit: ref.name for unit, ref in units.items() if ref.name}
    first, end = (d.date() if d else None for d in (since, until))
    try:
        result = with_redis(
            redis_url,
            lambda client: kpis.compute(client, Keys(prefix), since=first, until=end, names=names),
        )
    except kpis.WindowError as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
        return
    console().print(render.stats(lang, result))
