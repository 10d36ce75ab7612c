"""Cross-reference checks over a parsed config: what the schema of one field cannot see.

``load_config`` runs them, so every service refuses to start on a config that ``zhitong
directory validate`` rejects, and both list the same errors:

* every unit id is defined once (departments, fallback, oversight, committees, branches,
  members), so every link of a chain, referral and unit key names exactly one unit;
* every referral names a department and every unit key a unit of the directory;
* every committee has branches and every branch members, and no branch or committee can
  never be chosen because another one with the same match rules comes first;
* every channel names a defined endpoint (``channels.webhooks`` / ``channels.gateways``);
* the SLA table covers every urgency (each with all three tiers, which the schema requires),
  and no tier's ack is longer than its resolve.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from shared.events import Urgency

if TYPE_CHECKING:  # shared.config imports this module to run the checks at load
    from shared.config import Committee, Config, ContactChannel


class ConfigError(ValueError):
    """Config that parses but whose parts do not fit together; ``errors`` names each."""

    def __init__(self, path: Path, errors: Sequence[str]) -> None:
        self.path = path
        self.errors = list(errors)
        listed = "; ".join(self.errors)
        super().__init__(f"config {path} has {len(self.errors)} error(s): {listed}")


def refusal_reasons(exc: ValueError) -> list[str]:
    """Return why ``load_config`` refused a file, one line per error.

    A schema error is located by its dotted path (``directory.fallback: Field required``).
    """
    if isinstance(exc, ValidationError):
        return [
            f"{'.'.join(str(part) for part in error['loc']) or '(top level)'}: {error['msg']}"
            for error in exc.errors()
        ]
    if isinstance(exc, ConfigError):
        return exc.errors
    return [str(exc)]


def config_errors(config: Config) -> list[str]:
    """Return every cross-reference error in ``config``, each explained in one sentence."""
    return [
        *_unit_errors(config),
        *_committee_overlaps(config),
        *_channel_errors(config),
        *_sla_errors(config),
        *key_errors(config),
    ]


def _unit_errors(config: Config) -> list[str]:
    errors: list[str] = []
    directory = config.directory
    seen: dict[str, str] = {}

    def claim(unit_id: str, where: str) -> None:
        if unit_id in seen:
            errors.append(f"duplicate id '{unit_id}': used by {seen[unit_id]} and {where}")
        else:
            seen[unit_id] = where

    department_ids = {d.id for d in directory.departments}
    for dept in directory.departments:
        claim(dept.id, f"department '{dept.name}'")
    claim(directory.fallback.id, "the fallback unit")
    claim(directory.oversight.id, "the oversight unit")
    for committee in directory.committees:
        claim(committee.id, f"committee '{committee.name}'")
        if not committee.branches:
            errors.append(f"committee '{committee.id}' has no branches")
        for category, depts in committee.departments.items():
            for dept_id in depts:
                if dept_id not in department_ids:
                    errors.append(
                        f"committee '{committee.id}' refers {category.value} to unknown "
                        f"department '{dept_id}' (known: {sorted(department_ids)})"
                    )
        for branch in committee.branches:
            claim(branch.id, f"branch '{branch.name}' of '{committee.id}'")
            if not branch.members:
                errors.append(f"branch '{branch.id}' has no members (tier 1 would be the branch)")
            for member in branch.members:
                claim(member.id, f"member '{member.name}' of '{branch.id}'")
        errors.extend(_branch_overlaps(committee))
    return errors


def _branch_overlaps(committee: Committee) -> list[str]:
    errors = []
    branches = committee.branches
    for i, first in enumerate(branches):
        for second in branches[i + 1 :]:
            if first.match == second.match:
                errors.append(
                    f"branches '{first.id}' and '{second.id}' of '{committee.id}' have the same "
                    f"match rules: '{second.id}' can never be chosen"
                )
    return errors


def _committee_overlaps(config: Config) -> list[str]:
    errors = []
    committees = config.directory.committees
    for i, first in enumerate(committees):
        for second in committees[i + 1 :]:
            shared_industries = set(first.industries) & set(second.industries)
            same_regions = (
                not first.regions
                or not second.regions
                or (set(first.regions) & set(second.regions))
            )
            if shared_industries and same_regions:
                errors.append(
                    f"committees '{first.id}' and '{second.id}' both match industries "
                    f"{sorted(i.value for i in shared_industries)} in overlapping regions: "
                    f"'{second.id}' only gets what '{first.id}' does not"
                )
    return errors


def _channel_owners(config: Config) -> Iterable[tuple[str, Sequence[ContactChannel]]]:
    """Yield every holder of contact channels with its channels (workers included)."""
    directory = config.directory
    yield "worker channels", config.channels.worker
    for unit in (*directory.departments, directory.fallback, directory.oversight):
        yield unit.id, unit.channels
    for committee in directory.committees:
        yield committee.id, committee.channels
        for branch in committee.branches:
            yield branch.id, branch.channels
            for member in branch.members:
                yield member.id, member.channels


def _channel_errors(config: Config) -> list[str]:
    """Return every contact channel whose webhook or gateway endpoint is not defined."""
    errors = []
    tables: dict[str, set[str]] = {
        "webhook": set(config.channels.webhooks),
        "gateway": set(config.channels.gateways),
    }
    for owner, channels in _channel_owners(config):
        for channel in channels:
            table = tables.get(channel.type)
            if table is None:  # the log channel needs no endpoint
                continue
            if channel.endpoint is None:
                errors.append(
                    f"'{owner}' has a {channel.type} channel without an endpoint "
                    f"(name one of channels.{channel.type}s: {sorted(table)})"
                )
            elif channel.endpoint not in table:
                errors.append(
                    f"'{owner}' uses {channel.type} endpoint '{channel.endpoint}', which is not "
                    f"defined under channels.{channel.type}s (defined: {sorted(table)})"
                )
    return errors


def _sla_errors(config: Config) -> list[str]:
    policy = config.sla
    missing = [u.value for u in Urgency if u not in policy.urgency]
    errors = []
    if missing:
        errors.append(
            f"sla.urgency has no entry for urgency {', '.join(missing)}: such grievances could "
            f"never be given deadlines; list every urgency ({', '.join(u.value for u in Urgency)})"
            " or leave sla.urgency out for the defaults"
        )
    tables = [("sla.urgency", policy.urgency)] + [
        (f"sla.categories.{cat.value}", table) for cat, table in policy.categories.items()
    ]
    for where, table in tables:
        for urgency, tiers in table.items():
            for tier_name in ("member", "branch", "committee"):
                tier = getattr(tiers, tier_name)
                if tier.ack > tier.resolve:
                    errors.append(
                        f"{where}.{urgency.value}.{tier_name}: ack ({timedelta(seconds=tier.ack)}) "
                        f"is longer than resolve ({timedelta(seconds=tier.resolve)})"
                    )
    return errors


def _actor_units(config: Config) -> set[str]:
    """Return the ids a unit key may name: every unit but oversight (it has its own holder)."""
    directory = config.directory
    units = {d.id for d in directory.departments} | {directory.fallback.id}
    for committee in directory.committees:
        units.add(committee.id)
        for branch in committee.branches:
            units.add(branch.id)
            units.update(m.id for m in branch.members)
    units.discard(directory.oversight.id)
    return units


def key_errors(config: Config) -> list[str]:
    """Return every API key that names an unknown unit or shares a source with another holder."""
    units = _actor_units(config)
    errors: list[str] = []
    holders: dict[str, tuple[str, str | None]] = {}
    for key in config.api_keys:
        if key.unit is not None and key.unit not in units:
            errors.append(
                f"API key of source '{key.source}' names unit '{key.unit}', which is not a unit "
                "of the directory (use holder: oversight for the oversight unit)"
            )
        holder = (key.holder, key.unit)
        if holders.setdefault(key.source, holder) != holder:
            errors.append(
                f"API keys of source '{key.source}' have different holders: each source names "
                "one holder (its action idempotency keys are scoped by source)"
            )
    return errors
