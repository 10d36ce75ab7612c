"""The one YAML file (``ZHITONG_CONFIG``): directory, SLA policy, API keys and channels.

This module parses and type-checks the file; ``load_config`` then runs the cross-reference
checks of ``shared.config_checks`` (unknown ids, undefined endpoints, a partial SLA table…),
so every service and ``zhitong directory validate`` refuse the same files for the same reasons.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from shared.config_checks import ConfigError, config_errors
from shared.events import MAX_EXTENSION, Category, Industry, Urgency

_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$")


def parse_duration(value: Any) -> int:
    """Return a duration in whole seconds from ``90``, ``"30s"``, ``"4h"`` or ``"1d12h"``."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text like '4h', '3d', '30s'")
    if isinstance(value, int | float):
        seconds = int(value)
    else:
        match = _DURATION.match(str(value))
        if not match or not any(match.groups()):
            raise ValueError(f"{value!r} is not a duration; use e.g. '30s', '15m', '4h', '3d'")
        days, hours, minutes, secs = (int(g or 0) for g in match.groups())
        seconds = ((days * 24 + hours) * 60 + minutes) * 60 + secs
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {value!r}")
    return seconds


Duration = Annotated[int, BeforeValidator(parse_duration)]


def parse_seconds(value: Any) -> float:
    """Return seconds as a float: a number as is (``0.05``), text as ``parse_duration``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"a duration must be positive, got {value!r}")
        return float(value)
    return float(parse_duration(value))


Seconds = Annotated[float, BeforeValidator(parse_seconds)]
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _clock_time(value: str) -> str:
    if not _CLOCK.match(value):
        raise ValueError(f"{value!r} is not a time of day; use 24-hour 'HH:MM', e.g. '22:00'")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name (Asia/Shanghai)") from exc
    return value


ClockTime = Annotated[str, AfterValidator(_clock_time)]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietHours(_Strict):
    """Daily quiet period in the recipient's local time; the held go out at ``end``."""

    start: ClockTime = "22:00"
    end: ClockTime = "07:00"
    timezone: TimeZoneName = "Asia/Shanghai"
    exempt: list[Urgency] = Field(default_factory=lambda: [Urgency.CRITICAL])

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours need start != end (use `quiet_hours: off` for none)")
        return self


class RateLimit(_Strict):
    """Cap of ``max`` messages per ``window`` to one recipient over one channel."""

    max: Annotated[int, Field(ge=1)]
    window: Duration
    exempt: list[Urgency] = Field(default_factory=list)


class ContactChannel(_Strict):
    """One way to reach a unit: a named webhook or gateway, or the log.

    ``quiet_hours`` / ``rate_limit`` override the notifier's defaults for this channel:
    absent (``None``) inherits them, ``off`` (``False``) turns pacing off here.
    """

    type: Literal["webhook", "gateway", "log"]
    endpoint: str | None = None
    to: str | None = None
    locale: str = "zh-CN"
    quiet_hours: QuietHours | Literal[False] | None = None
    rate_limit: RateLimit | Literal[False] | None = None


class Member(_Strict):
    id: str
    name: str
    channels: list[ContactChannel] = Field(default_factory=lambda: [ContactChannel(type="log")])


class BranchMatch(_Strict):
    platforms: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    stations: list[str] = Field(default_factory=list)


class Branch(_Strict):
    id: str
    name: str
    match: BranchMatch = Field(default_factory=BranchMatch)
    channels: list[ContactChannel] = Field(default_factory=lambda: [ContactChannel(type="log")])
    members: list[Member] = Field(default_factory=list)


class Committee(_Strict):
    id: str
    name: str
    industries: list[Industry] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    channels: list[ContactChannel] = Field(default_factory=lambda: [ContactChannel(type="log")])
    departments: dict[Category, list[str]] = Field(default_factory=dict)
    branches: list[Branch] = Field(default_factory=list)


class Unit(_Strict):
    """Unit outside the chain: a department, oversight or the fallback."""

    id: str
    name: str
    channels: list[ContactChannel] = Field(default_factory=lambda: [ContactChannel(type="log")])


