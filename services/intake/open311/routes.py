"""The ``/open311/v2`` routes: GeoReport v2's methods, each in ``.json`` and ``.xml``.

Reads need no key (as in GeoReport) and show only public reports (see ``views``);
filing needs an ``api_key`` with the ``submit`` scope.  ``jurisdiction_id`` is accepted
and ignored: one deployment serves one jurisdiction, which the spec allows.  Errors are
GeoReport's list of ``{code, description}`` with the HTTP status the spec names: 404 for
what does not exist, 403 for a missing or wrong ``api_key``, 400 for anything else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from redis.asyncio import Redis

from services.intake.auth import KeyRing
from services.intake.open311.catalogue import CODES, service_definition, service_list
from services.intake.open311.form import FormError, check, idempotency_key, read_report
from services.intake.open311.form import to_grievance as report_to_grievance
from services.intake.open311.formats import FORMATS, Format, georeport_error, render
from services.intake.open311.index import PublicReports
from services.intake.open311.query import QueryError, RequestQuery, parse_query
from services.intake.open311.views import service_notice
from services.intake.submission import Intake
from services.intake.validation import format_errors, reasons
from shared.events import Category, Channel, GrievanceIn
from shared.streams import Keys

Jurisdiction = Annotated[
    str | None,
    Query(description="Accepted and ignored: this endpoint serves one jurisdiction."),
]
_LISTED = "comma-delimited; may also be repeated"
_DATE = "W3C date-time, e.g. 2026-01-01T00:00:00Z (zone required)"
_ERRORS = {
    400: {"description": "Invalid parameter (GeoReport error list)"},
    404: {"description": "No such service or public report (GeoReport error list)"},
}
_CONTENT: dict[str, dict[str, Any]] = {
    "json": {"application/json": {}},
    "xml": {"text/xml": {}},
}
Endpoint = Callable[..., Awaitable[Response]]


def _services(fmt: Format) -> Endpoint:
    async def services(jurisdiction_id: Jurisdiction = None) -> Response:
        """List every category as a GeoReport service, civic ones first."""
        return render(fmt, "services", service_list())

    return services


def _definition(fmt: Format) -> Endpoint:
    async def definition(service_code: str, jurisdiction_id: Jurisdiction = None) -> Response:
        """Return a service's definition: the attributes a report of it may carry."""
        if service_code not in CODES:
            return georeport_error(404, f"service_code '{service_code}' was not found", fmt)
        return render(fmt, "service_definition", service_definition(Category(service_code)))

    return definition


def _requests(fmt: Format, reports: PublicReports) -> Endpoint:
    async def requests(
        *,
        service_request_id: Annotated[
            list[str] | None, Query(description=f"Ids or tracking numbers, {_LISTED}")
        ] = None,
        service_code: Annotated[list[str] | None, Query(description=_LISTED)] = None,
        start_date: Annotated[str | None, Query(description=_DATE)] = None,
        end_date: Annotated[str | None, Query(description=_DATE)] = None,
        status: Annotated[list[str] | None, Query(description=f"open, closed; {_LISTED}")] = None,
        jurisdiction_id: Jurisdiction = None,
    ) -> Response:
        """List public reports, newest first: at most 1,000, within 90 days (default: the last 90).

        `service_request_id` overrides every other filter.
        """
        try:
            query = parse_query(
                service_request_id=service_request_id,
                service_code=service_code,
                start_date=start_date,
                end_date=end_date,
                status=status,
            )
        except QueryError as exc:
            return georeport_error(400, str(exc), fmt)
        return render(fmt, "service_requests", await reports.page(query))

    return requests


def _request(fmt: Format, reports: PublicReports) -> Endpoint:
    async def request(request_id: str, jurisdiction_id: Jurisdiction = None) -> Response:
        """Return one public report (a list of one, as GeoReport does); id or tracking number."""
        views = await reports.page(RequestQuery(ids=(request_id,)))
        if not views:
            return georeport_error(404, f"no service request '{request_id}'", fmt)
        return render(fmt, "service_requests", views)

    return request


