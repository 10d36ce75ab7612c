"""Shared fixtures for the intake integration tests: a running app and an HTTP client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from services.intake.app import build_app
from shared.settings import IntakeSettings
from shared.streams import Keys

DEMO_KEY = "zt-demo-key"
AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}
# The demo unit and oversight keys of config/demo.yaml (README, "Security").
MEMBER_AUTH = {"Authorization": "Bearer zt-demo-member-key"}  # m-wang
BRANCH_AUTH = {"Authorization": "Bearer zt-demo-branch-key"}  # b-zto-east and its members
COMMITTEE_AUTH = {"Authorization": "Bearer zt-demo-committee-key"}  # c-express and below
FALLBACK_AUTH = {"Authorization": "Bearer zt-demo-fallback-key"}  # u-liangxin
OVERSIGHT_AUTH = {"Authorization": "Bearer zt-demo-oversight-key"}
KEYS = Keys()


def grievance_body(**overrides: Any) -> dict[str, Any]:
    """Return a valid submission body (a courier barred from a compound)."""
    body: dict[str, Any] = {
        "worker": {
            "id": "w-1001",
            "name": "张三",
            "phone": "13800138000",
            "industry": "express_delivery",
            "platform": "中通",
            "region": "城东区",
        },
        "description": "小区保安不让电动车进，快递员进不了小区送件",
    }
    body.update(overrides)
    return body


def intake_settings(redis_url: str, config: Path, **overrides: Any) -> IntakeSettings:
    """Return settings for a fast test: short polls and a quick reclaimer."""
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "config": config,
        "poll_ms": 20,
        "reclaim_idle_ms": 300,
        "max_records": 10,
        "consumer_name": "intake-test",
    }
    values.update(overrides)
    return IntakeSettings(**values)


@pytest.fixture(name="intake_app")
async def fixture_intake_app(redis_url: str, demo_config_path: Path) -> AsyncIterator[FastAPI]:
    """Return a running intake app (broker started) on the test Redis."""
    app = build_app(intake_settings(redis_url, demo_config_path))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(name="http")
async def fixture_http(intake_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Return an HTTP client talking to the running intake app in-process."""
    transport = httpx.ASGITransport(app=intake_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield client


async def submitted(redis: Redis) -> list[dict[str, Any]]:
    """Return every grievance published on ``zt:submitted``."""
    entries = await redis.xrange(KEYS.submitted)
    return [json.loads(fields[b"payload"]) for _, fields in entries]


async def rejected(redis: Redis) -> list[dict[str, Any]]:
    """Return every record on ``zt:intake.rejected``."""
    entries = await redis.xrange(KEYS.intake_rejected)
    return [json.loads(fields[b"payload"]) for _, fields in entries]
