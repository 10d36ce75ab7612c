"""What every benchmark part shares: the demo worker, private redis-servers, services."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml
from redis.asyncio import Redis

from shared.streams import Keys
from zhitong.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
KEYS = Keys()
AUTH = "Bearer zt-demo-key"
WORKER = {"industry": "express_delivery", "platform": "中通", "region": "城东区"}
DESCRIPTION = "小区物业禁止快递员进入，进不了小区送件，每天要多走两公里"


def start_redis(scratch: Path, name: str) -> RedisServer:
    return RedisServer(scratch / name).start()


def log_only_config(scratch: Path) -> Path:
    """Write the demo config without webhook channels (no receiver needed) and return it."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items()}
        if isinstance(node, list):
            return [
                strip(v) for v in node if not (isinstance(v, dict) and v.get("type") == "webhook")
            ]
        return node

    raw = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    path = scratch / "bench.yaml"
    path.write_text(yaml.safe_dump(strip(raw), allow_unicode=True), encoding="utf-8")
    return path


def start_service(
    name: str, redis_url: str, config: Path, scratch: Path
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``python -m services.<name>`` and return it with its port once /readyz is 200."""
    port = free_port()
    env = {
        **os.environ,
        "ZHITONG_REDIS_URL": redis_url,
        "ZHITONG_CONFIG": str(config),
        "ZHITONG_HTTP_PORT": str(port),
        "ZHITONG_CONSUMER_NAME": f"bench-{name}",
    }
    log = (scratch / f"{name}.log").open("ab")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module name
        [sys.executable, "-m", f"services.{name}"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {scratch}/{name}.log")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=0.5).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{name} not ready in 30 s")


def stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


async def used_memory(client: Redis) -> int:
    info = await client.info("memory")
    return int(info["used_memory"])