class _RefusedError(Exception):
    """Raise to answer a report with a GeoReport error of HTTP status ``code``."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code


async def _read(request: Request, keyring: KeyRing, secret: str) -> tuple[GrievanceIn, str]:
    """Return a posted report as a grievance and its source, or raise ``_RefusedError``."""
    try:
        report = read_report(await request.body(), request.headers.get("content-type", ""))
    except FormError as exc:
        raise _RefusedError(400, str(exc)) from exc
    bearer = request.headers.get("authorization")
    try:
        principal = keyring.authenticate(bearer or f"Bearer {report.get('api_key') or ''}")
    except HTTPException as exc:
        raise _RefusedError(403, "api_key is missing or unknown") from exc
    if "submit" not in principal.scopes:
        raise _RefusedError(403, "api_key may not submit")
    code = report.get("service_code")
    if code is not None and code not in CODES:
        raise _RefusedError(404, f"service_code '{code}' was not found")
    try:
        check(report)
        return report_to_grievance(report, secret), principal.source
    except FormError as exc:
        raise _RefusedError(400, str(exc)) from exc
    except ValidationError as exc:
        errors = format_errors(exc.errors(include_url=False, include_input=False))
        raise _RefusedError(400, "; ".join(reasons(errors))) from exc


def _create(fmt: Format, intake: Intake, keyring: KeyRing) -> Endpoint:
    async def create(request: Request) -> Response:
        """File a report (form-encoded or JSON, with `api_key`); attributes as `attribute[code]`."""
        try:
            key = idempotency_key(request.headers.get("idempotency-key"))
            body, source = await _read(request, keyring, intake.pseudonym_secret)
        except FormError as exc:
            return georeport_error(400, str(exc), fmt)
        except _RefusedError as exc:
            return georeport_error(exc.code, str(exc), fmt)
        outcome = await intake.submit(
            body, source=source, channel=Channel.OPEN311, idempotency_key=key
        )
        notice = service_notice({"tracking_no": outcome.tracking_no}, outcome.duplicate_of)
        created = {"service_request_id": outcome.id, "service_notice": notice, "account_id": None}
        return render(fmt, "service_requests", [created])

    return create


def open311_router(intake: Intake, keyring: KeyRing, client: Redis, keys: Keys) -> APIRouter:
    """Return the ``/open311/v2`` routes, every method in both formats."""
    reports = PublicReports(client, keys)
    router = APIRouter(prefix="/open311/v2", tags=["open311"])
    for fmt in FORMATS:
        common: dict[str, Any] = {
            "response_class": Response,
            "responses": {200: {"content": _CONTENT[fmt]}, **_ERRORS},
        }
        router.add_api_route(
            f"/services.{fmt}",
            _services(fmt),
            methods=["GET"],
            **common,
            summary=f"List services ({fmt})",
        )
        router.add_api_route(
            f"/services/{{service_code}}.{fmt}",
            _definition(fmt),
            methods=["GET"],
            **common,
            summary=f"Service definition ({fmt})",
        )
        router.add_api_route(
            f"/requests.{fmt}",
            _requests(fmt, reports),
            methods=["GET"],
            **common,
            summary=f"List public service requests ({fmt})",
        )
        router.add_api_route(
            f"/requests/{{request_id}}.{fmt}",
            _request(fmt, reports),
            methods=["GET"],
            **common,
            summary=f"One public service request ({fmt})",
        )
        router.add_api_route(
            f"/requests.{fmt}",
            _create(fmt, intake, keyring),
            methods=["POST"],
            response_class=Response,
            summary=f"File a service request ({fmt})",
            responses={
                200: {"content": _CONTENT[fmt]},
                400: {"description": "Unreadable or invalid report (GeoReport error list)"},
                403: {"description": "api_key missing, unknown, or without the 'submit' scope"},
                404: {"description": "Unknown service_code (GeoReport error list)"},
            },
        )
    return router
