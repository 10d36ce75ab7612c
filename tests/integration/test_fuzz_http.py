"""Fuzz intake's HTTP API with hypothesis: whatever a client sends, never a 5xx.

The in-process app runs on the test Redis; each test counts the inputs it really sent, so
the suite's "≥ 10,000 inputs across HTTP and stream" is checked, not assumed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.intake.app import build_app
from shared.config import load_config
from shared.settings import IntakeSettings
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

AUTH = {"Authorization": "Bearer zt-demo-key"}
FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
VALID_WORKER = {
    "id": "w-fuzz",
    "name": "测试",
    "phone": "13800000000",
    "industry": "express_delivery",
    "platform": "中通",
    "region": "城东区",
}
VALID_GRIEVANCE: dict[str, Any] = {
    "worker": VALID_WORKER,
    "description": "小区物业禁止快递员进入",
    "category": "road_access",
    "urgency": "normal",
    "title": "进不了小区",
    "location": {"lat": 30.0, "lon": 120.0, "address": "城东区"},
    "attachments": ["https://example.com/a.jpg"],
    "occurred_at": "2026-01-01T08:00:00+08:00",
    "locale": "zh-CN",
    "anonymous": False,
}
# The demo app key speaks only for the worker of what it filed (README, "Security").
VALID_ACTION: dict[str, Any] = {
    "type": "add_note",
    "actor": {"id": "w-fuzz", "role": "worker"},
    "note": "收到",
    "rating": 3,
    # Within the one-year bound on extensions, whenever the test runs.
    "new_deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    "departments": ["d-hrss"],
}
WORKER_FIELDS = [*VALID_WORKER, "unknown_field"]


@st.composite
def near_valid(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with a few fields dropped, replaced or added (often still valid)."""
    body = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from([*base, "worker.x", "unknown", "idempotency_key"]))
        action = draw(st.sampled_from(["drop", "replace", "text"]))
        if field.startswith("worker.") and isinstance(body.get("worker"), dict):
            sub = draw(st.sampled_from(WORKER_FIELDS))
            body["worker"][sub] = draw(json_values if action == "replace" else st.text())
        elif action == "drop":
            body.pop(field, None)
        else:
            body[field] = draw(json_values if action == "replace" else st.text(max_size=300))
    return body


header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=250)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/merge-patch+json",
        "",
    ]
)


@pytest.fixture(name="client", scope="module")
def fixture_client(redis_server_url: str) -> Iterator[TestClient]:
    """Return a client on the in-process intake app (stream consumer running too)."""
    settings_ = IntakeSettings(redis_url=redis_server_url, consumer_name="intake-fuzz-http")
    app = build_app(settings_, load_config(ROOT / "config" / "demo.yaml"))
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


def _ok(statuses: Counter[int], code: int, what: str) -> None:
    statuses[code] += 1
    assert code < 500, f"{code} for {what}"


def test_fuzz_submit_json_bodies_never_5xx(client: TestClient) -> None:
    """2,500 near-valid and arbitrary JSON grievance bodies: each answered 2xx/4xx."""
    statuses: Counter[int] = Counter()

    @settings(FUZZ, max_examples=2500)
    @given(
        body=st.one_of(near_valid(VALID_GRIEVANCE), json_values),
        key=st.none() | header_text,
    )
    def probe(body: Any, key: str | None) -> None:
        headers = {**AUTH, **({"Idempotency-Key": key} if key is not None else {})}
        reply = client.post("/v1/grievances", json=body, headers=headers)
        _ok(statuses, reply.status_code, json.dumps(body, ensure_ascii=False)[:300])
        if reply.status_code == 422:
            assert reply.json()["detail"], reply.text

    probe()
    assert statuses.total() >= 2500
    assert statuses[202], statuses
    assert statuses[422], statuses


def test_fuzz_submit_raw_bytes_never_5xx(client: TestClient) -> None:
    """1,000 raw bodies (not UTF-8, not JSON, any content type): each answered 4xx or 2xx."""
    statuses: Counter[int] = Counter()

    @settings(FUZZ, max_examples=1000)
    @given(
        body=st.binary(max_size=400) | st.text(max_size=400).map(str.encode),
        content_type=content_types,
    )
    def probe(body: bytes, content_type: str) -> None:
        headers = {**AUTH, "Content-Type": content_type} if content_type else AUTH
        reply = client.post("/v1/grievances", content=body, headers=headers)
        _ok(statuses, reply.status_code, repr(body[:200]))

    probe()
    assert statuses.total() >= 1000


def test_fuzz_actions_and_reads_never_5xx(client: TestClient) -> None:
    """1,500 actions and reads on arbitrary and real grievance ids: each answered 2xx/4xx."""
    real = client.post("/v1/grievances", json=VALID_GRIEVANCE, headers=AUTH).json()["id"]
    statuses: Counter[int] = Counter()

    @settings(FUZZ, max_examples=1500)
    @given(
        gid=st.just(real) | st.text(min_size=1, max_size=80),
        body=st.one_of(near_valid(VALID_ACTION), json_values),
        read=st.booleans(),
    )
    def probe(gid: str, body: Any, read: bool) -> None:
        path = f"/v1/grievances/{quote(gid, safe='')}"
        if read:
            reply = client.get(path, headers=AUTH)
        else:
            reply = client.post(f"{path}/actions", json=body, headers=AUTH)
        _ok(statuses, reply.status_code, f"{gid!r} {body!r}"[:300])

    probe()
    assert statuses.total() >= 1500
    assert statuses[202], statuses


def test_fuzz_open311_requests_never_5xx(client: TestClient) -> None:
    """1,000 GeoReport form posts (any fields, any values): each answered 2xx/4xx."""
    fields = [
        "api_key",
        "service_code",
        "lat",
        "long",
        "address_string",
        "description",
        "email",
        "first_name",
        "phone",
        "media_url",
        "device_id",
        "account_id",
    ]
    statuses: Counter[int] = Counter()

    @settings(FUZZ, max_examples=1000)
    @given(
        form=st.dictionaries(
            st.sampled_from(fields) | st.text(max_size=10), st.text(max_size=60), max_size=8
        ),
        service=st.sampled_from(["public_facility", "sanitation", "wages", "nope"]),
    )
    def probe(form: dict[str, str], service: str) -> None:
        data = {"api_key": "zt-demo-key", "service_code": service, **form}
        reply = client.post("/open311/v2/requests.json", data=data)
        _ok(statuses, reply.status_code, repr(data)[:300])

    probe()
    assert statuses.total() >= 1000
