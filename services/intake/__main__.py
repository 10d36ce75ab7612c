"""Run the intake service: ``python -m services.intake``."""

from __future__ import annotations

from services.intake.app import build_app
from shared.app import load_service_config, serve
from shared.logging import configure_logging
from shared.settings import IntakeSettings


def main() -> None:
    """Read settings, configure logging and serve the intake app."""
    settings = IntakeSettings()
    configure_logging("intake", settings.log_level)
    serve(build_app(settings, load_service_config(settings)), settings)


if __name__ == "__main__":
    main()
