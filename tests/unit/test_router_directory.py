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
        id="g1",
        tracking_no="ZT-1",
        source="t",
        channel="http",
        submitted_at=datetime.now(UTC),
        worker=Worker(id="w", **worker),
        category=Category.WAGES,
        urgency=Urgency.NORMAL,
        classification=Classification(category_reason="x", urgency_reason="x"),
        description="拖欠工资",
    )


def test_branch_by_platform_and_region(config: Config) -> None:
    """A 中通 courier in 城东区 goes to that branch's members, then branch, then committee."""
    route = directory.route(
        config, _grievance(industry=Industry.EXPRESS_DELIVERY, platform="中通", region="城东区")
    )
    assert [c.unit for c in route.candidates] == ["m-wang", "m-li"]
    assert [u.unit for u in route.upper] == ["b-zto-east", "c-express"]


def test_station_match_for_truck_drivers(config: Config) -> None:
    """A truck driver at the service-area station is routed to the drivers' home branch."""
    route = directory.route(config, _grievance(industry=Industry.TRUCKING, station="接驾嘴服务区"))
    assert [u.unit for u in route.upper] == ["b-drivers-home", "c-transport"]


def test_member_branch_committee_is_three_distinct_tiers(config: Config) -> None:
    """A matched branch with members starts at tier 1; branch and committee follow at 2 and 3."""
    route = directory.route(
        config, _grievance(industry=Industry.EXPRESS_DELIVERY, platform="中通", region="城东区")
    )
    assert route.first_tier == 1
    assert [(t["tier"], t["unit"]) for t in route.links()] == [(2, "b-zto-east"), (3, "c-express")]


def test_unmatched_industry_is_the_fallback_alone_at_the_top_tier(config: Config) -> None:
    """Nothing matches: the fallback unit is the whole chain, at tier 3 at once (never lost)."""
    route = directory.route(config, _grievance(industry=Industry.OTHER))
    assert [c.unit for c in route.candidates] == ["u-liangxin"]
    assert (route.first_tier, route.links()) == (3, [])
    assert "fallback" in route.note


def test_committee_without_matching_branch_starts_at_the_branch_tier(config: Config) -> None:
    """An unknown platform and region: the fallback at tier 2, the committee above it at 3."""
    route = directory.route(
        config, _grievance(industry=Industry.EXPRESS_DELIVERY, platform="某平台", region="外区")
    )
    assert [c.unit for c in route.candidates] == ["u-liangxin"]
    assert route.first_tier == 2
    assert route.links() == [
        {"tier": 3, "unit": "c-express", "name": "区快递行业党委", "kind": "committee"}
    ]


def test_branch_without_members_starts_at_the_branch_tier(config: Config) -> None:
    """A branch with no members holds tier 2 itself; the committee is tier 3."""
    raw = config.model_dump(mode="json")
    raw["directory"]["committees"][0]["branches"][1]["members"] = []
    route = directory.route(
        Config.model_validate(raw), _grievance(industry=Industry.EXPRESS_DELIVERY, region="城西区")
    )
    assert ([c.unit for c in route.candidates], route.first_tier) == (["b-express-west"], 2)
    assert [t["unit"] for t in route.links()] == ["c-express"]


@pytest.mark.parametrize(
    "worker",
    [
        {"industry": Industry.OTHER},
        {"industry": Industry.EXPRESS_DELIVERY, "platform": "某平台", "region": "外区"},
        {"industry": Industry.EXPRESS_DELIVERY, "platform": "中通", "region": "城东区"},
        {"industry": Industry.RIDE_HAILING, "platform": "犇犇约车"},
    ],
)
def test_a_chain_never_repeats_a_unit_and_ends_at_the_top(
    config: Config, worker: dict[str, object]
) -> None:
    """Candidates and the tiers above them name each unit once, the last at tier 3."""
    route = directory.route(config, _grievance(**worker))
    units = [c.unit for c in route.candidates] + [str(t["unit"]) for t in route.links()]
    assert len(units) == len(set(units))
    tiers = [route.first_tier] + [int(str(t["tier"])) for t in route.links()]
    assert tiers == list(range(route.first_tier, directory.TOP_TIER + 1))


def test_route_refuses_a_repeated_unit() -> None:
    """A route naming one unit twice cannot be built (it would escalate a unit to itself)."""
    unit = directory.Link("u-1", "U", "fallback")
    with pytest.raises(ValueError, match="distinct units"):
        directory.Route((unit,), (unit,), "x")


def test_departments_for_category(config: Config) -> None:
    """The committee refers road access to traffic police and the street office."""
    assert directory.departments_for(config, "c-express", Category.ROAD_ACCESS) == [
        "d-traffic-police",
        "d-street-office",
    ]
