"""The permission matrix: the one place that says which role may do what, and see which rows."""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    AGENT = "agent", "Agent"
    AUDITOR = "auditor", "Auditor"


class Perm(StrEnum):
    READ = "read"  # see records (within the role's visibility scope)
    WRITE = "write"  # create and change records
    DELETE = "delete"  # delete records
    EXPORT = "export"  # export data out of the platform
    ADMIN = "admin"  # organisation settings, members, roles, jobs
    AUDIT = "audit"  # read the audit trail and security activity
    OWNER = "owner"  # tenant-wide policies: mandatory 2FA, DPA, deletion
    VIEW_ORIGINAL = "view_original"  # unredacted recordings and transcripts


MATRIX: dict[Perm, frozenset[Role]] = {
    Perm.READ: frozenset(Role),
    Perm.WRITE: frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER, Role.AGENT}),
    Perm.DELETE: frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER}),
    Perm.EXPORT: frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER}),
    Perm.ADMIN: frozenset({Role.OWNER, Role.ADMIN}),
    Perm.AUDIT: frozenset({Role.OWNER, Role.ADMIN, Role.AUDITOR}),
    Perm.OWNER: frozenset({Role.OWNER}),
    Perm.VIEW_ORIGINAL: frozenset({Role.OWNER, Role.ADMIN}),
}


class Scope(StrEnum):
    """Which rows of the tenant a role sees by default."""

    OWN = "own"  # rows the user owns (or that are shared with them)
    TEAM = "team"  # rows owned by anyone in the user's team
    ALL = "all"  # every row of the tenant


SCOPES: dict[Role, Scope] = {
    Role.OWNER: Scope.ALL,
    Role.ADMIN: Scope.ALL,
    Role.MANAGER: Scope.TEAM,
    Role.AGENT: Scope.OWN,
    Role.AUDITOR: Scope.ALL,
}

# Who may grant a role: nobody grants a role above their own.
RANK = {Role.AUDITOR: 1, Role.AGENT: 1, Role.MANAGER: 2, Role.ADMIN: 3, Role.OWNER: 4}


def has_perm(role: str | None, perm: Perm) -> bool:
    return role is not None and Role(role) in MATRIX[perm]


def scope_of(role: str) -> Scope:
    return SCOPES[Role(role)]


def can_grant(granter: str, role: str) -> bool:
    return has_perm(granter, Perm.ADMIN) and RANK[Role(role)] <= RANK[Role(granter)]
