"""The README's ``jq`` recipe follows one grievance through all three services' log files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.chaos.harness import log_only_config
from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "router", "notifier")


def readme_recipe() -> str:
    """Return the ``jq -c 'select(.grievance_id==…)' var/logs/*.log`` line from the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"^jq -c 'select\(\.grievance_id==\"[^\"]+\"\)' var/logs/\*\.log$", text, re.M
    )
    assert found, "README lost its 'Following one grievance through the logs' recipe"
    return found.group(0)


@pytest.fixture(name="stack")
def fixture_stack(redis_url: str, tmp_path: Path) -> Iterator[dict[str, ServiceProcess]]:
    """Run intake, router and notifier as processes logging to ``<tmp>/var/logs/<name>.log``."""
    logs = tmp_path / "var" / "logs"
    logs.mkdir(parents=True)
    config = log_only_config(tmp_path / "config.yaml")
    running: dict[str, ServiceProcess] = {}
    try:
        for name in SERVICES:
            running[name] = ServiceProcess(name, redis_url, config, logs, consumer=name).start()
        yield running
    finally:
        for process in running.values():
            process.terminate()


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (apt-get install jq)")
def test_readme_jq_recipe_follows_one_grievance(
    stack: dict[str, ServiceProcess], tmp_path: Path
) -> None:
    """The recipe, with a real id, prints lines from intake, router and notifier for it only."""
    worker = {
        "id": "w-logs",
        "industry": "express_delivery",
        "platform": "中通",
        "region": "城东区",
    }
    body = {"worker": worker, "description": "小区不让快递员进，送不了件"}
    reply = httpx.post(
        f"http://127.0.0.1:{stack['intake'].port}/v1/grievances",
        json=body,
        headers={"Authorization": "Bearer zt-demo-key"},
        timeout=5,
    )
    assert reply.status_code == 202, reply.text
    gid = reply.json()["id"]
    recipe = re.sub(r'grievance_id=="[^"]+"', f'grievance_id=="{gid}"', readme_recipe())

    deadline = time.monotonic() + 20
    while True:
        out = subprocess.run(
            ["sh", "-c", recipe], cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout
        lines = [json.loads(line) for line in out.splitlines()]
        if {line.get("service") for line in lines} >= set(SERVICES) and any(
            line.get("event") == "notification" for line in lines
        ):
            break
        assert time.monotonic() < deadline, f"not every service logged {gid}: {lines}"
        time.sleep(0.1)
    assert all(line["grievance_id"] == gid for line in lines)
    assert any(line.get("event_id", "").startswith(f"{gid}.") for line in lines)
