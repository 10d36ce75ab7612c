"""GeoReport v2 conformance: the PyPI client ``georeport`` (0.3.1) against the real facade.

The intake app is served by uvicorn on a real port with a real Redis and a router behind
it, and the client is used as a city dashboard would, in both of its formats: JSON and XML
(parsed by the client with ``xmltodict``).  ``georeport`` 0.3.1 has no call that files a
report, so filing goes through ``requests`` (the client's own HTTP library) with the
spec's form fields, and its reply is parsed the way the client parses every other one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
import requests
import xmltodict
from fastapi import FastAPI
from georeport import GeoReport
from redis.asyncio import Redis

from tests.helpers import eventually
from tests.integration.intake_support import (
    DEMO_KEY,
    FALLBACK_AUTH,
    KEYS,
    fixture_intake_app,  # noqa: F401  (fixture used by name)
)
from tests.integration.notifier_support import serving_app
from tests.integration.router_support import fast_config, running_router
from zhitong.redis_server import free_port

pytestmark = pytest.mark.integration

T = TypeVar("T")
W3C = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
JURISDICTION = "zhitong.cn"
PHONE = "13900139000"


@pytest.fixture(name="endpoint")
async def fixture_endpoint(intake_app: FastAPI, redis_url: str) -> AsyncIterator[str]:
    """Return the Open311 endpoint of intake served on a real port, with a router running."""
    async with (
        running_router(redis_url, fast_config(ack=60, resolve=600)),
        serving_app(intake_app, free_port()) as url,
    ):
        yield f"{url}/open311/v2"


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Return ``fn(*args)`` run in a thread: the client blocks, the server shares our loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def as_list(items: Any) -> list[dict[str, Any]]:
    """Return xmltodict's one-or-many result as a list (one element parses as a dict)."""
    return items if isinstance(items, list) else [items]


def requests_of(client: GeoReport, **filters: str) -> list[dict[str, Any]]:
    """Return ``get_service_requests`` as a list, also when there is none.

    The client indexes ``['service_requests']['request']`` of an XML reply, which an empty
    ``<service_requests />`` (what the spec's schema gives for no match) parses to ``None``:
    its TypeError then means "no request" (a client bug in 0.3.1; JSON is unaffected).
    """
    try:
        found = client.get_service_requests(**filters)
    except TypeError:
        if client.output_format != "xml":
            raise
        return []
    return as_list(found) if found else []