class Directory(_Strict):
    committees: list[Committee] = Field(default_factory=list)
    departments: list[Unit] = Field(default_factory=list)
    fallback: Unit
    oversight: Unit


class TierSla(_Strict):
    ack: Duration
    resolve: Duration


class UrgencySla(_Strict):
    member: TierSla
    branch: TierSla
    committee: TierSla


def _default_urgency_table() -> dict[Urgency, UrgencySla]:
    hour, day = 3600, 86400

    def table(m: tuple[int, int], b: tuple[int, int], c: tuple[int, int]) -> UrgencySla:
        return UrgencySla(
            member=TierSla(ack=m[0], resolve=m[1]),
            branch=TierSla(ack=b[0], resolve=b[1]),
            committee=TierSla(ack=c[0], resolve=c[1]),
        )

    return {
        Urgency.CRITICAL: table((hour, day), (2 * hour, 2 * day), (4 * hour, 3 * day)),
        Urgency.HIGH: table((2 * hour, 2 * day), (8 * hour, 4 * day), (day, 7 * day)),
        Urgency.NORMAL: table((4 * hour, 3 * day), (day, 7 * day), (day, 14 * day)),
        Urgency.LOW: table((day, 7 * day), (2 * day, 14 * day), (3 * day, 30 * day)),
    }


