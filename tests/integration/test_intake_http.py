"""The intake HTTP API on a real Redis: submit, idempotency, errors, auth, reads, actions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from tests.integration.intake_support import (
    AUTH,
    KEYS,
    MEMBER_AUTH,
    OVERSIGHT_AUTH,
    fixture_http,  # noqa: F401  (fixture used by name)
    fixture_intake_app,  # noqa: F401  (fixture used by name)
    grievance_body,
    submitted,
)

pytestmark = pytest.mark.integration


async def test_submit_returns_202_and_the_grievance_is_readable(
    http: httpx.AsyncClient, redis: Redis
) -> None:
    """A valid POST is 202 with id and tracking number, published once and readable by GET."""
    response = await http.post("/v1/grievances", json=grievance_body(), headers=AUTH)
    assert response.status_code == 202, response.text
    reply = response.json()
    assert reply["status"] == "submitted"
    assert (reply["replayed"], reply["linked_to"]) == (False, None)
    assert reply["tracking_no"].startswith("ZT-")
    published = await submitted(redis)
    assert [g["id"] for g in published] == [reply["id"]]
    assert published[0]["source"] == "demo-app"
    assert published[0]["channel"] == "http"
    assert published[0]["category"] == "road_access"
    assert "进不了小区" in published[0]["classification"]["category_reason"]

    for ref in (reply["id"], reply["tracking_no"]):
        read = await http.get(f"/v1/grievances/{ref}", headers=AUTH)
        assert read.status_code == 200, read.text
        view = read.json()
        assert view["id"] == reply["id"]
        assert view["tracking_no"] == reply["tracking_no"]
        assert "state" in view
        assert isinstance(view["timeline"], list)
        assert view["grievance"]["description"].startswith("小区保安")
        assert view["grievance"]["worker"]["name"] == "张三"


async def test_anonymous_grievance_hides_name_and_phone(http: httpx.AsyncClient) -> None:
    """An anonymous grievance read back never shows the worker's name or phone."""
    response = await http.post("/v1/grievances", json=grievance_body(anonymous=True), headers=AUTH)
    view = (await http.get(f"/v1/grievances/{response.json()['id']}", headers=AUTH)).json()
    worker = view["grievance"]["worker"]
    assert worker["id"] == "w-1001"
    assert (worker["name"], worker["phone"]) == (None, None)
    assert "张三" not in json.dumps(view, ensure_ascii=False)
    assert "13800138000" not in json.dumps(view)


async def test_repeat_with_the_same_key_returns_the_original(
    http: httpx.AsyncClient, redis: Redis
) -> None:
    """The same Idempotency-Key (header or field) returns 200 with the original grievance."""
    headers = {**AUTH, "Idempotency-Key": "order-1"}
    first = await http.post("/v1/grievances", json=grievance_body(), headers=headers)
    again = await http.post("/v1/grievances", json=grievance_body(), headers=headers)
    by_field = await http.post(
        "/v1/grievances", json=grievance_body(idempotency_key="order-1"), headers=AUTH
    )
    assert first.status_code == 202
    assert again.status_code == 200
    assert by_field.status_code == 200
    for repeat in (again, by_field):
        assert repeat.json()["id"] == first.json()["id"]
        assert repeat.json()["tracking_no"] == first.json()["tracking_no"]
        assert repeat.json()["replayed"] is True
    assert await redis.xlen(KEYS.submitted) == 1


async def test_three_concurrent_posts_with_one_key_make_one_grievance(
    http: httpx.AsyncClient, redis: Redis
) -> None:
    """Three concurrent POSTs with one key yield exactly one grievance on zt:submitted."""
    headers = {**AUTH, "Idempotency-Key": "tap-tap-tap"}
    responses = await asyncio.gather(
        *(http.post("/v1/grievances", json=grievance_body(), headers=headers) for _ in range(3))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 202]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await redis.xlen(KEYS.submitted) == 1


async def test_same_key_with_a_different_body_is_409(http: httpx.AsyncClient, redis: Redis) -> None:
    """Reusing a key for a different body is 409 with a message naming the key."""
    headers = {**AUTH, "Idempotency-Key": "k-409"}
    await http.post("/v1/grievances", json=grievance_body(), headers=headers)
    response = await http.post(
        "/v1/grievances", json=grievance_body(description="工资拖欠三个月"), headers=headers
    )
    assert response.status_code == 409
    assert "k-409" in response.json()["detail"]
    assert await redis.xlen(KEYS.submitted) == 1


