"""Routing rules over the directory: who is tier 1, 2 and 3 for a grievance (pure).

The chain always has three links.  A missing link is filled with the configured fallback
unit, so a grievance that matches nothing is still owned by someone (SPEC §4):

* no committee for the worker's industry/region → fallback, fallback, fallback;
* a committee but no branch → fallback, fallback, committee;
* a branch without members → branch, branch, committee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.config import Branch, Committee, Config, Unit
from shared.events import Category, Grievance, Worker


@dataclass(frozen=True, slots=True)
class Link:
    """Return one unit of the chain as stored on the grievance."""

    unit: str
    name: str
    kind: str  # member | branch | committee | fallback

    def as_dict(self, tier: int) -> dict[str, object]:
        return {"tier": tier, "unit": self.unit, "name": self.name, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class Route:
    """Return the chain for one grievance; tier 1 is picked among ``candidates``."""

    candidates: tuple[Link, ...]
    branch: Link
    committee: Link
    note: str

    def chain(self) -> list[dict[str, object]]:
        """Return tiers 2 and 3 (tier 1 is chosen atomically by the assign script)."""
        return [self.branch.as_dict(2), self.committee.as_dict(3)]


def _branch_score(branch: Branch, worker: Worker) -> int | None:
    """Return how specifically ``branch`` matches (None = does not match)."""
    score = 0
    for wanted, value in (
        (branch.match.stations, worker.station),
        (branch.match.platforms, worker.platform),
        (branch.match.regions, worker.region),
    ):
        if not wanted:
            continue
        if value not in wanted:
            return None
        score += 1
    return score


def match_committee(config: Config, worker: Worker) -> Committee | None:
    """Return the committee of the worker's industry (and region, where one is named)."""
    for committee in config.directory.committees:
        if committee.industries and worker.industry not in committee.industries:
            continue
        if committee.regions and worker.region not in committee.regions:
            continue
        return committee
    return None


def match_branch(committee: Committee, worker: Worker) -> Branch | None:
    """Return the most specific matching branch; ties go to the first listed."""
    best: tuple[int, Branch] | None = None
    for branch in committee.branches:
        score = _branch_score(branch, worker)
        if score is not None and (best is None or score > best[0]):
            best = (score, branch)
    return best[1] if best else None


def _unit_link(unit: Unit | Committee | Branch, kind: str) -> Link:
    return Link(unit=unit.id, name=unit.name, kind=kind)


def route(config: Config, grievance: Grievance) -> Route:
    """Return the chain member → branch → committee for ``grievance``."""
    fallback = _unit_link(config.directory.fallback, "fallback")
    committee = match_committee(config, grievance.worker)
    if committee is None:
        return Route((fallback,), fallback, fallback, "no committee matched; fallback unit")
    committee_link = _unit_link(committee, "committee")
    branch = match_branch(committee, grievance.worker)
    if branch is None:
        return Route((fallback,), fallback, committee_link, "no branch matched; fallback unit")
    branch_link = _unit_link(branch, "branch")
    members = tuple(Link(m.id, m.name, "member") for m in branch.members)
    if not members:
        return Route((branch_link,), branch_link, committee_link, "branch has no members")
    return Route(members, branch_link, committee_link, f"matched branch {branch.id}")


def departments_for(config: Config, committee_id: str, category: Category) -> list[str]:
    """Return the joint-meeting departments a committee refers ``category`` to."""
    for committee in config.directory.committees:
        if committee.id == committee_id:
            return list(committee.departments.get(category, []))
    return []


def branch_members(config: Config, branch_id: str) -> dict[str, str]:
    """Return member id → name for one branch (reassignment targets)."""
    for committee in config.directory.committees:
        for branch in committee.branches:
            if branch.id == branch_id:
                return {m.id: m.name for m in branch.members}
    return {}


def unit_names(config: Config) -> dict[str, str]:
    """Return every unit id in the directory with its name."""
    directory = config.directory
    outside = (*directory.departments, directory.fallback, directory.oversight)
    names = {u.id: u.name for u in outside}
    for committee in directory.committees:
        names[committee.id] = committee.name
        for branch in committee.branches:
            names[branch.id] = branch.name
            names.update({m.id: m.name for m in branch.members})
    return names


def validate(config: Config) -> list[str]:
    """Return every cross-reference error in the directory and SLA policy, explained."""
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
        errors.extend(_overlaps(committee))
    errors.extend(_committee_overlaps(config))
    errors.extend(_channel_errors(config))
    errors.extend(_sla_errors(config))
    return errors


def _overlaps(committee: Committee) -> list[str]:
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


def _channel_errors(config: Config) -> list[str]:
    errors = []
    tables: dict[str, set[str]] = {
        "webhook": set(config.channels.webhooks),
        "gateway": set(config.channels.gateways),
    }
    directory = config.directory
    owners: list[tuple[str, list[object]]] = [
        ("worker channels", list(config.channels.worker)),
        (directory.fallback.id, list(directory.fallback.channels)),
        (directory.oversight.id, list(directory.oversight.channels)),
    ]
    for committee in directory.committees:
        owners.append((committee.id, list(committee.channels)))
        for branch in committee.branches:
            owners.append((branch.id, list(branch.channels)))
            owners.extend((m.id, list(m.channels)) for m in branch.members)
    for owner, channels in owners:
        for channel in channels:
            kind, endpoint = getattr(channel, "type", ""), getattr(channel, "endpoint", None)
            table = tables.get(kind)
            if table is not None and endpoint not in table:
                errors.append(
                    f"'{owner}' uses {kind} endpoint '{endpoint}', which is not defined under "
                    f"channels.{kind}s (defined: {sorted(table)})"
                )
    return errors


def _sla_errors(config: Config) -> list[str]:
    errors = []
    policy = config.sla
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
