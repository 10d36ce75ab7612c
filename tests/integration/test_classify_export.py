"""``zhitong classify export``: reclassified grievances become masked training lines, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.router.engine import Engine
from shared.events import Action
from tests.integration.router_support import KEYS, fast_config, make_grievance, submit
from zhitong.classify_export import Correction, corrections, write

pytestmark = pytest.mark.integration


async def _reclassified(redis: Redis, engine: Engine, *changes: dict[str, str]) -> str:
    grievance = make_grievance()
    grievance.description = "工地宿舍煤气味很重，电话 138 0013 8001，几个人头晕"
    await submit(redis, grievance)
    (assigned,) = await engine.assign([grievance])
    assert assigned.status == "assigned"
    for n, change in enumerate(changes):
        body = {"action_id": f"{grievance.id}-{n}", "grievance_id": grievance.id,
                "type": "reclassify", "actor": {"id": "c-express", "role": "committee"},
                "reason": "现场核实", **change}  # fmt: skip
        assert (await engine.act(Action.model_validate(body))).status == "applied"
    return grievance.id


async def test_the_latest_correction_becomes_one_masked_line_per_grievance(
    redis: Redis, tmp_path: Path
) -> None:
    """Two corrections of one grievance: the last wins, the phone is masked, written once."""
    engine = Engine(redis, KEYS, fast_config())
    await _reclassified(redis, engine, {"category": "safety_hazard"}, {"urgency": "critical"})
    found = await corrections(redis, KEYS)
    assert len(found) == 1
    (correction,) = found
    assert (correction.category, correction.urgency) == ("safety_hazard", "critical")
    assert "138 0013 8001" not in correction.text
    assert correction.text.startswith("工地宿舍煤气味很重")
    assert write(found, tmp_path) == 1
    assert write(found, tmp_path) == 0
    lines = (tmp_path / "safety_hazard.tsv").read_text(encoding="utf-8").splitlines()
    assert lines == [Correction("safety_hazard", "critical", correction.text).line()]
    assert lines[0].startswith("critical | ")
