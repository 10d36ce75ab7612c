"""``zhitong run`` (what ``make run`` starts): up, ready, and down cleanly on a signal."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from tests.chaos.harness import log_only_config
from zhitong.cli import app
from zhitong.redis_server import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
START_WITHIN_S = 60.0
STOP_WITHIN_S = 40.0


def free_port_run(length: int) -> int:
    """Return a port ``p`` such that ``p .. p+length-1`` were all free a moment ago."""
    for _ in range(50):
        base = free_port()
        if base + length < 65536 and all(_bindable(base + i) for i in range(length)):
            return base
    raise AssertionError("no run of free ports found")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Stack:
    """Return a running ``zhitong run`` with its ports and output files."""

    process: subprocess.Popen[bytes]
    var_dir: Path
    http_port: int
    stdout: Path
    stderr: Path

    def banner(self) -> str:
        return self.stderr.read_text(encoding="utf-8")

    def log_lines(self) -> list[dict[str, object]]:
        lines = self.stdout.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def wait_running(self) -> None:
        deadline = time.monotonic() + START_WITHIN_S
        while "is running" not in self.banner():
            assert self.process.poll() is None, f"zhitong run exited: {self.banner()}"
            assert time.monotonic() < deadline, f"no banner within {START_WITHIN_S}s"
            time.sleep(0.1)

    def redis_port(self) -> int:
        match = re.search(r"redis://127\.0\.0\.1:(\d+)/0", self.banner())
        assert match, self.banner()
        return int(match.group(1))


@contextmanager
def running_stack(tmp_path: Path, *extra: str) -> Iterator[Stack]:
    """Run ``zhitong run EXTRA`` on free ports with its data under a temp var dir."""
    http_port = free_port_run(3)
    var_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHITONG_")}
    argv = [
        sys.executable,
        "-m",
        "zhitong.cli",
        "run",
        "--var-dir",
        str(var_dir),
        "--http-port",
        str(http_port),
        "--receiver-port",
        str(free_port()),
        *extra,
    ]
    stdout, stderr = tmp_path / "stdout.jsonl", tmp_path / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=err)
    stack = Stack(process, var_dir, http_port, stdout, stderr)
    try:
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_WITHIN_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(name="stack")
def fixture_stack(tmp_path: Path) -> Iterator[Stack]:
    """Return ``zhitong run`` on the demo config, started on free ports."""
    with running_stack(tmp_path) as stack:
        yield stack


def test_run_serves_then_stops_cleanly_on_ctrl_c(stack: Stack) -> None:
    """The stack becomes ready, prints the banner, and SIGINT stops it all with exit code 0."""
    stack.wait_running()
    banner = stack.banner()
    assert "zt-demo-key" in banner
    assert f"http://127.0.0.1:{stack.http_port}" in banner
    redis_port = stack.redis_port()
    assert _port_open(redis_port)
    response = httpx.get(f"http://127.0.0.1:{stack.http_port}/readyz", timeout=2)
    assert response.status_code == 200

    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(timeout=STOP_WITHIN_S) == 0
    assert not _port_open(redis_port), "redis-server still running after zhitong run exited"
    assert not _port_open(stack.http_port), "intake still running after zhitong run exited"
    events = [line["event"] for line in stack.log_lines()]
    assert events[-2:] == ["redis_stopped", "stack_stopped"]
    assert (stack.var_dir / "redis" / "appendonlydir").is_dir()
    assert (stack.var_dir / "logs" / "intake.log").read_text(encoding="utf-8").strip()
    assert not (stack.var_dir / "stack.json").exists(), "stack.json outlived a clean stop"


def test_the_cli_finds_the_running_stacks_redis(stack: Stack) -> None:
    """The banner tells how; given only the var dir, ``zhitong stats`` reads the stack's Redis."""
    stack.wait_running()
    redis_url = f"redis://127.0.0.1:{stack.redis_port()}/0"
    assert f"ZHITONG_VAR_DIR={stack.var_dir} zhitong stats" in stack.banner()
    assert f"export ZHITONG_REDIS_URL={redis_url}" in stack.banner()
    env = {"ZHITONG_VAR_DIR": str(stack.var_dir), "ZHITONG_REDIS_URL": None}
    result = CliRunner().invoke(app, ["stats", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"redis: {redis_url} (the running stack, from {stack.var_dir / 'stack.json'})"
    ]
    assert isinstance(json.loads(result.stdout), dict)


def test_run_stops_everything_when_a_service_dies(stack: Stack) -> None:
    """When a child dies, zhitong run names it, stops the rest and exits non-zero."""
    stack.wait_running()
    router = next(
        line
        for line in stack.log_lines()
        if line["event"] == "component_started" and line["component"] == "router"
    )
    redis_port = stack.redis_port()
    os.kill(int(str(router["pid"])), signal.SIGKILL)

    assert stack.process.wait(timeout=STOP_WITHIN_S) == 1
    assert "router exited unexpectedly" in stack.banner()
    assert not _port_open(redis_port)
    assert not _port_open(stack.http_port)


def test_a_config_without_webhooks_or_the_demo_key_runs_and_says_so(tmp_path: Path) -> None:
    """No webhooks: the receiver is skipped with a note; the curl names the key to use."""
    config = log_only_config(tmp_path / "config.yaml")
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    del raw["channels"]["webhooks"]
    demo_app = next(key for key in raw["api_keys"] if key["source"] == "demo-app")
    demo_app.update(source="acme-app", key_sha256=hashlib.sha256(b"acme-secret").hexdigest())
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    with running_stack(tmp_path, "--config", str(config)) as stack:
        stack.wait_running()
        banner = stack.banner()
        assert f"receiver   not started: no webhook endpoints in {config}" in banner
        assert "Bearer zt-demo-key" not in banner
        assert "use the key held by app 'acme-app'" in banner
        assert "-H 'Authorization: Bearer <key of acme-app>'" in banner
        response = httpx.get(f"http://127.0.0.1:{stack.http_port}/readyz", timeout=2)
        assert response.status_code == 200
        stack.process.send_signal(signal.SIGTERM)
        assert stack.process.wait(timeout=STOP_WITHIN_S) == 0
