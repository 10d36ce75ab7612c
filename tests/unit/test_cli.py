"""The ``zhitong`` command's error paths: one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shared.config import load_config
from shared.config_checks import ConfigError
from zhitong.cli import app
from zhitong.stackfile import choose_redis, write_stack_file

runner = CliRunner()


@pytest.fixture(name="write_config")
def fixture_write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Return a function that writes a config file and returns its path."""

    def write(text: str) -> Path:
        path = tmp_path / "config.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_validate_accepts_the_demo_config(demo_config_path: Path) -> None:
    """The shipped demo config validates, with a one-line summary."""
    result = runner.invoke(app, ["directory", "validate", str(demo_config_path)])
    assert result.exit_code == 0, result.output
    assert "ok (3 committees, 5 branches, 8 members, 6 API keys)" in result.stdout


def test_validate_names_a_unit_key_for_an_unknown_unit(
    write_config: Callable[[str], Path], demo_config_path: Path
) -> None:
    """A unit key whose unit is not in the directory is a cross-reference error."""
    text = demo_config_path.read_text(encoding="utf-8").replace("unit: m-wang", "unit: m-gone")
    result = runner.invoke(app, ["directory", "validate", str(write_config(text))])
    assert result.exit_code == 1
    assert "names unit 'm-gone', which is not a unit of the directory" in result.output


def test_validate_broken_yaml_is_one_line(write_config: Callable[[str], Path]) -> None:
    """A file that is not YAML gives exactly one error line and exit code 1."""
    path = write_config("directory:\n  committees: [\n    - id: x\n")
    result = runner.invoke(app, ["directory", "validate", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: config ")
    assert "is not valid YAML" in lines[0]


def test_validate_missing_file(tmp_path: Path) -> None:
    """A missing file is named in one error line."""
    result = runner.invoke(app, ["directory", "validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: cannot read config {tmp_path / 'nope.yaml'}: No such file or directory"
    ]


def test_validate_lists_every_schema_error(write_config: Callable[[str], Path]) -> None:
    """Schema errors are listed one per line by their dotted path, then counted."""
    path = write_config(
        "directory:\n"
        "  committees:\n"
        "    - {id: c1, name: C, industries: [spaceflight]}\n"
        "sla: {warning_fraction: 2}\n"
    )
    result = runner.invoke(app, ["directory", "validate", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(": directory.committees.0.industries.0: Input should be" in line for line in lines)
    assert any(line.endswith("directory.fallback: Field required") for line in lines)
    assert any(line.endswith("directory.oversight: Field required") for line in lines)
    assert any("sla.warning_fraction:" in line for line in lines)
    assert lines[-1] == f"{path}: {len(lines) - 1} error(s)"


def test_validate_reports_cross_reference_errors(write_config: Callable[[str], Path]) -> None:
    """A well-formed file naming an unknown webhook fails on the cross-reference checks."""
    path = write_config(
        "directory:\n"
        "  committees:\n"
        "    - id: c1\n"
        "      name: C\n"
        "      channels: [{type: webhook, endpoint: nowhere}]\n"
        "  fallback: {id: u-fallback, name: F}\n"
        "  oversight: {id: u-oversight, name: O}\n"
    )
    result = runner.invoke(app, ["directory", "validate", str(path)])
    assert result.exit_code == 1
    assert "nowhere" in result.stderr


def test_run_with_missing_config_fails_before_starting(tmp_path: Path) -> None:
    """``zhitong run`` with a config that does not exist exits 1 with one line, starting nothing."""
    result = runner.invoke(
        app, ["run", "--config", str(tmp_path / "nope.yaml"), "--var-dir", str(tmp_path / "var")]
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error: config file not found: {tmp_path / 'nope.yaml'}"]
    assert not (tmp_path / "var").exists()


def test_run_with_invalid_config_points_at_validate(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    """An invalid config stops ``zhitong run`` with a hint to run ``directory validate``."""
    path = write_config("directory: {committees: []}\n")
    result = runner.invoke(app, ["run", "--config", str(path), "--var-dir", str(tmp_path / "v")])
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert "directory.fallback: Field required" in line
    assert f"run: zhitong directory validate {path}" in line


def test_validate_lists_what_services_refuse_at_load(
    write_config: Callable[[str], Path], demo_config_path: Path
) -> None:
    """``validate`` lists exactly the errors ``load_config`` refuses a file for, one per line."""
    text = demo_config_path.read_text(encoding="utf-8").replace(
        "  - {id: d-education, name: 教育局}",
        "  - {id: d-education, name: 教育局, channels: [{type: webhook, endpoint: edu}]}",
    )
    text = text.replace("sla:\n", "sla:\n  urgency: {}\n", 1)
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    result = runner.invoke(app, ["directory", "validate", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        *(f"{path}: {error}" for error in caught.value.errors),
        f"{path}: 2 error(s)",
    ]
    assert "endpoint 'edu'" in result.stderr
    assert "no entry for urgency low, normal, high, critical" in result.stderr


@pytest.fixture(name="in_tmp_dir")
def fixture_in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a temp dir made the working directory, with no Redis URL or var dir in the env."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZHITONG_REDIS_URL", raising=False)
    monkeypatch.delenv("ZHITONG_VAR_DIR", raising=False)
    return tmp_path


def test_redis_commands_read_the_running_stacks_redis_and_say_so(in_tmp_dir: Path) -> None:
    """Given no URL, ``stats`` reads the Redis named in var/stack.json and names it on stderr."""
    del in_tmp_dir
    write_stack_file(Path("var"), "redis://127.0.0.1:1/0", None)
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 1
    noted, error = result.stderr.splitlines()
    assert (
        noted == f"redis: redis://127.0.0.1:1/0 (the running stack, from {Path('var/stack.json')})"
    )
    assert error.startswith("error: Redis at redis://127.0.0.1:1/0:")


def test_a_given_redis_url_wins_over_the_stack_file(in_tmp_dir: Path) -> None:
    """``--redis-url`` is used as given, with no note: the stack file is not consulted."""
    del in_tmp_dir
    write_stack_file(Path("var"), "redis://127.0.0.1:1/0", None)
    result = runner.invoke(app, ["dlq", "list", "--redis-url", "redis://127.0.0.1:2/0"])
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: Redis at redis://127.0.0.1:2/0:")


def test_var_dir_env_moves_the_stack_file(
    in_tmp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ZHITONG_VAR_DIR`` says where to look, as it says where ``zhitong run`` writes."""
    write_stack_file(in_tmp_dir / "elsewhere", "redis://127.0.0.1:3/0", None)
    monkeypatch.setenv("ZHITONG_VAR_DIR", str(in_tmp_dir / "elsewhere"))
    assert choose_redis(None).url == "redis://127.0.0.1:3/0"


def test_stale_or_missing_stack_file_falls_back_to_the_default_with_the_reason(
    in_tmp_dir: Path,
) -> None:
    """No file, or one left by a stack that is gone, means the default Redis, and says why."""
    missing = choose_redis(None)
    assert missing.url == "redis://127.0.0.1:6379/0"
    assert "no running stack" in missing.origin
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True
    )
    path = write_stack_file(in_tmp_dir / "var", "redis://127.0.0.1:1/0", None)
    body = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**body, "pid": int(gone.stdout)}), encoding="utf-8")
    stale = choose_redis(None)
    assert stale.url == "redis://127.0.0.1:6379/0"
    assert "stale" in stale.origin
