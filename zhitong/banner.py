"""What the ``zhitong run`` banner shows to try the stack: a key the config accepts, a curl."""

from __future__ import annotations

import hashlib
import json
import shlex
from typing import Any

from shared.config import Config

DEMO_API_KEY = "zt-demo-key"  # public demo key; config/demo.yaml stores its hash

DEMO_GRIEVANCE: dict[str, Any] = {
    "worker": {
        "id": "w-demo-1",
        "industry": "express_delivery",
        "platform": "中通",
        "region": "城东区",
    },
    "title": "小区物业禁止快递员进入",
    "description": "小区物业禁止快递员进入，进不了小区送件",
}


def submit_key(config: Config) -> tuple[str | None, str]:
    """Return the key the banner's curl may show (None: not known) and the banner's key line.

    The config stores only hashes, so the public demo key is shown only when the config
    accepts it for submitting; otherwise the line names the app(s) whose key to use.
    """
    submitters = [k for k in config.api_keys if k.holder == "app" and "submit" in k.scopes]
    digest = hashlib.sha256(DEMO_API_KEY.encode()).hexdigest()
    for key in submitters:
        if key.key_sha256 == digest:
            return DEMO_API_KEY, (
                f"{DEMO_API_KEY}  (source {key.source}; Authorization: Bearer {DEMO_API_KEY})"
            )
    if not submitters:
        return None, "none can submit: the config has no app key with the 'submit' scope"
    holders = ", ".join(repr(k.source) for k in submitters)
    whose = "app" if len(submitters) == 1 else "one of the apps"
    return f"<key of {submitters[0].source}>", (
        f"use the key held by {whose} {holders} (the config stores only hashes; "
        f"{DEMO_API_KEY} is not accepted)"
    )


def curl_example(base_url: str, key: str = DEMO_API_KEY) -> str:
    """Return a copy-paste curl command that files the demo grievance with ``key``."""
    body = json.dumps(DEMO_GRIEVANCE, ensure_ascii=False)
    return (
        f"curl -sS -X POST {base_url}/v1/grievances "
        f"-H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' "
        f"-d {shlex.quote(body)}"
    )
