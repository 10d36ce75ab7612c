"""Open311 GeoReport v2 facade and civic duplicate linking, on a real Redis."""

from __future__ import annotations

from typing import Any

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
    """Bad key → 403, no location → 400, unknown service → 400, unknown id → 404."""
    cases = [
        (report(api_key="nope"), 403),
        ({k: v for k, v in report().items() if k not in {"lat", "long"}}, 400),
        (report(service_code="potholes"), 400),
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
        assert grievance["assignee"] == "u-liangxin"
        assert view["agency_responsible"] == "两新工委值班室"
        assignee = {"id": grievance["assignee"], "role": "member"}
        resolve = {"type": "resolve", "actor": assignee, "resolution": "已通知自来水公司抢修完毕"}
        response = await http.post(
            f"/v1/grievances/{request_id}/actions", json=resolve, headers=FALLBACK_AUTH
        )
        assert response.status_code == 202

        async def closed() -> dict[str, Any] | None:
            view = (await http.get(f"/open311/v2/requests/{request_id}.json")).json()[0]
            return view if view["status"] == "closed" else None

        view = await eventually(closed)
        assert view["status_notes"] == "已通知自来水公司抢修完毕"


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
    assert "duplicate" not in far.json()[0]["service_notice"]
    assert "duplicate" not in other_kind.json()[0]["service_notice"]
    private = await http.get(f"/open311/v2/requests/{near.json()['id']}.json")
    assert private.status_code == 404
    public = await http.post(
        "/open311/v2/requests.json", data=report(lat=str(PIPE["lat"] - 0.00018))
    )
    assert "duplicate" in public.json()[0]["service_notice"]
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
