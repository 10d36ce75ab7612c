"""The demo/test webhook receiver (zhitong/receiver.py), driven in-process over ASGI."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from shared.webhooks import sign_headers
from zhitong.receiver import Receiver, one_line

SECRET = "whsec_ZGVtby1zZWNyZXQtZm9yLXpoaXRvbmctd2ViaG9va3M="
BODY = json.dumps(
    {
        "type": "grievance.assigned",
        "timestamp": "2026-11-23T06:00:00Z",
        "data": {"recipient": {"id": "worker:w-1"}, "locale": "zh-CN", "text": "您的诉求已收到"},
    },
    ensure_ascii=False,
).encode()


def client(rx: Receiver) -> httpx.AsyncClient:
    """Return an HTTP client wired straight to the receiver app."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=rx.app), base_url="http://rx")


async def test_verified_delivery_is_recorded_and_appended(tmp_path: Path) -> None:
    """A correctly signed POST is answered 200, kept in memory and written as a JSON line."""
    rx = Receiver([SECRET], tmp_path / "deliveries.jsonl")
    async with client(rx) as http:
        response = await http.post(
            "/hooks", content=BODY, headers=sign_headers([SECRET], "m1", BODY)
        )
    assert response.status_code == 200
    assert rx.texts("worker:w-1") == ["您的诉求已收到"]
    (line,) = (tmp_path / "deliveries.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["webhook_id"] == "m1"


async def test_tampered_body_is_refused_with_the_reason() -> None:
    """A body changed after signing gets 401 with the verification error."""
    rx = Receiver([SECRET])
    headers = sign_headers([SECRET], "m1", BODY)
    async with client(rx) as http:
        response = await http.post("/hooks", content=BODY + b" ", headers=headers)
    assert response.status_code == 401
    assert "no signature matches" in response.json()["error"]
    assert rx.deliveries == []


async def test_stale_timestamp_is_refused() -> None:
    """A delivery signed ten minutes ago is refused as a possible replay."""
    rx = Receiver([SECRET])
    headers = sign_headers([SECRET], "m1", BODY, timestamp=1_000_000_000)
    async with client(rx) as http:
        response = await http.post("/hooks", content=BODY, headers=headers)
    assert response.status_code == 401
    assert "old" in response.json()["error"]


async def test_repeated_webhook_id_is_counted_not_recorded() -> None:
    """A retried message (same webhook-id) is acknowledged but recorded once."""
    rx = Receiver([SECRET])
    async with client(rx) as http:
        for _ in range(2):
            headers = sign_headers([SECRET], "m1", BODY)
            assert (await http.post("/hooks", content=BODY, headers=headers)).status_code == 200
    assert len(rx.deliveries) == 1
    assert rx.duplicates == 1


async def test_scripted_failures_come_first() -> None:
    """fail_next(500) answers 500 once, then deliveries are accepted again."""
    rx = Receiver([SECRET])
    rx.fail_next(500)
    async with client(rx) as http:
        statuses = [
            (
                await http.post("/hooks", content=BODY, headers=sign_headers([SECRET], "m", BODY))
            ).status_code
            for _ in range(2)
        ]
    assert statuses == [500, 200]


def test_one_line_shows_type_recipient_and_text() -> None:
    """The printed line tells a person what arrived for whom."""
    record = json.loads(BODY)
    assert one_line(record) == "✔ grievance.assigned → worker:w-1 [zh-CN] 您的诉求已收到"
