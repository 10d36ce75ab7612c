"""Open311 GeoReport v2 facade and civic duplicate linking, on a real Redis."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from redis.asyncio import Redis

from tests.helpers import eventually
from tests.integration.intake_support import (
    AUTH,
    DEMO_KEY,
    FALLBACK_AUTH,
    KEYS,
    fixture_http,  # noqa: F401  (fixture used by name)
    fixture_intake_app,  # noqa: F401  (fixture used by name)
    grievance_body,
)
from tests.integration.router_support import fast_config, running_router

pytestmark = pytest.mark.integration

PIPE = {"lat": 36.0611, "lon": 103.8343, "address": "兰州市城关区解放路"}
W3C = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def report(**overrides: Any) -> dict[str, str]:
    """Return a GeoReport form for a burst water pipe."""
    form = {
        "api_key": DEMO_KEY,
        "service_code": "public_facility",
        "lat": str(PIPE["lat"]),
        "long": str(PIPE["lon"]),
        "description": "解放路水管爆裂，路面全是水",
        "media_url": "https://example.org/pipe.jpg",
        "first_name": "李",
        "phone": "13900139000",
    }
    form.update(overrides)
    return form


async def test_services_lists_every_category(http: httpx.AsyncClient) -> None:
    """services.json lists the 18 categories as services, civic ones first."""
    response = await http.get("/open311/v2/services.json")
    services = response.json()
    assert len(services) == 18
    assert services[0]["group"] == "civic"
    assert {"service_code", "service_name", "metadata", "type"} <= set(services[0])


async def test_request_errors_use_the_georeport_shape(http: httpx.AsyncClient) -> None:
    """Bad key → 403, no location → 400, unknown service → 404 (as the spec says), id → 404."""
    cases = [
        (report(api_key="nope"), 403),
        ({k: v for k, v in report().items() if k not in {"lat", "long"}}, 400),
        (report(service_code="potholes"), 404),
    ]
    for form, code in cases:
        response = await http.post("/open311/v2/requests.json", data=form)
        assert response.status_code == code, response.text
        assert response.json()[0]["code"] == code
    unknown = await http.get("/open311/v2/requests/nope.json")
    assert unknown.status_code == 404


async def test_open311_round_trip_file_poll_and_see_it_closed(
    http: httpx.AsyncClient, redis_url: str, redis: Redis
) -> None:
    """A 311 client files a report, polls it open, and sees it closed once resolved."""
    async with running_router(redis_url, fast_config(ack=60, resolve=600)):
        filed = await http.post("/open311/v2/requests.json", data=report())
        assert filed.status_code == 200, filed.text
        request_id = filed.json()[0]["service_request_id"]
        assert "ZT-" in filed.json()[0]["service_notice"]

        async def assigned() -> dict[str, Any] | None:
            view = (await http.get(f"/open311/v2/requests/{request_id}.json")).json()[0]
            return view if view["agency_responsible"] else None

        view = await eventually(assigned)
        assert view["status"] == "open"
        assert view["service_code"] == "public_facility"
        assert view["expected_datetime"]
        assert "13900139000" not in str(view)
        grievance = (await http.get(f"/v1/grievances/{request_id}", headers=AUTH)).json()
        # A report of no industry matches no committee: the fallback duty office holds it.
        assert grievance["assignee"]["id"] == "u-liangxin"
        assert view["agency_responsible"] == "两新工委值班室"
        assignee = {"id": grievance["assignee"]["id"], "role": "member"}
        resolve = {"type": "resolve", "actor": assignee, "resolution": "已通知自来水公司抢修完毕"}
        response = await http.post(
            f"/v1/grievances/{request_id}/actions", json=resolve, headers=FALLBACK_AUTH
        )
        assert response.status_code == 202

        async def closed() -> dict[str, Any] | None:
            view = (await http.get(f"/open311/v2/requests/{request_id}.json")).json()[0]
            return view if view["status"] == "closed" else None

        view = await eventually(closed)
        assert view["status_notes"] == "已办结 Resolved：已通知自来水公司抢修完毕"
        assert W3C.fullmatch(view["updated_datetime"])
        assert view["updated_datetime"] >= view["requested_datetime"]


async def test_nearby_civic_report_is_linked_as_a_duplicate(
    http: httpx.AsyncClient, redis: Redis
) -> None:
    """A report 20 m from an open one of the same category is linked; others are not.

    The HTTP-filed duplicate stays private (404 over Open311); an Open311 one shows the link.
    """
    first = await http.post("/open311/v2/requests.json", data=report())
    original = first.json()[0]["service_request_id"]
    near = await http.post(
        "/v1/grievances",
        json=grievance_body(
            category="public_facility",
            description="解放路有水管漏水",
            location={"lat": PIPE["lat"] + 0.00018, "lon": PIPE["lon"]},
        ),
        headers=AUTH,
    )
    assert near.json()["duplicate_of"] == original
    far = await http.post("/open311/v2/requests.json", data=report(lat=str(PIPE["lat"] + 0.01)))
    other_kind = await http.post(
        "/open311/v2/requests.json", data=report(service_code="sanitation")
    )
    assert "already being handled" not in far.json()[0]["service_notice"]
    assert "already being handled" not in other_kind.json()[0]["service_notice"]
    private = await http.get(f"/open311/v2/requests/{near.json()['id']}.json")
    assert private.status_code == 404
    public = await http.post(
        "/open311/v2/requests.json", data=report(lat=str(PIPE["lat"] - 0.00018))
    )
    assert "already being handled" in public.json()[0]["service_notice"]
    view = await http.get(f"/open311/v2/requests/{public.json()[0]['service_request_id']}.json")
    assert view.json()[0]["duplicate_of"] == original
    assert await redis.xlen(KEYS.submitted) == 5


async def test_worker_grievances_are_not_public_over_open311(
    http: httpx.AsyncClient,
) -> None:
    """A non-civic HTTP grievance cannot be polled without a key through Open311."""
    body = grievance_body(description="老板拖欠工资三个月")
    gid = (await http.post("/v1/grievances", json=body, headers=AUTH)).json()["id"]
    assert (await http.get(f"/open311/v2/requests/{gid}.json")).status_code == 404


# --- the rest of GeoReport v2: definitions, XML, attributes, the list ----------------------


def xml_items(response: httpx.Response, item: str) -> list[dict[str, str | None]]:
    """Return the ``<item>`` children of a GeoReport XML document as flat dicts."""
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(response.content)
    return [{child.tag: child.text for child in element} for element in root.iter(item)]


async def test_every_service_has_a_definition_in_both_formats(http: httpx.AsyncClient) -> None:
    """services/{code} answers for all 18; metadata says which have attributes; unknown → 404."""
    services = (await http.get("/open311/v2/services.json")).json()
    for service in services:
        code = service["service_code"]
        definition = (await http.get(f"/open311/v2/services/{code}.json")).json()
        assert definition["service_code"] == code
        assert service["metadata"] is bool(definition["attributes"])
        xml = await http.get(f"/open311/v2/services/{code}.xml")
        assert ET.fromstring(xml.content).findtext("service_code") == code
    facility = (await http.get("/open311/v2/services/public_facility.json")).json()
    assert [a["code"] for a in facility["attributes"]] == ["where_exactly", "photo_url"]
    assert (await http.get("/open311/v2/services/wages.json")).json()["attributes"] == []
    unknown = await http.get("/open311/v2/services/potholes.xml")
    assert unknown.status_code == 404
    assert xml_items(unknown, "error") == [
        {"code": "404", "description": "service_code 'potholes' was not found"}
    ]


async def test_xml_mirrors_json_for_services_and_filing(http: httpx.AsyncClient) -> None:
    """services.xml lists what services.json does; POST requests.xml answers in XML, errors too."""
    as_json = (await http.get("/open311/v2/services.json?jurisdiction_id=zhitong.cn")).json()
    as_xml = xml_items(await http.get("/open311/v2/services.xml"), "service")
    assert [s["service_code"] for s in as_xml] == [s["service_code"] for s in as_json]
    assert as_xml[0]["metadata"] == "true"
    filed = await http.post("/open311/v2/requests.xml", data=report())
    (created,) = xml_items(filed, "request")
    assert created["service_request_id"]
    assert created["account_id"] is None
    assert "受理编号" in str(created["service_notice"])
    refused = await http.post("/open311/v2/requests.xml", data=report(api_key="nope"))
    assert refused.status_code == 403
    assert xml_items(refused, "error")[0]["code"] == "403"


async def test_attributes_join_the_address_and_the_photos(http: httpx.AsyncClient) -> None:
    """attribute[where_exactly] joins the address, [photo_url] the photos; unknown → 400."""
    form = report(
        address_string="解放路12号",
        **{"attribute[where_exactly]": "东门路灯下", "attribute[photo_url]": "https://e.org/2.jpg"},
    )
    filed = await http.post("/open311/v2/requests.json", data=form)
    gid = filed.json()[0]["service_request_id"]
    grievance = (await http.get(f"/v1/grievances/{gid}", headers=AUTH)).json()["grievance"]
    assert grievance["location"]["address"] == "解放路12号（东门路灯下）"
    assert grievance["attachments"] == ["https://example.org/pipe.jpg", "https://e.org/2.jpg"]
    view = (await http.get(f"/open311/v2/requests/{gid}.json")).json()[0]
    assert view["media_url"] == "https://example.org/pipe.jpg"
    as_json = {**report(), "attribute": {"where_exactly": "西门"}, "lat": 25.0}
    filed = await http.post("/open311/v2/requests.json", json=as_json)
    gid = filed.json()[0]["service_request_id"]
    grievance = (await http.get(f"/v1/grievances/{gid}", headers=AUTH)).json()["grievance"]
    assert grievance["location"]["address"] == "西门"
    wrong = await http.post(
        "/open311/v2/requests.json",
        data=report(**{"attribute[where_exactly]": "x"}, service_code="wages"),
    )
    assert wrong.status_code == 400
    assert "where_exactly" in wrong.json()[0]["description"]


async def test_list_shows_only_public_reports_masked_and_rounded(http: httpx.AsyncClient) -> None:
    """requests.json lists Open311 reports newest first; HTTP-filed ones never appear."""
    ids = []
    for code in ("public_facility", "sanitation", "traffic_order"):
        filed = await http.post(
            "/open311/v2/requests.json",
            data=report(service_code=code, description="联系我13900139000", lat=str(30 + len(ids))),
        )
        ids.append(filed.json()[0]["service_request_id"])
    civic = grievance_body(category="sanitation", location={"lat": 31.0, "lon": 120.0})
    private = (await http.post("/v1/grievances", json=civic, headers=AUTH)).json()["id"]
    listed = await http.get("/open311/v2/requests.json")
    assert listed.status_code == 200
    views = listed.json()
    assert [v["service_request_id"] for v in views] == ids[::-1]
    assert private not in listed.text
    assert "13900139000" not in listed.text
    assert all(v["long"] == 103.834 and W3C.fullmatch(v["requested_datetime"]) for v in views)
    assert all("duplicate_of" not in v for v in views)


async def test_list_filters_as_the_spec_defines_them(http: httpx.AsyncClient, redis: Redis) -> None:
    """service_code, status, dates and service_request_id (ids or tracking numbers) filter."""
    filed = {}
    for code in ("public_facility", "sanitation", "safety_hazard"):
        reply = await http.post(
            "/open311/v2/requests.json", data=report(service_code=code, lat="25.0")
        )
        filed[code] = reply.json()[0]["service_request_id"]
    # The sanitation report is resolved: its status is closed.
    await redis.hset(KEYS.grievance(filed["sanitation"]), "state", "resolved")

    async def listed(query: str) -> list[str]:
        reply = await http.get(f"/open311/v2/requests.json?{query}")
        assert reply.status_code == 200, reply.text
        return [v["service_request_id"] for v in reply.json()]

    assert await listed("service_code=sanitation,safety_hazard") == [
        filed["safety_hazard"],
        filed["sanitation"],
    ]
    assert await listed("service_code=sanitation&service_code=public_facility") == [
        filed["sanitation"],
        filed["public_facility"],
    ]
    assert await listed("status=closed") == [filed["sanitation"]]
    assert await listed("status=open&service_code=sanitation") == []
    assert len(await listed("status=open,closed&jurisdiction_id=zhitong.cn")) == 3
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert await listed(f"start_date={tomorrow}") == []
    assert await listed("end_date=2026-01-01T00:00:00%2B08:00") == []
    assert len(await listed("start_date=&end_date=&status=")) == 3  # empty means absent
    tracking = await redis.hget(KEYS.grievance(filed["sanitation"]), "tracking_no")
    assert tracking is not None
    wanted = f"{filed['public_facility']},{tracking.decode()},nope&status=closed"
    # service_request_id overrides every other filter, and keeps the order asked for.
    assert await listed(f"service_request_id={wanted}") == [
        filed["public_facility"],
        filed["sanitation"],
    ]


async def test_list_refuses_what_it_cannot_read_with_400(http: httpx.AsyncClient) -> None:
    """A wider-than-90-day range, a reversed one, a zone-less time, bad status or code → 400."""
    for query in (
        "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
        "start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
        "start_date=2026-01-01T00:00:00",
        "start_date=yesterday",
        "status=pending",
        "service_code=potholes",
    ):
        for fmt in ("json", "xml"):
            reply = await http.get(f"/open311/v2/requests.{fmt}?{query}")
            assert reply.status_code == 400, (query, reply.text)
            assert "400" in reply.text
    assert (await http.get("/open311/v2/requests/nope.xml")).status_code == 404


async def test_a_public_report_is_listed_by_the_step_that_accepts_it(
    http: httpx.AsyncClient, redis: Redis
) -> None:
    """accept.lua lists a public report as it stores it; a retry lists nothing twice."""
    headers = {"Idempotency-Key": "pipe-1"}
    filed = await http.post("/open311/v2/requests.json", data=report(), headers=headers)
    gid = filed.json()[0]["service_request_id"]
    submitted = await redis.hget(KEYS.grievance(gid), "submitted_at")
    assert submitted is not None
    for listing in (KEYS.open311_requests(), KEYS.open311_requests("public_facility")):
        assert await redis.zscore(listing, gid) == float(submitted)
    again = await http.post("/open311/v2/requests.json", data=report(), headers=headers)
    assert again.json()[0]["service_request_id"] == gid
    assert await redis.zcard(KEYS.open311_requests()) == 1
