"""Routing rules over the directory: who is tier 1, 2 and 3 for a grievance (pure).

The chain always has three links.  A missing link is filled with the configured fallback
unit, so a grievance that matches nothing is still owned by someone (SPEC §4):

* no committee for the worker's industry/region → fallback, fallback, fallback;
* a committee but no branch → fallback, fallback, committee;
* a branch without members → branch, branch, committee.
"""

from __future__ import annotations

from dataclasses import dataclass

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
