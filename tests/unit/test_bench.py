"""The benchmark's pure helpers: percentiles and the results table (no benchmark is run)."""

from __future__ import annotations

import math

from zhitong.bench import Row, entry_ms, fmt, format_table, percentile


def test_percentile_is_nearest_rank() -> None:
    """p50/p99/p100 of 1..100 are 50, 99 and 100; unsorted input is fine."""
    values = list(range(100, 0, -1))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7], 99) == 7


def test_percentile_of_nothing_is_nan() -> None:
    """An empty sample has no percentile rather than a misleading zero."""
    assert math.isnan(percentile([], 50))


def test_table_marks_met_and_missed_targets() -> None:
    """Each row becomes one Markdown line; missed targets stand out, untargeted rows are blank."""
    table = format_table(
        [
            Row("timers", "fired/s", fmt(55_123.4, "/s"), "≥ 40,000/s", True),
            Row("http", "req/s", fmt(334, " req/s"), "≥ 1,500 req/s", False),
            Row("http", "p99", fmt(math.nan, " ms")),
        ]
    )
    lines = table.splitlines()
    assert lines[0].startswith("| part | measure | value | target |")
    assert lines[2] == "| timers | fired/s | 55,123/s | ≥ 40,000/s | met |"
    assert lines[3].endswith("| **missed** |")
    assert lines[4] == "| http | p99 | n/a |  |  |"


def test_entry_ms_reads_the_stream_id_clock() -> None:
    """A stream entry id's first part is the Redis clock in ms."""
    assert entry_ms(b"1795457748622-3") == 1795457748622
    assert entry_ms("17-0") == 17
