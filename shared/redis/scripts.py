"""Lua scripts loaded from ``.lua`` files, each prefixed by the shared ``prelude.lua``.

Every atomic step (dedupe + state change + event + timer) is one named script; the
comment block at the top of each file names its KEYS and ARGV.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

_PACKAGE = "shared.redis.lua"


_INCLUDE = "--! include "


@cache
def script_source(name: str) -> str:
    """Return the full source of script ``name``: the prelude, its includes, its body.

    A body line ``--! include lifecycle`` pulls in ``lifecycle.lua`` (shared functions),
    since EVALSHA scripts cannot import each other.
    """
    lua = resources.files(_PACKAGE)
    body = (lua / f"{name}.lua").read_text(encoding="utf-8")
    parts = [(lua / "prelude.lua").read_text(encoding="utf-8")]
    for line in body.splitlines():
        if line.startswith(_INCLUDE):
            parts.append((lua / f"{line.removeprefix(_INCLUDE).strip()}.lua").read_text("utf-8"))
    parts.append(body)
    return "\n".join(parts)


class Scripts:
    """Return callable scripts registered on one client (EVALSHA with EVAL fallback)."""

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._loaded: dict[str, AsyncScript] = {}

    def __getitem__(self, name: str) -> AsyncScript:
        script = self._loaded.get(name)
        if script is None:
            script = self._client.register_script(script_source(name))
            self._loaded[name] = script
        return script

    async def call(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """Return the result of running script ``name`` once."""
        return await self[name](keys=keys, args=args)
