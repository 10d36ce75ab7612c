"""``<var>/stack.json``: where the running ``zhitong run`` stack's Redis is, for the CLI.

``zhitong run`` puts its private Redis on a free port; it writes this file once Redis is up
and removes it on a clean stop.  CLI commands given no ``--redis-url`` (nor
``ZHITONG_REDIS_URL``) read it, so ``zhitong stats`` next to ``make run`` reads that stack.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

STACK_FILE = "stack.json"
DEFAULT_VAR_DIR = Path("var")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class RedisChoice:
    """The Redis a command reads and, for the user, why that one."""

    url: str
    origin: str


def stack_file(var_dir: Path) -> Path:
    """Return the path of the stack file under ``var_dir``."""
    return var_dir / STACK_FILE


def write_stack_file(var_dir: Path, redis_url: str, intake_url: str | None) -> Path:
    """Write the stack file (owner-only: the URL may carry a password) and return its path."""
    path = stack_file(var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"redis_url": redis_url, "intake_url": intake_url, "pid": os.getpid()}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(body, out)
    return path


def remove_stack_file(var_dir: Path) -> None:
    """Remove the stack file if it is there."""
    stack_file(var_dir).unlink(missing_ok=True)


def choose_redis(explicit: str | None, var_dir: Path | None = None) -> RedisChoice:
    """Return the Redis to use: the one given, else the running stack's, else the default."""
    if explicit:
        return RedisChoice(explicit, "given")
    if var_dir is None:
        var_dir = Path(os.environ.get("ZHITONG_VAR_DIR") or DEFAULT_VAR_DIR)
    path = stack_file(var_dir)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return RedisChoice(DEFAULT_REDIS_URL, f"default; no running stack ({path} not found)")
    except (OSError, ValueError) as exc:
        return RedisChoice(DEFAULT_REDIS_URL, f"default; {path} unreadable: {exc}")
    url, pid = body.get("redis_url"), body.get("pid")
    if not isinstance(url, str) or not url:
        return RedisChoice(DEFAULT_REDIS_URL, f"default; {path} names no redis_url")
    if isinstance(pid, int) and not _alive(pid):
        return RedisChoice(DEFAULT_REDIS_URL, f"default; {path} is stale (pid {pid} gone)")
    return RedisChoice(url, f"the running stack, from {path}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
