"""Run the notifier: ``python -m services.notifier``."""

from __future__ import annotations

import logging

from services.notifier.app import build_app
from shared.app import load_service_config, serve
from shared.logging import configure_logging
from shared.settings import NotifierSettings


def main() -> None:
    """Read settings, set up logging, serve until SIGTERM/SIGINT."""
    settings = NotifierSettings()
    configure_logging("notifier", settings.log_level)
    # httpx logs every request at INFO; each delivery already logs its own outcome line.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    serve(build_app(settings, load_service_config(settings)), settings)


if __name__ == "__main__":
    main()
