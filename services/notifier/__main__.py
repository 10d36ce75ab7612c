"""Run the notifier: ``python -m services.notifier``."""

from __future__ import annotations

from services.notifier.app import build_app
from shared.app import serve
from shared.logging import configure_logging
from shared.settings import NotifierSettings


def main() -> None:
    """Read settings, set up logging, serve until SIGTERM/SIGINT."""
    settings = NotifierSettings()
    configure_logging("notifier", settings.log_level)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