class WorkingHours(_Strict):
    """Weekly working-time calendar (the default policy is 24×7), in one UTC offset."""

    days: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5], min_length=1
    )  # ISO weekdays
    start: ClockTime = "09:00"
    end: ClockTime = "18:00"
    utc_offset_minutes: Annotated[int, Field(ge=-720, le=840)] = 480
    # Local dates off work although their weekday is in ``days`` (public holidays) …
    holidays: list[date] = Field(default_factory=list)
    # … and dates at work although it is not (调休: a weekend made up for a holiday).
    workdays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_hours(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError(f"working hours need start < end (got {self.start}–{self.end})")
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(f"dates both holidays and workdays: {[d.isoformat() for d in both]}")
        return self


class SlaPolicy(_Strict):
    urgency: dict[Urgency, UrgencySla] = Field(default_factory=_default_urgency_table)
    categories: dict[Category, dict[Urgency, UrgencySla]] = Field(default_factory=dict)
    warning_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.8
    feedback_window: Duration = 72 * 3600
    overdue_repeat: Duration = 24 * 3600
    max_extensions: Annotated[int, Field(ge=0)] = 2
    # How far one ``extend`` may move the resolve deadline past the current one.  It bounds
    # a request (checked when the extension is asked for), so it is not snapshotted.
    max_extension: Duration = 30 * 86400
    max_reopens: Annotated[int, Field(ge=0)] = 2
    calendar: Literal["24x7"] | WorkingHours = "24x7"

    @model_validator(mode="after")
    def _extension_storable(self) -> SlaPolicy:
        if self.max_extension > MAX_EXTENSION.total_seconds():
            raise ValueError(
                f"max_extension may be at most {MAX_EXTENSION.days}d: no deadline is stored "
                "further ahead than that"
            )
        return self

    def extension_refusal(self, current_due: datetime, new_deadline: datetime) -> str | None:
        """Return why ``new_deadline`` moves the resolve deadline too far, or ``None``."""
        try:
            latest = current_due + timedelta(seconds=self.max_extension)
        except OverflowError:  # a far deadline stored before bounds: nothing is later
            return None
        if new_deadline <= latest:
            return None
        return (
            f"new_deadline {_iso(new_deadline)} is more than the SLA policy's max_extension "
            f"({duration_text(self.max_extension)}) past the current resolve deadline "
            f"{_iso(current_due)}: the latest allowed is {_iso(latest)}"
        )


def duration_text(seconds: int) -> str:
    """Return ``seconds`` written as the config writes durations (``30d``, ``1d12h``)."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = zip((days, hours, minutes, secs), "dhms", strict=True)
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class ApiKey(_Strict):
    """One key and who holds it (SPEC §3, "Who may do what"); only its SHA-256 is stored.

    ``holder`` bounds the key whatever its scopes: an ``app`` (its ``source``) submits and
    reads and acts for what it filed; a ``unit`` key reads and acts for ``unit`` and the units
    below it; an ``oversight`` key reads everything and acts as oversight.
    """

    # A source name is part of storage keys (``idem:<source>:<key>``): no ``:`` in it.
    source: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    key_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    # ``ops``: the notifier's operations API (list and replay given-up deliveries).
    scopes: list[Literal["submit", "act", "read", "ops"]]
    holder: Literal["app", "unit", "oversight"] = "app"
    unit: str | None = None

    @model_validator(mode="after")
    def _holder_fits(self) -> ApiKey:
        if (self.holder == "unit") != (self.unit is not None):
            raise ValueError("a unit key names its `unit` (a directory id); other keys name none")
        if self.holder != "app" and "submit" in self.scopes:
            raise ValueError("only an app key may submit: a grievance belongs to the app filing it")
        return self


class RetryPolicy(_Strict):
    """A delivery's retry schedule; a field left out is inherited from the level above.

    Levels, most specific last: the ``ZHITONG_RETRY_*`` settings, ``channels.retry.default``,
    ``channels.retry.<channel type>``, the endpoint's own ``retry``.
    """

    base: Seconds | None = None  # first backoff; doubles per attempt, with jitter
    cap: Seconds | None = None  # longest wait between two attempts (also caps Retry-After)
    horizon: Seconds | None = None  # give up once this long has passed since the first attempt


class RetryPolicies(_Strict):
    default: RetryPolicy = Field(default_factory=RetryPolicy)
    webhook: RetryPolicy = Field(default_factory=RetryPolicy)
    gateway: RetryPolicy = Field(default_factory=RetryPolicy)
    log: RetryPolicy = Field(default_factory=RetryPolicy)


class WebhookEndpoint(_Strict):
    url: str
    secrets: list[str] = Field(min_length=1)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)


class GatewayEndpoint(_Strict):
    """SMS / IM provider reached by an HTTP POST of a rendered body template."""

    url: str
    body_template: str = '{"to": {{ to | tojson }}, "text": {{ text | tojson }}}'
    headers: dict[str, str] = Field(default_factory=dict)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)


class Channels(_Strict):
    webhooks: dict[str, WebhookEndpoint] = Field(default_factory=dict)
    gateways: dict[str, GatewayEndpoint] = Field(default_factory=dict)
    retry: RetryPolicies = Field(default_factory=RetryPolicies)
    worker: list[ContactChannel] = Field(default_factory=lambda: [ContactChannel(type="log")])


class NotifierPacing(_Strict):
    """The notifier's default pacing for every channel (README, "Quiet hours")."""

    quiet_hours: QuietHours | Literal[False] | None = None
    rate_limit: RateLimit | Literal[False] | None = None


class CivicDuplicates(_Strict):
    radius_m: Annotated[float, Field(gt=0)] = 50.0
    window: Duration = 24 * 3600


class Config(_Strict):
    directory: Directory
    sla: SlaPolicy = Field(default_factory=SlaPolicy)
    api_keys: list[ApiKey] = Field(default_factory=list)
    channels: Channels = Field(default_factory=Channels)
    civic_duplicates: CivicDuplicates = Field(default_factory=CivicDuplicates)
    notifier: NotifierPacing = Field(default_factory=NotifierPacing)
    retention: Duration = 180 * 86400
    # Keys the pseudonyms of anonymised workers and Open311 reporters (HMAC-SHA256), so they
    # cannot be reversed by hashing candidate ids or phone numbers.  Keep it private and fixed.
    pseudonym_secret: Annotated[str, Field(min_length=16)] | None = None


def load_config(path: Path) -> Config:
    """Return the parsed, cross-checked config; raise ``ValueError`` explaining what is wrong.

    A schema error is a pydantic ``ValidationError``, a cross-reference one a ``ConfigError``
    listing every error (both are ``ValueError``s).
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read config {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"config {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValueError(f"config {path} must be a YAML mapping")
    config = Config.model_validate(raw)
    errors = config_errors(config)
    if errors:
        raise ConfigError(path, errors)
    return config
