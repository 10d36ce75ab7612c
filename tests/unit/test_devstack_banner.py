"""The ``zhitong run`` banner's key line and curl show only a key the config accepts."""

from __future__ import annotations

import hashlib
from pathlib import Path

from shared.config import ApiKey, load_config
from zhitong.banner import DEMO_API_KEY, curl_example, submit_key


def test_the_demo_key_is_shown_when_the_demo_config_accepts_it(demo_config_path: Path) -> None:
    """The demo config holds zt-demo-key's hash for an app that submits: the curl uses it."""
    key, note = submit_key(load_config(demo_config_path))
    assert key == DEMO_API_KEY
    assert note.startswith(f"{DEMO_API_KEY}  (source demo-app;")
    assert f"Bearer {DEMO_API_KEY}'" in curl_example("http://127.0.0.1:8080", key)


def test_without_the_demo_key_the_line_names_the_app_whose_key_to_use(
    demo_config_path: Path,
) -> None:
    """Another app's hash only: no demo key anywhere, the placeholder names that app."""
    config = load_config(demo_config_path)
    acme = ApiKey(source="acme-app", key_sha256=hashlib.sha256(b"x").hexdigest(), scopes=["submit"])
    others = [k for k in config.api_keys if k.source != "demo-app"]
    key, note = submit_key(config.model_copy(update={"api_keys": [acme, *others]}))
    assert key == "<key of acme-app>"
    assert note.startswith("use the key held by app 'acme-app' ")
    assert f"Bearer {DEMO_API_KEY}" not in curl_example("http://127.0.0.1:8080", key)


def test_a_config_where_no_key_may_submit_shows_no_curl(demo_config_path: Path) -> None:
    """With no app key that submits, there is no key to show and the line says so."""
    config = load_config(demo_config_path)
    readers = [k for k in config.api_keys if "submit" not in k.scopes]
    key, note = submit_key(config.model_copy(update={"api_keys": readers}))
    assert key is None
    assert "no app key with the 'submit' scope" in note
