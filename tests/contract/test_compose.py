"""docker-compose.yml and the Dockerfile cannot rot: parse them, then run what they run.

There is no Docker engine here, so each service's ``command`` is started as a local process
with the compose environment (Redis URL, host and port pointed at this machine), probed with
the compose healthcheck itself, and stopped with SIGTERM as ``docker compose stop`` would.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from shared.settings import CommonSettings
from zhitong.redis_server import free_port

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = "/app"  # the image's WORKDIR (Dockerfile)
APP_SERVICES = ("intake", "router", "notifier")
READY_WITHIN_S = 30.0
_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::(?P<op>[-?])(?P<word>[^}]*))?\}")
_DURATION = re.compile(r"^(?:(\d+)m)?(?:(\d+)s)?$")


def env_example() -> dict[str, str]:
    """Return the variables .env.example sets (what ``cp .env.example .env`` gives compose)."""
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def _substitute(match: re.Match[str]) -> str:
    name, op, word = match.group("name", "op", "word")
    value = env_example().get(name)
    if value:
        return value
    assert op != "?", f"compose needs {name} ({word}) and .env.example does not set it"
    return word or ""


def interpolate(value: Any) -> Any:
    """Return ``value`` with ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` substituted
    from .env.example, as compose would after ``cp .env.example .env``."""
    if isinstance(value, str):
        return _INTERPOLATION.sub(_substitute, value)
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    return value


def seconds(duration: str) -> int:
    """Return compose's ``1m30s`` / ``35s`` duration in seconds."""
    match = _DURATION.match(duration)
    assert match, f"unexpected duration {duration!r}"
    minutes, secs = (int(g or 0) for g in match.groups())
    return minutes * 60 + secs


@pytest.fixture(name="compose", scope="module")
def fixture_compose() -> dict[str, Any]:
    """Return docker-compose.yml parsed, anchors merged and defaults substituted."""
    return interpolate(yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8")))


def local_env(service: dict[str, Any], redis_url: str, port: int) -> dict[str, str]:
    """Return the compose environment made to run on this machine."""
    env = {**os.environ, **{k: str(v) for k, v in service["environment"].items()}}
    config = Path(env["ZHITONG_CONFIG"])
    assert config.is_relative_to(APP_DIR), "the config should live in the image's /app"
    env.update(
        ZHITONG_CONFIG=str(ROOT / config.relative_to(APP_DIR)),
        ZHITONG_REDIS_URL=redis_url,
        ZHITONG_HTTP_HOST="127.0.0.1",
        ZHITONG_HTTP_PORT=str(port),
    )
    return env


def local_argv(command: list[str]) -> list[str]:
    """Return the container command with this interpreter in place of ``python``."""
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


def test_redis_is_durable_and_checked(compose: dict[str, Any]) -> None:
    """Redis runs a pinned image with AOF, noeviction, a named volume and a ping healthcheck."""
    redis_service = compose["services"]["redis"]
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+(-alpine)?", redis_service["image"])
    flags = {name: values[0] for name, values in options(redis_service["command"]).items()}
    assert flags["--appendonly"] == "yes"
    assert flags["--appendfsync"] in {"everysec", "always"}
    assert flags["--maxmemory-policy"] == "noeviction"
    volume, _, target = redis_service["volumes"][0].partition(":")
    assert target == "/data"
    assert volume in compose["volumes"]
    # redis-cli exits 0 on NOAUTH too, so the check must look for the PONG.
    assert redis_service["healthcheck"]["test"] == [
        "CMD-SHELL",
        "redis-cli --user healthcheck ping | grep -q PONG",
    ]
    assert redis_service["restart"] == "unless-stopped"


def options(argv: list[str]) -> dict[str, list[str]]:
    """Return redis-server's ``--name value…`` options; repeated ones (``--user``) joined."""
    found: dict[str, list[str]] = {}
    for arg in argv[1:]:
        if arg.startswith("--"):
            name = arg
            found.setdefault(name, [])
        else:
            found[name].append(arg)
    return found


ADMIN_PASSWORD = "test-admin-only"  # a local test server's inspection user


def start_compose_redis(
    compose: dict[str, Any], port: int, data_dir: Path
) -> subprocess.Popen[bytes]:
    """Start the compose Redis command line locally, plus an admin user to inspect it."""
    argv = [
        *compose["services"]["redis"]["command"],
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data_dir),
        "--user", "test-admin", "on", f">{ADMIN_PASSWORD}", "~*", "&*", "+@all",
    ]  # fmt: skip
    argv[0] = "redis-server"
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_redis_command_starts_locally(compose: dict[str, Any], tmp_path: Path) -> None:
    """The compose redis command line is accepted by redis-server and sets what it claims."""
    port = free_port()
    process = start_compose_redis(compose, port, tmp_path)
    client = redis.Redis(
        port=port,
        username="test-admin",
        password=ADMIN_PASSWORD,
        decode_responses=True,
        socket_connect_timeout=0.5,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert process.poll() is None, "redis-server refused the compose command line"
                assert time.monotonic() < deadline, "redis-server did not answer"
                time.sleep(0.05)
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    finally:
        client.close()
        process.terminate()
        assert process.wait(timeout=10) == 0


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_is_declared_for_operations(compose: dict[str, Any], name: str) -> None:
    """Each service runs its module from the one image, with health, restarts and Redis first."""
    service = compose["services"][name]
    assert service["command"] == ["python", "-m", f"services.{name}"]
    assert service["image"] == compose["services"]["intake"]["image"]
    assert service["restart"] == "unless-stopped"
    assert service["depends_on"] == {"redis": {"condition": "service_healthy"}}
    env = service["environment"]
    password = env_example()[f"ZHITONG_REDIS_{name.upper()}_PASSWORD"]
    assert env["ZHITONG_REDIS_URL"] == f"redis://{name}:{password}@redis:6379/0"
    assert env["ZHITONG_HTTP_HOST"] == "0.0.0.0"
    assert (ROOT / Path(env["ZHITONG_CONFIG"]).relative_to(APP_DIR)).is_file()
    assert "/readyz" in " ".join(service["healthcheck"]["test"])
    graceful = float(env.get("ZHITONG_GRACEFUL_TIMEOUT", CommonSettings().graceful_timeout))
    # uvicorn, the background loops and the broker each drain within the graceful timeout.
    assert seconds(service["stop_grace_period"]) >= 3 * graceful


def test_router_and_notifier_scale_out(compose: dict[str, Any]) -> None:
    """Router and notifier run several replicas; only intake publishes a port."""
    services = compose["services"]
    for name in ("router", "notifier"):
        assert services[name]["deploy"]["replicas"] >= 2
        assert "ports" not in services[name], f"{name} replicas would fight over a host port"
    assert services["intake"]["ports"] == ["8080:8080"]


def test_dockerfile_builds_one_non_root_image() -> None:
    """The Dockerfile uses python:3.11-slim, copies sources that exist and runs as non-root."""
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert all(
        re.match(r"FROM python:3\.11[\w.-]*-slim", line)
        for line in lines
        if line.startswith("FROM")
    )
    for line in lines:
        if line.startswith("COPY") and "--from=" not in line:
            sources = [p for p in shlex.split(line)[1:-1] if not p.startswith("--")]
            missing = [src for src in sources if not (ROOT / src).exists()]
            assert not missing, f"{line}: {missing} do not exist"
    users = [line.split()[1] for line in lines if line.startswith("USER")]
    assert users, "the image should switch to a non-root USER"
    assert users[-1] not in {"root", "0"}
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", "var", ".git"} <= set(ignored)


@pytest.fixture(name="service_process")
def fixture_service_process(
    request: pytest.FixtureRequest, compose: dict[str, Any], redis_server_url: str, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, str], Path]]:
    """Return the compose command of one service running locally, and its env and log path."""
    name: str = request.param
    service = compose["services"][name]
    env = local_env(service, redis_server_url, free_port())
    log_path = tmp_path / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            local_argv(service["command"]), cwd=tmp_path, env=env, stdout=log, stderr=log
        )
    try:
        yield process, env, log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("service_process", APP_SERVICES, indirect=True)
def test_service_command_runs_and_stops_cleanly(
    compose: dict[str, Any],
    service_process: tuple[subprocess.Popen[bytes], dict[str, str], Path],
) -> None:
    """The compose command becomes ready, passes its own healthcheck and exits clean on SIGTERM."""
    process, env, log_path = service_process
    name = log_path.stem
    url = f"http://127.0.0.1:{env['ZHITONG_HTTP_PORT']}/readyz"
    deadline = time.monotonic() + READY_WITHIN_S
    while True:
        assert process.poll() is None, f"{name} exited early: {log_path.read_text()[-2000:]}"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{name} not ready: {log_path.read_text()[-2000:]}"
        time.sleep(0.1)

    check = compose["services"][name]["healthcheck"]["test"]
    assert check[0] == "CMD"
    probe = subprocess.run(
        local_argv(check[1:]), env=env, capture_output=True, timeout=10, check=False
    )
    assert probe.returncode == 0, probe.stderr.decode()

    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=seconds(compose["services"][name]["stop_grace_period"]))
    # uvicorn re-raises the signal it handled once it has shut down cleanly.
    assert code in {0, -signal.SIGTERM}, log_path.read_text()[-2000:]
    assert '"service_stopped"' in log_path.read_text(), "the service did not drain and stop"


@pytest.fixture(name="acl_redis")
def fixture_acl_redis(compose: dict[str, Any], tmp_path: Path) -> Iterator[int]:
    """Return the port of the compose Redis (ACL users, default off) running locally."""
    port = free_port()
    process = start_compose_redis(compose, port, tmp_path)
    admin = redis.Redis(port=port, username="test-admin", password=ADMIN_PASSWORD)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                admin.ping()
                break
            except redis.ConnectionError:
                assert process.poll() is None, "redis-server refused the compose ACL lines"
                assert time.monotonic() < deadline, "redis-server did not answer"
                time.sleep(0.05)
        yield port
    finally:
        admin.close()
        process.terminate()
        process.wait(timeout=10)


def service_url(compose: dict[str, Any], name: str, port: int) -> str:
    """Return a service's compose Redis URL pointed at the local Redis port."""
    url: str = compose["services"][name]["environment"]["ZHITONG_REDIS_URL"]
    return url.replace("@redis:6379/", f"@127.0.0.1:{port}/")


def test_acl_users_are_limited(compose: dict[str, Any], acl_redis: int) -> None:
    """The default user is off; service users reach only zt: keys and no dangerous command."""
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=acl_redis).ping()
    for name in APP_SERVICES:
        client = redis.Redis.from_url(service_url(compose, name, acl_redis))
        try:
            assert client.set("zt:acl-probe", name)
            for forbidden in (("SET", "other", "1"), ("FLUSHALL",), ("CONFIG", "GET", "*")):
                with pytest.raises(redis.exceptions.NoPermissionError):
                    client.execute_command(*forbidden)
        finally:
            client.close()
    check = compose["services"]["redis"]["healthcheck"]["test"]
    env = {**os.environ, **compose["services"]["redis"]["environment"]}
    command = check[1].replace("redis-cli", f"redis-cli -p {acl_redis}")
    assert subprocess.run(["sh", "-c", command], env=env, check=False).returncode == 0
    env["REDISCLI_AUTH"] = "wrong"
    assert subprocess.run(["sh", "-c", command], env=env, check=False).returncode != 0


def test_stack_runs_under_its_acl_users(
    compose: dict[str, Any], acl_redis: int, tmp_path: Path
) -> None:
    """intake, router and notifier, each as its own ACL user, carry a grievance to delivery."""
    processes: dict[str, tuple[subprocess.Popen[bytes], dict[str, str]]] = {}
    try:
        for name in APP_SERVICES:
            service = compose["services"][name]
            env = local_env(service, service_url(compose, name, acl_redis), free_port())
            with (tmp_path / f"{name}.log").open("wb") as log:
                processes[name] = (
                    subprocess.Popen(
                        local_argv(service["command"]),
                        cwd=tmp_path,
                        env=env,
                        stdout=log,
                        stderr=log,
                    ),
                    env,
                )
        urls = {
            n: f"http://127.0.0.1:{env['ZHITONG_HTTP_PORT']}" for n, (_, env) in processes.items()
        }
        deadline = time.monotonic() + READY_WITHIN_S
        for name, url in urls.items():
            while True:
                assert processes[name][0].poll() is None, (tmp_path / f"{name}.log").read_text()
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{name} not ready under its ACL user"
                time.sleep(0.1)
        body = {
            "worker": {
                "id": "w-acl",
                "industry": "express_delivery",
                "platform": "中通",
                "region": "城东区",
            },
            "description": "小区不让快递员进",
        }
        reply = httpx.post(
            f"{urls['intake']}/v1/grievances",
            json=body,
            headers={"Authorization": "Bearer zt-demo-key"},
            timeout=5,
        )
        assert reply.status_code == 202, reply.text
        admin = redis.Redis(port=acl_redis, username="test-admin", password=ADMIN_PASSWORD)
        deadline = time.monotonic() + 20
        while b'"status":"sent"' not in b"".join(
            f[b"payload"] for _, f in admin.xrange("zt:deliveries")
        ):
            assert time.monotonic() < deadline, "no delivery under the ACL users"
            time.sleep(0.1)
        admin.close()
        for url in urls.values():
            assert "zhitong_dlq_depth" in httpx.get(f"{url}/metrics", timeout=5).text
    finally:
        for process, _ in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in processes.values():
            process.wait(timeout=30)
    for name in APP_SERVICES:
        log = (tmp_path / f"{name}.log").read_text()
        assert "NOPERM" not in log, f"{name} ran a command its ACL user may not: {log[-2000:]}"
