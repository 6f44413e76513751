"""Which CRM rows a member sees: the role's scope from ``tenancy.roles``, widened by the tenant.

Owners, admins and auditors see everything; managers see what their team owns; agents
see what they own, or their team's or everything when the tenant opens visibility.
Hidden rows answer 404, exactly like another tenant's rows.
"""

from __future__ import annotations

import copy

from django.db.models import Q, QuerySet
from django.http import Http404

from octopushx.crm.models import Company, Contact, CrmSettings, Deal, Visibility
from octopushx.tenancy import config
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Role, Scope, scope_of


def _for_request(membership: Membership | None, key: str, compute):
    """``compute()``, once per request for a membership loaded for one request (it carries a
    ``request_memo`` dict, set by the page and API authentication); every time otherwise."""
    memo = getattr(membership, "request_memo", None)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def crm_settings(tenant) -> CrmSettings:
    """The organisation's CRM settings: a copy of this process's cached row (change and save it freely)."""
    return copy.copy(config.cached(tenant, "crm.settings", lambda: _load_settings(tenant)))


def _load_settings(tenant) -> CrmSettings:
    found = CrmSettings.objects.for_tenant(tenant).first()
    if found is None:
        found, _ = CrmSettings.objects.get_or_create(tenant=tenant)
    return found


def effective_scope(membership: Membership | None) -> Scope:
    if membership is None:
        return Scope.OWN
    return _for_request(membership, "crm.scope", lambda: _effective_scope(membership))


def _effective_scope(membership: Membership) -> Scope:
    scope = scope_of(membership.role)
    if membership.role == Role.AGENT:
        opened = crm_settings(membership.tenant).agent_visibility
        if opened == Visibility.ALL:
            return Scope.ALL
        if opened == Visibility.TEAM:
            return Scope.TEAM
    return scope


def visible_owner_ids(membership: Membership | None) -> list | None:
    """User ids whose records the member sees, or ``None`` for everything."""
    return _for_request(membership, "crm.owners", lambda: _visible_owner_ids(membership))


def _visible_owner_ids(membership: Membership | None) -> list | None:
    scope = effective_scope(membership)
    if scope == Scope.ALL:
        return None
    if membership is None:
        return []
    if scope == Scope.TEAM and membership.team_id:
        return list(
            Membership.objects.filter(tenant_id=membership.tenant_id, team_id=membership.team_id).values_list(
                "user_id", flat=True
            )
        )
    return [membership.user_id]


def restrict(qs: QuerySet, membership: Membership | None, *owner_fields: str) -> QuerySet:
    """Filter ``qs`` to rows whose owner (any of ``owner_fields``) the member may see."""
    owners = visible_owner_ids(membership)
    if owners is None:
        return qs
    condition = Q()
    for field in owner_fields or ("owner",):
        condition |= Q(**{f"{field}__in": owners})
    return qs.filter(condition)


OWNED = (Company, Contact, Deal)  # seen by their owner (``restrict``); notes and tasks by what they are on


def is_visible(row, membership: Membership | None) -> bool:
    """Whether the member sees this contact, company or deal (the rule of ``restrict``, on a row in hand)."""
    owners = visible_owner_ids(membership)
    return owners is None or row.owner_id in owners


def _on_owned_records(tenant_id, owners: list) -> Q:
    """Rows attached to a contact, company or deal that one of ``owners`` owns.

    Each as ``id IN (the owned records)``: one small set read along the (tenant, owner) index, where
    joining the three tables would read a contact, a company and a deal row for every task or note.
    """
    condition = Q(pk__in=[])
    if not owners:
        return condition
    for field, model in (("contact_id", Contact), ("company_id", Company), ("deal_id", Deal)):
        owned = model.objects.filter(tenant_id=tenant_id, owner_id__in=owners).values("pk")
        condition |= Q(**{f"{field}__in": owned})
    return condition


def note_filter(membership: Membership | None) -> Q | None:
    owners = visible_owner_ids(membership)
    if owners is None:
        return None
    return Q(author_id__in=owners) | _on_owned_records(membership and membership.tenant_id, owners)


def task_filter(membership: Membership | None) -> Q | None:
    owners = visible_owner_ids(membership)
    if owners is None:
        return None
    return Q(assignee_id__in=owners) | _on_owned_records(membership and membership.tenant_id, owners)


def visible(model, tenant, membership: Membership | None) -> QuerySet:
    """The tenant's rows of ``model`` that the member may see."""
    from octopushx.crm.models import Note, Task

    qs = model.objects.for_tenant(tenant)
    if model is Note:
        condition = note_filter(membership)
        return qs if condition is None else qs.filter(condition)
    if model is Task:
        condition = task_filter(membership)
        return qs if condition is None else qs.filter(condition)
    return restrict(qs, membership)


def get_visible(model, tenant, membership: Membership | None, pk):
    """One row the member may see; 404 otherwise (same answer as another tenant's id)."""
    row = model.objects.get_for_tenant(tenant, pk)
    seen = (
        is_visible(row, membership) if model in OWNED else visible(model, tenant, membership).filter(pk=row.pk).exists()
    )
    if not seen:
        raise Http404(f"No {model._meta.verbose_name} with that id")
    return row
