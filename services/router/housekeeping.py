"""The router's periodic housekeeping: stream hygiene and retention (safe on every replica)."""

from __future__ import annotations

import asyncio

from redis.exceptions import RedisError

from services.router.retention import anonymise_expired
from shared.janitor import Janitor
from shared.logging import get_logger
from shared.settings import RouterSettings

log = get_logger(__name__)


class Housekeeping:
    """Loop that sweeps streams and anonymises expired grievances."""

    def __init__(
        self, janitor: Janitor, settings: RouterSettings, retention_s: int, secret: str
    ) -> None:
        self.janitor = janitor
        self.settings = settings
        self.retention_s = retention_s
        self.secret = secret

    async def once(self) -> None:
        """Run one pass: trim, prune, anonymise (until nothing expired is left)."""
        await self.janitor.sweep()
        keys = self.settings.keys
        while await anonymise_expired(
            self.janitor.client, keys, self.retention_s, secret=self.secret
        ):
            pass

    async def run(self, stop: asyncio.Event) -> None:
        """Repeat ``once`` every interval until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.once()
            except (RedisError, OSError) as exc:
                log.warning("housekeeping_failed", error=str(exc))
            try:
                await asyncio.wait_for(stop.wait(), self.settings.housekeeping_interval_s)
            except TimeoutError:
                continue
