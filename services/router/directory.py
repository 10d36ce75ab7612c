"""Routing rules over the directory: who holds each tier of a grievance (pure).

Tiers are levels with their own SLA columns: 1 member, 2 branch, 3 the top (committee).
A chain names each unit once and always ends at tier 3, so a chain with fewer distinct
units starts higher (``Route.first_tier``): its first unit gets that level's deadlines, and
a deadline missed at tier 3 raises overdue instead of escalating a unit to itself.  A
grievance that matches nothing is still owned by someone, the fallback unit (SPEC §4):

* member → branch → committee: tiers 1, 2, 3;
* a branch without members → branch (2) → committee (3);
* a committee but no matching branch → fallback (2) → committee (3);
* no committee for the worker's industry/region → fallback alone, at tier 3.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import Branch, Committee, Config, Unit
from shared.events import Category, Grievance, Worker

# The top tier: a breach there is overdue (lifecycle.py ``breach``), not an escalation.
TOP_TIER = 3


@dataclass(frozen=True, slots=True)
class Link:
    """One unit of the chain as stored on the grievance."""

    unit: str
    name: str
    kind: str  # member | branch | committee | fallback

    def as_dict(self, tier: int) -> dict[str, object]:
        return {"tier": tier, "unit": self.unit, "name": self.name, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class Route:
    """Chain for one grievance: ``first_tier`` is picked among ``candidates``, then ``upper``.

    ``upper`` holds the units above the first, lowest first, the last at the top tier; no
    unit appears twice in ``candidates`` and ``upper`` together.
    """

    candidates: tuple[Link, ...]
    upper: tuple[Link, ...]
    note: str

    def __post_init__(self) -> None:
        units = [link.unit for link in (*self.candidates, *self.upper)]
        if len(set(units)) != len(units) or len(self.upper) >= TOP_TIER or not self.candidates:
            raise ValueError(f"a chain names 1 to {TOP_TIER} distinct units, got {units}")

    @property
    def first_tier(self) -> int:
        """Return the tier a new grievance is assigned at (its first unit's SLA level)."""
        return TOP_TIER - len(self.upper)

    def links(self) -> list[dict[str, object]]:
        """Return the real tiers above ``first_tier``, numbered: each unit once, up to 3."""
        first = self.first_tier
        return [link.as_dict(tier) for tier, link in enumerate(self.upper, start=first + 1)]


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
    """Return the chain member → branch → committee for ``grievance``, each unit once."""
    fallback = _unit_link(config.directory.fallback, "fallback")
    committee = match_committee(config, grievance.worker)
    if committee is None:
        return Route((fallback,), (), "no committee matched; fallback unit")
    committee_link = _unit_link(committee, "committee")
    branch = match_branch(committee, grievance.worker)
    if branch is None:
        return Route((fallback,), (committee_link,), "no branch matched; fallback unit")
    branch_link = _unit_link(branch, "branch")
    members = tuple(Link(m.id, m.name, "member") for m in branch.members)
    if not members:
        return Route((branch_link,), (committee_link,), "branch has no members")
    return Route(members, (branch_link, committee_link), f"matched branch {branch.id}")


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