async def test_invalid_body_is_422_with_field_paths_and_allowed_values(
    http: httpx.AsyncClient, redis: Redis
) -> None:
    """A body with several mistakes gets one 422 entry per field, with allowed enum values."""
    body = grievance_body(urgency="very", colour="red")
    del body["worker"]["id"]
    response = await http.post("/v1/grievances", json=body, headers=AUTH)
    assert response.status_code == 422
    detail = {e["field"]: e for e in response.json()["detail"]}
    assert set(detail) == {"worker.id", "urgency", "colour"}
    assert detail["worker.id"]["loc"] == ["body", "worker", "id"]
    assert detail["worker.id"]["type"] == "missing"
    assert detail["urgency"]["allowed"] == ["low", "normal", "high", "critical"]
    assert "Unknown field" in detail["colour"]["msg"]
    assert "13800138000" not in response.text
    assert await redis.xlen(KEYS.submitted) == 0


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (b"{not json", "application/json", 422),
        ("描述".encode(), "text/plain", 415),
        (b"\xff\xfe\x00", "application/json", 400),
        (b"[1, 2]", "application/json", 422),
        (b"", "application/json", 422),
        (b'{"worker": {"id": "w"}, "description": "' + b"x" * 70_000 + b'"}', None, 413),
    ],
)
async def test_malformed_requests_are_4xx_never_5xx(
    http: httpx.AsyncClient, content: bytes, content_type: str | None, expected: int
) -> None:
    """Non-JSON, wrong content type, bad UTF-8, non-objects and huge bodies are clear 4xx."""
    headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
    response = await http.post("/v1/grievances", content=content, headers=headers)
    assert response.status_code == expected, response.text
    assert response.json()["detail"]


