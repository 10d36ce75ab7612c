"""Settings from ``ZHITONG_*`` environment variables: one class per service, one base."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.streams import DEFAULT_PREFIX, Keys


def default_consumer_name() -> str:
    """Return a consumer name unique per process (FastStream workers share one otherwise)."""
    return f"{socket.gethostname()}-{os.getpid()}"


class CommonSettings(BaseSettings):
    """Environment settings every service reads."""

    model_config = SettingsConfigDict(env_prefix="ZHITONG_", extra="ignore")

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_max_connections: int = 64
    config: Path = Path("config/demo.yaml")
    stream_prefix: str = DEFAULT_PREFIX
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    log_level: str = "INFO"
    consumer_name: str = Field(default_factory=default_consumer_name)
    # Delivery plumbing (FASTSTREAM-NOTES: always bound reads, reclaim, cap attempts).
    max_records: int = 100
    poll_ms: int = 100
    reclaim_idle_ms: int = 15_000
    max_deliveries: int = 5
    graceful_timeout: float = 10.0
    otel_enabled: bool = False

    @property
    def keys(self) -> Keys:
        return Keys(self.stream_prefix)


class IntakeSettings(CommonSettings):
    http_port: int = 8080
    max_body_bytes: int = 64 * 1024


class RouterSettings(CommonSettings):
    http_port: int = 8081
    # One commit_many.lua call per batch: 50 escalations keep it within ~2-3 ms of Redis.
    timer_batch: int = 50
    timer_idle_s: float = 0.05
    # Housekeeping: safe stream trimming, dead-consumer pruning, retention anonymisation.
    housekeeping_interval_s: float = 60.0
    stream_keep_s: int = 7 * 86400
    consumer_prune_idle_s: int = 3600


class NotifierSettings(CommonSettings):
    http_port: int = 8082
    # Default retry schedule (config's channels.retry and endpoints' retry override it):
    # capped exponential backoff with jitter until the horizon, counted from the first try.
    retry_base_s: float = 1.0
    retry_max_s: float = 600.0
    retry_horizon_s: float = 86400.0
    http_timeout_s: float = 5.0
    retry_batch: int = 100
