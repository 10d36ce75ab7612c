"""Every service refuses to start on a config that ``zhitong directory validate`` rejects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from shared.app import EXIT_CONFIG_REFUSED
from tests.processes import ROOT, ServiceProcess

pytestmark = pytest.mark.integration


@pytest.fixture(name="bad_config")
def fixture_bad_config(tmp_path: Path) -> Path:
    """Write the demo config with no SLA entry for ``critical`` and a department's unknown hook."""
    raw = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    tiers = {"ack": "4h", "resolve": "3d"}
    table = dict.fromkeys(("member", "branch", "committee"), tiers)
    raw["sla"]["urgency"] = dict.fromkeys(("low", "normal", "high"), table)
    raw["directory"]["departments"][0]["channels"] = [{"type": "webhook", "endpoint": "nope"}]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("service", ["intake", "router", "notifier"])
def test_service_on_a_bad_config_exits_with_the_reasons(
    redis_url: str, bad_config: Path, tmp_path: Path, service: str
) -> None:
    """The service never reports ready: it exits 2 and logs each error as one JSON line."""
    proc = ServiceProcess(service, redis_url, bad_config, tmp_path, consumer=f"{service}-bad")
    with pytest.raises(RuntimeError, match=f"exited with {EXIT_CONFIG_REFUSED}$"):
        proc.start()
    lines = (tmp_path / f"{service}-bad.log").read_text(encoding="utf-8").splitlines()
    refused = [json.loads(line) for line in lines if '"config_refused"' in line]
    assert len(refused) == 1, lines
    (record,) = refused
    assert record["level"] == "error"
    assert record["service"] == service
    assert record["hint"] == f"zhitong directory validate {bad_config}"
    errors = record["errors"]
    assert len(errors) == 2
    assert "uses webhook endpoint 'nope'" in errors[0]
    assert errors[1].startswith("sla.urgency has no entry for urgency critical:")
