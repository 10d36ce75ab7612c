"""Run service processes (``python -m services.<name>``) against a test Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from zhitong.redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ServiceProcess:
    """Return a handle on one service process with its own port and log file."""

    name: str
    redis_url: str
    config: Path
    log_dir: Path
    consumer: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout: float = 20.0) -> ServiceProcess:
        env = {
            **os.environ,
            "ZHITONG_REDIS_URL": self.redis_url,
            "ZHITONG_CONFIG": str(self.config),
            "ZHITONG_HTTP_PORT": str(self.port),
            "ZHITONG_CONSUMER_NAME": self.consumer,
            **self.env,
        }
        log = (self.log_dir / f"{self.consumer}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready(ready_timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/readyz"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.consumer} exited with {self.process.returncode}")
            try:
                if httpx.get(url, timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.consumer} not ready within {timeout}s")

    def kill(self) -> None:
        """Kill -9: no cleanup, in-flight work stays pending."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def terminate(self, timeout: float = 20.0) -> int:
        """Send SIGTERM and return the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)
