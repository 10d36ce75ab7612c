"""Open311 GeoReport v2 facade, so city dashboards and FixMyStreet-style clients can file and
read civic reports (随手拍).

``catalogue`` (services and their definitions), ``form`` (a posted report → a grievance),
``query`` (the list's filters), ``views`` (the public-safe view), ``index`` (the index of
public reports that keeps a list's cost to its page), ``formats`` (JSON and XML) and
``routes`` (the HTTP methods).
"""

from services.intake.open311.routes import open311_router

__all__ = ["open311_router"]
