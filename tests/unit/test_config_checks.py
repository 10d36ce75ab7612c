"""Cross-reference checks run by ``load_config`` (shared.config_checks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from shared.config import Config, load_config
from shared.config_checks import ConfigError, config_errors, refusal_reasons

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(name="raw")
def fixture_raw() -> dict[str, Any]:
    """Return the demo config as plain data, to break one thing in it."""
    raw: dict[str, Any] = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text("utf-8"))
    return raw


def _refusal(raw: dict[str, Any], tmp_path: Path) -> ConfigError:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


def test_demo_config_passes_every_check() -> None:
    """The shipped demo config loads: every cross-reference check passes."""
    assert config_errors(load_config(ROOT / "config" / "demo.yaml")) == []


def test_sla_table_missing_an_urgency_is_refused_at_load(
    raw: dict[str, Any], tmp_path: Path
) -> None:
    """An SLA table without ``high`` and ``critical`` is refused, naming both."""
    tiers = {"ack": "4h", "resolve": "3d"}
    table = dict.fromkeys(("member", "branch", "committee"), tiers)
    raw["sla"]["urgency"] = {"low": table, "normal": table}
    error = _refusal(raw, tmp_path)
    (line,) = error.errors
    assert line.startswith("sla.urgency has no entry for urgency high, critical:")
    assert "high, critical" in str(error)


def test_department_naming_an_undefined_webhook_is_refused_at_load(
    raw: dict[str, Any], tmp_path: Path
) -> None:
    """A department whose channel names an undefined webhook is refused (referrals would fail)."""
    raw["directory"]["departments"][0]["channels"] = [{"type": "webhook", "endpoint": "city-hall"}]
    error = _refusal(raw, tmp_path)
    assert error.errors == [
        "'d-traffic-police' uses webhook endpoint 'city-hall', which is not defined under "
        "channels.webhooks (defined: ['demo'])"
    ]


@pytest.mark.parametrize("where", ["fallback", "oversight"])
def test_outside_units_need_defined_gateways(
    raw: dict[str, Any], tmp_path: Path, where: str
) -> None:
    """The fallback and oversight units' gateway channels must name a defined gateway."""
    raw["directory"][where]["channels"] = [{"type": "gateway", "endpoint": "sms", "to": "1"}]
    error = _refusal(raw, tmp_path)
    assert "uses gateway endpoint 'sms', which is not defined under channels.gateways" in str(error)


def test_webhook_channel_without_endpoint_is_refused(raw: dict[str, Any], tmp_path: Path) -> None:
    """A webhook channel that names no endpoint at all is refused."""
    raw["channels"]["worker"] = [{"type": "webhook"}]
    error = _refusal(raw, tmp_path)
    assert error.errors == [
        "'worker channels' has a webhook channel without an endpoint "
        "(name one of channels.webhooks: ['demo'])"
    ]


def test_every_error_is_explained() -> None:
    """Unknown departments, duplicate ids, empty branches, overlaps and bad SLAs are named."""
    config = load_config(ROOT / "config" / "demo.yaml").model_dump(mode="json")
    express = config["directory"]["committees"][0]
    express["departments"]["wages"] = ["d-nowhere"]
    express["branches"][1]["members"] = []
    express["branches"].append({**express["branches"][0], "id": "m-wang"})
    config["sla"]["urgency"]["normal"]["member"] = {"ack": "3d", "resolve": "4h"}
    text = "\n".join(config_errors(Config.model_validate(config)))
    assert "unknown department 'd-nowhere'" in text
    assert "branch 'b-express-west' has no members" in text
    assert "duplicate id 'm-wang'" in text
    assert "have the same match rules" in text
    assert "ack (3 days, 0:00:00) is longer than resolve (4:00:00)" in text


def test_fallback_sharing_a_committee_id_is_refused(raw: dict[str, Any], tmp_path: Path) -> None:
    """A fallback unit with a committee's id would make chains ambiguous: refused."""
    raw["directory"]["fallback"]["id"] = "c-express"
    error = _refusal(raw, tmp_path)
    assert any(e.startswith("duplicate id 'c-express'") for e in error.errors)


def test_unit_key_for_oversight_is_refused(raw: dict[str, Any], tmp_path: Path) -> None:
    """A unit key naming the oversight unit is refused: oversight has its own holder."""
    raw["api_keys"][1]["unit"] = "u-oversight"
    error = _refusal(raw, tmp_path)
    assert "names unit 'u-oversight', which is not a unit of the directory" in str(error)


def test_schema_errors_are_located_by_dotted_path(tmp_path: Path) -> None:
    """A schema error reads as its dotted path and pydantic's message, one per line."""
    path = tmp_path / "config.yaml"
    path.write_text("directory: {committees: []}\nsla: {warning_fraction: 2}\n", "utf-8")
    with pytest.raises(ValidationError) as caught:
        load_config(path)
    reasons = refusal_reasons(caught.value)
    assert "directory.fallback: Field required" in reasons
    assert any(r.startswith("sla.warning_fraction: ") for r in reasons)
