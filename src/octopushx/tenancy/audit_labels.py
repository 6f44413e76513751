"""How tenancy's audit entries read: organisations, members, invitations; members by name."""

from __future__ import annotations

from django.db.models import Q

from octopushx.core.audit_labels import labels, names
from octopushx.tenancy.models import Invitation, Membership, Organization, Team

labels(
    {
        "organization.created": "Organisation created",
        "organization.child_created": "Organisation added",
        "organization.updated": "Organisation settings changed",
        "organization.deleted": "Organisation deleted",
        "organization.suspended": "Organisation suspended",
        "organization.reinstated": "Organisation reinstated",
        "subscription.changed": "Plan changed",
        "member.added": "Member added",
        "member.removed": "Member removed",
        "member.role_changed": "Member's role changed",
        "invitation.created": "Invitation sent",
        "invitation.accepted": "Invitation accepted",
        "job.retried": "Background job retried",
    },
    object_types={
        "organization": "Organisation",
        "subscription": "Subscription",
        "membership": "Member",
        "member": "Member",
        "invitation": "Invitation",
        "team": "Team",
        "job": "Background job",
    },
    fields={
        "require_2fa": "Two-factor sign-in required",
        "brand_color": "Brand colour",
        "default_region": "Region",
        "time_zone": "Time zone",
        "week_start": "First day of the week",
    },
)


@names("organization")
def organization_names(tenant, ids: set[str]) -> dict[str, str]:
    # This organisation, its parent and its children: the ones its trail can mention.
    orgs = Organization.objects.filter(pk__in=ids).filter(
        Q(pk=tenant.pk) | Q(parent_id=tenant.pk) | Q(pk=tenant.parent_id or tenant.pk)
    )
    return {str(pk): name for pk, name in orgs.values_list("pk", "name")}


@names("membership")
def membership_names(tenant, ids: set[str]) -> dict[str, str]:
    members = Membership.objects.filter(pk__in=ids, tenant=tenant).select_related("user")
    return {str(m.pk): m.user.full_name or m.user.email for m in members}


@names("invitation")
def invitation_names(tenant, ids: set[str]) -> dict[str, str]:
    return {
        str(pk): email for pk, email in Invitation.objects.filter(pk__in=ids, tenant=tenant).values_list("pk", "email")
    }


@names("team")
def team_names(tenant, ids: set[str]) -> dict[str, str]:
    return {str(pk): name for pk, name in Team.objects.filter(pk__in=ids, tenant=tenant).values_list("pk", "name")}
