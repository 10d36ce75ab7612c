"""Delivery channels: signed webhooks, HTTP gateways (SMS / IM) and the development log."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from services.notifier.channels.base import Channel, Job, SendError
from services.notifier.channels.gateway import GatewayChannel
from services.notifier.channels.log import LogChannel
from services.notifier.channels.webhook import WebhookChannel
from shared.config import Config

__all__ = ["Channel", "Job", "SendError", "build_channels"]


def build_channels(config: Config, http: httpx.AsyncClient) -> Mapping[str, Channel]:
    """Return the channel for each contact type named in the directory."""
    return {
        "log": LogChannel(),
        "webhook": WebhookChannel(http, config.channels.webhooks),
        "gateway": GatewayChannel(http, config.channels.gateways),
    }