async def test_a_worker_id_that_names_a_unit_is_422(http: httpx.AsyncClient, redis: Redis) -> None:
    """A worker id equal to a unit's id (the worker could never act on it) is refused."""
    body = grievance_body()
    body["worker"]["id"] = "b-zto-east"
    response = await http.post("/v1/grievances", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["field"] == "worker.id"
    assert "not of a worker" in error["msg"]
    assert await redis.xlen(KEYS.submitted) == 0


async def test_a_body_not_in_utf8_says_so(http: httpx.AsyncClient) -> None:
    """A GBK-encoded grievance (an older app's default) is refused with the reason, not a
    bare parse error, and nothing is accepted."""
    body = json.dumps(grievance_body(description="站点扣了我三天的工资"), ensure_ascii=False)
    headers = {**AUTH, "Content-Type": "application/json"}
    response = await http.post("/v1/grievances", content=body.encode("gbk"), headers=headers)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("body is not UTF-8 (invalid byte at position ")
    assert "GBK" in detail


async def test_description_over_5000_chars_is_422(http: httpx.AsyncClient) -> None:
    """Text length limits are enforced with the field path."""
    body = grievance_body(description="长" * 5001)
    response = await http.post("/v1/grievances", json=body, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "description"


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [(None, 401), ("Bearer wrong-key", 401), ("Basic zt-demo-key", 401)],
)
async def test_missing_or_unknown_key_is_401(
    http: httpx.AsyncClient, authorization: str | None, expected: int
) -> None:
    """No key, an unknown key or a non-Bearer scheme is 401 with WWW-Authenticate."""
    headers = {"Authorization": authorization} if authorization else {}
    response = await http.post("/v1/grievances", json=grievance_body(), headers=headers)
    assert response.status_code == expected
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_key_without_the_scope_is_403(
    redis_url: str, demo_config_path: object, redis: Redis
) -> None:
    """A read-only oversight key may read but not submit (403); health endpoints need no key."""
    from services.intake.app import build_app
    from services.intake.auth import hash_key
    from shared.config import ApiKey, load_config
    from tests.integration.intake_support import intake_settings

    config = load_config(demo_config_path)  # type: ignore[arg-type]
    reader = ApiKey(
        source="dashboard", holder="oversight", key_sha256=hash_key("read-only"), scopes=["read"]
    )
    config = config.model_copy(update={"api_keys": [*config.api_keys, reader]})
    app = build_app(intake_settings(redis_url, demo_config_path), config)  # type: ignore[arg-type]
    headers = {"Authorization": "Bearer read-only"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://i") as http,
    ):
        submit = await http.post("/v1/grievances", json=grievance_body(), headers=headers)
        assert submit.status_code == 403
        assert "submit" in submit.json()["detail"]
        accepted = await http.post("/v1/grievances", json=grievance_body(), headers=AUTH)
        view = await http.get(f"/v1/grievances/{accepted.json()['id']}", headers=headers)
        assert view.status_code == 200
        # Another source's reader never sees the worker's name or phone.
        assert view.json()["grievance"]["worker"]["name"] is None
        for path in ("/healthz", "/readyz", "/metrics", "/docs"):
            assert (await http.get(path)).status_code == 200


async def test_unknown_grievance_is_404(http: httpx.AsyncClient) -> None:
    """Reading or acting on an unknown id is 404."""
    assert (await http.get("/v1/grievances/nope", headers=AUTH)).status_code == 404
    action = {"type": "acknowledge", "actor": {"id": "m-wang", "role": "member"}}
    response = await http.post("/v1/grievances/nope/actions", json=action, headers=MEMBER_AUTH)
    assert response.status_code == 404


async def test_action_is_validated_and_queued(http: httpx.AsyncClient, redis: Redis) -> None:
    """A valid action is 202 and lands on zt:actions; an invalid one is 422."""
    gid = (await http.post("/v1/grievances", json=grievance_body(), headers=AUTH)).json()["id"]
    action = {"type": "withdraw", "actor": {"id": "w-1001", "role": "worker"}}
    response = await http.post(
        f"/v1/grievances/{gid}/actions", json=action, headers={**AUTH, "Idempotency-Key": "a1"}
    )
    assert response.status_code == 202, response.text
    assert response.json() == {
        "action_id": "demo-app:a1",
        "grievance_id": gid,
        "status": "queued",
    }
    entries = await redis.xrange(KEYS.actions)
    queued = json.loads(entries[0][1][b"payload"])
    assert queued["action_id"] == "demo-app:a1"
    assert queued["grievance_id"] == gid
    assert queued["source"] == "demo-app"
    bad = await http.post(
        f"/v1/grievances/{gid}/actions",
        json={"type": "approve", "actor": {"id": "x", "role": "boss"}},
        headers=AUTH,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["detail"]} == {"type", "actor.role"}


async def test_stats_counts_open_grievances_and_needs_a_key(http: httpx.AsyncClient) -> None:
    """GET /v1/stats needs an oversight key and counts submitted grievances as open."""
    assert (await http.get("/v1/stats")).status_code == 401
    assert (await http.get("/v1/stats", headers=AUTH)).status_code == 403
    for _ in range(2):
        await http.post("/v1/grievances", json=grievance_body(), headers=AUTH)
    stats = (await http.get("/v1/stats", headers=OVERSIGHT_AUTH)).json()
    assert stats["overall"]["total"] == 2
    assert stats["overall"]["open"] == 2
    assert stats["overall"]["resolution_rate"] == 0.0
    assert stats["by_state"] == {"submitted": 2}
    assert set(stats) == {"window", "overall", "by_unit", "by_tier", "by_state", "fallback_used"}


async def _chunks(body: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_chunked_body_is_limited_too(http: httpx.AsyncClient, redis: Redis) -> None:
    """Without Content-Length the limit is counted as the body streams in (413), and a
    chunked body within the limit is accepted like any other."""
    huge = b'{"worker": {"id": "w"}, "description": "' + b"x" * 70_000 + b'"}'
    response = await http.post("/v1/grievances", content=_chunks(huge), headers=AUTH)
    assert response.status_code == 413, response.text
    assert "limit" in response.json()["detail"]
    small = json.dumps(grievance_body(), ensure_ascii=False).encode()
    headers = {**AUTH, "Content-Type": "application/json"}
    response = await http.post("/v1/grievances", content=_chunks(small, 16), headers=headers)
    assert response.status_code == 202, response.text
    assert await redis.xlen(KEYS.submitted) == 1
