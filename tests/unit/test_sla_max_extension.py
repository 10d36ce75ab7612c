"""The SLA policy's ``max_extension``: a documented default, parsed like any duration, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from shared.config import SlaPolicy, duration_text

DUE = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_a_policy_without_max_extension_allows_30_days() -> None:
    """Configs written before the setting keep working: the default is 30 days."""
    assert SlaPolicy().max_extension == 30 * 86400
    assert SlaPolicy.model_validate({"max_extension": "2d12h"}).max_extension == 60 * 3600


def test_max_extension_beyond_a_year_is_refused_with_the_bound() -> None:
    """No deadline is stored more than 366 days ahead, so the policy may not allow more."""
    with pytest.raises(ValidationError, match="at most 366d"):
        SlaPolicy.model_validate({"max_extension": "367d"})


def test_extension_refusal_names_the_limit_and_the_latest_deadline() -> None:
    """Up to the maximum past the current deadline is fine; one second more is refused."""
    policy = SlaPolicy.model_validate({"max_extension": "1d12h"})
    assert policy.extension_refusal(DUE, DUE + timedelta(hours=36)) is None
    refusal = policy.extension_refusal(DUE, DUE + timedelta(hours=36, seconds=1))
    assert refusal == (
        "new_deadline 2026-03-02T22:00:01Z is more than the SLA policy's max_extension (1d12h) "
        "past the current resolve deadline 2026-03-01T10:00:00Z: the latest allowed is "
        "2026-03-02T22:00:00Z"
    )
    assert policy.extension_refusal(datetime.max.replace(tzinfo=UTC), DUE) is None
    assert duration_text(90) == "1m30s"
