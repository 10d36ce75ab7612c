"""Every line a service prints is one JSON object naming the service, through a graceful stop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.chaos.harness import log_only_config
from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", ["intake", "router", "notifier"])
def test_every_line_is_json_with_service_through_sigterm(
    redis_url: str, tmp_path: Path, service: str
) -> None:
    """Start, SIGTERM: FastStream's and uvicorn's lines are JSON with ``service`` like ours."""
    config = log_only_config(tmp_path / "config.yaml")
    process = ServiceProcess(service, redis_url, config, tmp_path, consumer=service).start()
    assert process.terminate() == 0

    lines = (tmp_path / f"{service}.log").read_text(encoding="utf-8").splitlines()
    assert lines
    for line in lines:
        record = json.loads(line)
        assert isinstance(record, dict), line
        assert record["service"] == service, line
    events = [json.loads(line)["event"] for line in lines]
    assert "service_started" in events
    assert "service_stopped" in events
    # FastStream's supervisor writes one line per subscriber task it sees end at the stop.
    assert any(str(event).startswith("callback for ") for event in events), events
