"""Routing rules and directory validation (pure)."""

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


def test_demo_directory_is_valid(config: Config) -> None:
    """The shipped demo configuration passes every cross-reference check."""
    assert directory.validate(config) == []


def test_validate_explains_every_error(config: Config) -> None:
    """Unknown departments, duplicate ids, empty branches, overlaps and bad SLAs are named."""
    raw = config.model_dump(mode="json")
    express = raw["directory"]["committees"][0]
    express["departments"]["wages"] = ["d-nowhere"]
    express["branches"][1]["members"] = []
    express["branches"].append({**express["branches"][0], "id": "m-wang"})
    raw["sla"]["urgency"]["normal"]["member"] = {"ack": "3d", "resolve": "4h"}
    errors = directory.validate(Config.model_validate(raw))
    text = "\n".join(errors)
    assert "unknown department 'd-nowhere'" in text
    assert "branch 'b-express-west' has no members" in text
    assert "duplicate id 'm-wang'" in text
    assert "have the same match rules" in text
    assert "ack (3 days, 0:00:00) is longer than resolve (4:00:00)" in text


def test_undefined_webhook_endpoint_is_reported(config: Config) -> None:
    """A channel naming a webhook that channels.webhooks lacks is an error."""
    raw = config.model_dump(mode="json")
    raw["directory"]["oversight"]["channels"] = [{"type": "webhook", "endpoint": "nope"}]
    errors = directory.validate(Config.model_validate(raw))
    assert any("webhook endpoint 'nope'" in e for e in errors)


def test_departments_for_category(config: Config) -> None:
    """The committee refers road access to traffic police and the street office."""
    assert directory.departments_for(config, "c-express", Category.ROAD_ACCESS) == [
        "d-traffic-police", "d-street-office",
    ]  # fmt: skip