def file_report(endpoint: str, fmt: str, **fields: str) -> dict[str, Any]:
    """Return the created request as the client would parse it (POST, form-encoded)."""
    form = {
        "api_key": DEMO_KEY,
        "jurisdiction_id": JURISDICTION,
        "service_code": "public_facility",
        "lat": "36.0611234",
        "long": "103.8343456",
        "address_string": "解放路12号",
        "description": f"路灯坏了，联系我{PHONE}",
        "media_url": "https://example.org/light.jpg",
        "first_name": "李",
        "phone": PHONE,
        "attribute[where_exactly]": "东门",
        **fields,
    }
    reply = requests.post(f"{endpoint}/requests.{fmt}", data=form, timeout=10)
    reply.raise_for_status()
    if fmt == "json":
        created: dict[str, Any] = reply.json()[0]
        return created
    return dict(xmltodict.parse(reply.content)["service_requests"]["request"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_georeport_client_reads_and_follows_reports(endpoint: str, fmt: str) -> None:
    """Every GeoReport v2 call works with the PyPI client, in JSON and in XML."""
    client = GeoReport(endpoint, jurisdiction=JURISDICTION, output_format=fmt)
    results: list[tuple[str, str]] = []

    services = await call(client.get_service_list)
    assert len(services) == 18
    assert {s["service_code"] for s in services} >= {"public_facility", "wages"}
    results.append(("get_service_list", f"{len(services)} services"))

    definition = await call(client.get_service_definition, "public_facility")
    attributes = as_list(
        definition["attributes"]["attribute"] if fmt == "xml" else definition["attributes"]
    )
    assert [a["code"] for a in attributes] == ["where_exactly", "photo_url"]
    empty = await call(client.get_service_definition, "wages")
    assert not empty["attributes"]
    results.append(("get_service_definition", "attributes where_exactly, photo_url; wages: none"))

    first = await call(file_report, endpoint, fmt)
    second = await call(file_report, endpoint, fmt, service_code="sanitation", lat="36.07")
    assert first["service_request_id"]
    assert second["service_request_id"]
    assert "受理编号" in first["service_notice"]
    assert "Tracking number" in first["service_notice"]
    results.append(("POST requests (requests.post)", "service_request_id + service_notice"))

    gid = first["service_request_id"]
    one = await call(client.get_service_request, gid)
    assert one["service_request_id"] == gid
    assert one["media_url"] == "https://example.org/light.jpg"
    assert W3C.fullmatch(one["requested_datetime"])
    assert PHONE not in str(one)
    assert one["address"] == "解放路12号（东门）"
    assert str(one["lat"]) == "36.061"
    results.append(("get_service_request", f"status {one['status']}, masked, rounded"))

    listed = await call(requests_of, client, service_code="public_facility")
    assert [r["service_request_id"] for r in listed] == [gid]
    both = await call(requests_of, client, service_request_id=f"{gid},nope")
    assert [r["service_request_id"] for r in both] == [gid]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    everything = await call(requests_of, client, status="open", start_date=yesterday)
    assert [r["service_request_id"] for r in everything] == [second["service_request_id"], gid]
    assert await call(requests_of, client, status="closed") == []
    results.append(("get_service_requests (filters)", "service_code, ids, status honoured"))

    async def handled() -> dict[str, Any] | None:
        view = await call(client.get_service_request, gid)
        return view if view["agency_responsible"] else None

    assigned = await eventually(handled)
    assert assigned["status_notes"] == "已转交承办单位 Passed to the responsible unit"
    assert W3C.fullmatch(assigned["expected_datetime"])
    async with httpx.AsyncClient(base_url=endpoint.removesuffix("/open311/v2")) as http:
        action = {
            "type": "resolve",
            "actor": {"id": "u-liangxin", "role": "member"},
            "resolution": "路灯已修好",
        }
        reply = await http.post(f"/v1/grievances/{gid}/actions", json=action, headers=FALLBACK_AUTH)
        assert reply.status_code == 202

    async def closed() -> list[dict[str, Any]]:
        return await call(requests_of, client, status="closed")

    (done,) = await eventually(closed)
    assert done["service_request_id"] == gid
    assert done["status_notes"] == "已办结 Resolved：路灯已修好"
    results.append(("get_service_requests status=closed", "the resolved report, plain notes"))

    with pytest.raises(requests.HTTPError) as unknown:
        await call(client.get_service_definition, "potholes")
    assert unknown.value.response.status_code == 404
    results.append(("get_service_definition('potholes')", "HTTPError 404, GeoReport errors"))
    print(f"\n{fmt}: " + "; ".join(f"{name} → {result}" for name, result in results))


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_georeport_errors_reach_the_client_in_the_spec_shape(
    endpoint: str, fmt: str, redis: Redis
) -> None:
    """A wrong api_key is a 403 and a bad filter a 400, each a GeoReport error list."""
    refused = await call(
        requests.post, f"{endpoint}/requests.{fmt}", data={"api_key": "nope"}, timeout=10
    )
    bad = await call(requests.get, f"{endpoint}/requests.{fmt}?status=pending", timeout=10)
    for reply, code in ((refused, 403), (bad, 400)):
        assert reply.status_code == code
        if fmt == "json":
            errors = reply.json()
        else:
            errors = as_list(xmltodict.parse(reply.content)["errors"]["error"])
        assert str(errors[0]["code"]) == str(code)
        assert errors[0]["description"]
    assert await redis.zcard(KEYS.open311_requests()) == 0
