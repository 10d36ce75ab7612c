"""Lua scripts loaded from ``.lua`` files, each prefixed by the shared ``prelude.lua``.

Each atomic step is one named script whose comment block names its KEYS and ARGV; the
router's lifecycle steps all commit through ``commit_many.lua`` (decided in Python).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

_PACKAGE = "shared.redis.lua"


@cache
def script_source(name: str) -> str:
    """Return the full source of script ``name``: the shared prelude, then its body."""
    lua = resources.files(_PACKAGE)
    prelude = (lua / "prelude.lua").read_text(encoding="utf-8")
    return prelude + "\n" + (lua / f"{name}.lua").read_text(encoding="utf-8")


class Scripts:
    """Callable scripts registered on one client (EVALSHA with EVAL fallback)."""

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
