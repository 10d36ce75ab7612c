"""Who may do what (SPEC §3): each API key's holder and the one policy over it (pure).

Every key names its holder, and the holder bounds the key whatever its scopes:

* an **app** key (a ``source``) submits, reads what it filed and acts only as the worker of a
  grievance it filed — worker actions only, never a unit's;
* a **unit** key (a unit of the directory) reads and acts on grievances in that unit's
  subtree — a branch covers its members, a committee its branches — speaking as that unit
  or a unit below it;
* an **oversight** key reads everything and acts as oversight only.

The router's chain-of-authority check (``services/router/lifecycle.py``) still runs after
these: this module decides whom a key may *speak for*; the router decides what that actor
may *do*.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.config import ApiKey, Config, Directory
from shared.config_checks import key_errors
from shared.events import WORKER_ACTIONS, ActionType, Actor, Role
from shared.indexes import tenancy_units


class Holder(StrEnum):
    APP = "app"
    UNIT = "unit"
    OVERSIGHT = "oversight"


@dataclass(frozen=True, slots=True)
class Principal:
    """Holder of a presented key and the scopes the key carries."""

    source: str
    scopes: frozenset[str]
    holder: Holder = Holder.APP
    unit: str | None = None

    @classmethod
    def of(cls, key: ApiKey) -> Principal:
        """Return the principal a configured key stands for."""
        return cls(key.source, frozenset(key.scopes), Holder(key.holder), key.unit)

    def __str__(self) -> str:
        if self.holder is Holder.UNIT:
            return f"the unit key of '{self.unit}'"
        return f"the {self.holder.value} key of source '{self.source}'"


# The roles an actor of each kind of directory unit may claim.  The fallback unit stands in
# for whichever tier matched nothing, so it may speak as any of the chain's roles.
_ROLES = {
    "member": frozenset({Role.MEMBER}),
    "branch": frozenset({Role.BRANCH}),
    "committee": frozenset({Role.COMMITTEE}),
    "department": frozenset({Role.DEPARTMENT}),
    "oversight": frozenset({Role.OVERSIGHT}),
    "fallback": frozenset({Role.MEMBER, Role.BRANCH, Role.COMMITTEE}),
}
# What an app may send as the worker of a grievance it filed (the worker may add notes).
APP_ACTIONS = WORKER_ACTIONS | {ActionType.ADD_NOTE}


@dataclass(frozen=True, slots=True)
class UnitTree:
    """Every unit of the directory with its kind and the unit directly above it."""

    kinds: Mapping[str, str]
    parents: Mapping[str, str]
    oversight: str

    @classmethod
    def of(cls, directory: Directory) -> UnitTree:
        """Return the tree of ``directory``: members under branches under committees."""
        kinds = {d.id: "department" for d in directory.departments}
        kinds[directory.fallback.id] = "fallback"
        kinds[directory.oversight.id] = "oversight"
        parents: dict[str, str] = {}
        for committee in directory.committees:
            kinds[committee.id] = "committee"
            for branch in committee.branches:
                kinds[branch.id] = "branch"
                parents[branch.id] = committee.id
                for member in branch.members:
                    kinds[member.id] = "member"
                    parents[member.id] = branch.id
        return cls(kinds, parents, directory.oversight.id)

    def subtree(self, top: str) -> frozenset[str]:
        """Return ``top`` and every unit below it (the units a key of ``top`` reads)."""
        return frozenset({top, *(unit for unit in self.kinds if self.within(unit, top))})

    def within(self, unit: str, top: str) -> bool:
        """Return whether ``unit`` is ``top`` or a unit below it."""
        current: str | None = unit
        while current is not None:
            if current == top:
                return True
            current = self.parents.get(current)
        return False


@dataclass(frozen=True, slots=True)
class Tenancy:
    """What decides who may see a grievance: its app, its worker and its units."""

    source: str
    worker_id: str
    units: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Tenancy:
        """Return the tenancy of a decoded grievance record (``shared.store``)."""
        units = {str(link.get("unit")) for link in record.get("chain") or []}
        units.update(str(d) for d in record.get("departments") or [])
        if record.get("assignee"):
            units.add(str(record["assignee"]))
        source, worker_id = str(record.get("source", "")), str(record.get("worker_id", ""))
        return cls(source, worker_id, frozenset(units))

    @classmethod
    def of_fields(cls, fields: Mapping[str, str]) -> Tenancy:
        """Return the tenancy of a stored record's hash fields (the units the indexes use)."""
        return cls(fields.get("source", ""), fields.get("worker_id", ""), tenancy_units(fields))


@dataclass(frozen=True, slots=True)
class Policy:
    """Access policy: answers "may this key read that / speak for this actor?"."""

    tree: UnitTree

    @classmethod
    def of(cls, config: Config) -> Policy:
        """Return the policy over ``config``'s directory; raise if a key names no unit."""
        errors = key_errors(config)
        if errors:
            raise ValueError("; ".join(errors))
        return cls(UnitTree.of(config.directory))

    def may_read(self, principal: Principal, grievance: Tenancy) -> bool:
        """Return whether ``principal`` may see ``grievance`` at all."""
        if principal.holder is Holder.OVERSIGHT:
            return True
        if principal.holder is Holder.APP:
            return grievance.source == principal.source
        top = principal.unit or ""
        return any(self.tree.within(unit, top) for unit in grievance.units)

    def role_refusal(self, actor: Actor) -> str | None:
        """Return why ``actor.role`` disagrees with the directory, or ``None``."""
        kind = self.tree.kinds.get(actor.id)
        if actor.role is Role.SYSTEM:
            return "no API key may act as the system"
        if kind is None:
            if actor.role is Role.WORKER:
                return None
            return f"'{actor.id}' is not a unit of the directory, so not a {actor.role}"
        if actor.role not in _ROLES[kind]:
            return f"'{actor.id}' is a {kind} in the directory, not a {actor.role}"
        return None

    def actor_refusal(self, principal: Principal, action: ActionType, actor: Actor) -> str | None:
        """Return why ``principal`` may not send ``action`` as ``actor`` anywhere, or ``None``."""
        refusal = self.role_refusal(actor)
        if refusal is None and principal.holder is Holder.APP:
            if actor.role is not Role.WORKER or action not in APP_ACTIONS:
                allowed = ", ".join(sorted(a.value for a in APP_ACTIONS))
                refusal = (
                    f"{principal} may act only as the worker of a grievance it filed "
                    f"({allowed}), not {action.value} as a {actor.role}"
                )
        elif refusal is None and principal.holder is Holder.OVERSIGHT:
            if actor.id != self.tree.oversight:
                refusal = f"{principal} may act only as oversight ('{self.tree.oversight}')"
        elif refusal is None:
            top = principal.unit or ""
            if actor.role is Role.WORKER or not self.tree.within(actor.id, top):
                refusal = f"{principal} may act only as '{top}' or a unit below it"
        return refusal

    def grievance_refusal(
        self, principal: Principal, actor: Actor, grievance: Tenancy
    ) -> str | None:
        """Return why ``actor`` may not be spoken for on this (readable) grievance."""
        if principal.holder is Holder.APP and actor.id != grievance.worker_id:
            return f"'{actor.id}' is not the worker who filed this grievance"
        return None
