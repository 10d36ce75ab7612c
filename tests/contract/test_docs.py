"""docs/asyncapi.yaml and docs/openapi.json are what the code generates, never stale copies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from shared.events import GrievanceIn
from zhitong.apidocs import asyncapi, render_all
from zhitong.cli import app

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
HOW_TO_FIX = "regenerate with: .venv/bin/zhitong docs (or make docs), then commit docs/"


@pytest.fixture(name="generated", scope="module")
def fixture_generated() -> dict[str, str]:
    """Return each document as the code generates it now."""
    return render_all()


@pytest.mark.parametrize("name", ["asyncapi.yaml", "openapi.json"])
def test_committed_document_matches_the_code(generated: dict[str, str], name: str) -> None:
    """The committed document is byte-for-byte what the code generates."""
    path = ROOT / "docs" / name
    assert path.exists(), f"docs/{name} is missing; {HOW_TO_FIX}"
    assert path.read_text(encoding="utf-8") == generated[name], (
        f"docs/{name} has drifted from the code; {HOW_TO_FIX}"
    )


def test_asyncapi_names_every_public_stream() -> None:
    """Every stream of SPEC §3 appears as a channel, with the groups that read it."""
    document: dict[str, Any] = asyncapi()
    channels = document["channels"].values()
    addresses = {c["address"] for c in channels}
    assert {
        "zt:intake",
        "zt:intake.rejected",
        "zt:submitted",
        "zt:actions",
        "zt:events",
        "zt:deliveries",
        "zt:dlq",
    } <= addresses
    groups = {
        (c["address"], c["bindings"]["redis"]["groupName"])
        for c in channels
        if c["bindings"]["redis"].get("groupName")
    }
    assert groups == {
        ("zt:intake", "intake"),
        ("zt:submitted", "router"),
        ("zt:actions", "router"),
        ("zt:events", "notifier"),
    }


def test_asyncapi_intake_payload_is_the_submission_model() -> None:
    """The zt:intake message schema carries the fields of the POST body plus ``source``."""
    document = asyncapi()
    schemas = document["components"]["schemas"]
    intake = schemas["StreamGrievanceIn"]
    assert set(GrievanceIn.model_fields) | {"source"} == set(intake["properties"])
    assert {"worker", "description", "source"} <= set(intake["required"])


def test_openapi_has_the_public_routes(generated: dict[str, str]) -> None:
    """The OpenAPI document lists SPEC §3's HTTP routes."""
    paths = yaml.safe_load(generated["openapi.json"])["paths"]
    for route in ("/v1/grievances", "/v1/grievances/{grievance_id}", "/v1/stats", "/healthz"):
        assert route in paths


def test_docs_check_fails_on_drift_with_the_fix(tmp_path: Path) -> None:
    """``zhitong docs --check`` on a stale copy exits 1 and says how to regenerate."""
    (tmp_path / "asyncapi.yaml").write_text("stale\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["docs", "--out", str(tmp_path), "--check"])
    assert result.exit_code == 1
    assert "run: zhitong docs" in result.stderr
    written = CliRunner().invoke(app, ["docs", "--out", str(tmp_path)])
    assert written.exit_code == 0, written.output
    assert CliRunner().invoke(app, ["docs", "--out", str(tmp_path), "--check"]).exit_code == 0
