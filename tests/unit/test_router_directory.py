"""Routing rules over the directory (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.router import directory
from shared.config import Config, load_config
from shared.events import Category, Classification, Grievance, Industry, Urgency, Worker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(name="config")
def fixture_config() -> Config:
    return load_config(ROOT / "config" / "demo.yaml")


def _grievance(**worker: object) -> Grievance:
    return Grievance(
        id="g1", tracking_no="ZT-1", source="t", channel="http",
        submitted_at=datetime.now(UTC), worker=Worker(id="w", **worker),
        category=Category.WAGES, urgency=Urgency.NORMAL,
        classification=Classification(category_reason="x", urgency_reason="x"),
        description="拖欠工资",
    )  # fmt: skip


def test_branch_by_platform_and_region(config: Config) -> None:
    """A 中通 courier in 城东区 goes to that branch's members, then branch, then committee."""
    route = directory.route(
        config, _grievance(industry=Industry.EXPRESS_DELIVERY, platform="中通", region="城东区")
    )
    assert [c.unit for c in route.candidates] == ["m-wang", "m-li"]
    assert (route.branch.unit, route.committee.unit) == ("b-zto-east", "c-express")


def test_station_match_for_truck_drivers(config: Config) -> None:
    """A truck driver at the service-area station is routed to the drivers' home branch."""
    route = directory.route(config, _grievance(industry=Industry.TRUCKING, station="接驾嘴服务区"))
    assert route.branch.unit == "b-drivers-home"
    assert route.committee.unit == "c-transport"


def test_unmatched_industry_goes_to_fallback(config: Config) -> None:
    """Nothing matches: every tier is the fallback unit, never lost."""
    route = directory.route(config, _grievance(industry=Industry.OTHER))
    assert {route.candidates[0].unit, route.branch.unit, route.committee.unit} == {"u-liangxin"}
    assert "fallback" in route.note


def test_committee_without_matching_branch_keeps_committee_on_top(config: Config) -> None:
    """A courier of an unknown platform and region: fallback first, the committee at tier 3."""
    route = directory.route(
        config, _grievance(industry=Industry.EXPRESS_DELIVERY, platform="某平台", region="外区")
    )
    assert route.branch.unit == "u-liangxin"
    assert route.committee.unit == "c-express"


def test_departments_for_category(config: Config) -> None:
    """The committee refers road access to traffic police and the street office."""
    assert directory.departments_for(config, "c-express", Category.ROAD_ACCESS) == [
        "d-traffic-police", "d-street-office",
    ]  # fmt: skip
