"""Run the router: ``python -m services.router``."""

from services.router.app import build_app
from shared.app import load_service_config, serve
from shared.logging import configure_logging
from shared.settings import RouterSettings


def main() -> None:
    settings = RouterSettings()
    configure_logging("router", settings.log_level)
    serve(build_app(settings, load_service_config(settings)), settings)


if __name__ == "__main__":
    main()
