"""The organisation tree: platform staff manage everything, reseller admins their own customers."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy import services
from octopushx.tenancy.models import Organization, OrgKind
from octopushx.tenancy.roles import Role
from tests.conftest import make_member, make_org


@pytest.fixture
def tree(db):
    platform = services.platform_org()
    reseller = make_org("Reseller One", OrgKind.RESELLER, parent=platform)
    rival = make_org("Reseller Two", OrgKind.RESELLER, parent=platform)
    own_customer = make_org("Own Customer", parent=reseller)
    rival_customer = make_org("Rival Customer", parent=rival)
    direct = make_org("Direct Customer")
    return {
        "platform": platform,
        "reseller": reseller,
        "rival": rival,
        "own": own_customer,
        "rival_customer": rival_customer,
        "direct": direct,
    }


def actor(membership) -> Actor:
    return Actor(user=membership.user, role=membership.role)


def test_platform_admin_manages_every_organisation(tree):
    staff = make_member(tree["platform"], Role.ADMIN)
    for key in ("reseller", "rival", "own", "rival_customer", "direct"):
        assert services.can_manage_org(staff.user, tree[key]), key
    assert {o.name for o in services.manageable_orgs(staff.user)} == {
        tree[k].name for k in ("reseller", "rival", "own", "rival_customer", "direct")
    }


def test_reseller_admin_manages_only_own_customers(tree):
    admin = make_member(tree["reseller"], Role.ADMIN)
    assert services.can_manage_org(admin.user, tree["own"])
    for key in ("rival", "rival_customer", "direct", "platform"):
        assert not services.can_manage_org(admin.user, tree[key]), key
    assert {o.name for o in services.manageable_orgs(admin.user)} == {
        "Reseller One",
        "Own Customer",
    }


def test_reseller_agent_manages_nothing(tree):
    agent = make_member(tree["reseller"], Role.AGENT)
    assert not services.can_manage_org(agent.user, tree["own"])
    assert services.manageable_orgs(agent.user) == []


def test_customer_admin_manages_nothing(tree):
    admin = make_member(tree["own"], Role.OWNER)
    assert not services.can_manage_org(admin.user, tree["own"])


def test_reseller_admin_creates_a_customer_under_itself(tree):
    admin = make_member(tree["reseller"], Role.ADMIN)
    org = services.create_organization(actor(admin), name="New Shop", parent=tree["reseller"])
    assert org.parent == tree["reseller"] and org.kind == OrgKind.CUSTOMER
    assert AuditEntry.objects.filter(tenant=org, action="organization.created").exists()
    assert AuditEntry.objects.filter(tenant=tree["reseller"], action="organization.child_created").exists()


def test_reseller_admin_cannot_create_under_another_reseller(tree):
    admin = make_member(tree["reseller"], Role.ADMIN)
    with pytest.raises(PermissionDenied):
        services.create_organization(actor(admin), name="Sneaky", parent=tree["rival"])
    assert not Organization.objects.filter(name="Sneaky").exists()


def test_resellers_sit_under_the_platform(tree):
    staff = make_member(tree["platform"], Role.ADMIN)
    with pytest.raises(ValidationError):
        services.create_organization(actor(staff), name="Nested", kind=OrgKind.RESELLER, parent=tree["reseller"])
    with pytest.raises(ValidationError):
        services.create_organization(actor(staff), name="Child", parent=tree["own"])


def test_create_organization_with_its_first_owner(tree):
    staff = make_member(tree["platform"], Role.OWNER)
    org = services.create_organization(actor(staff), name="Owned", admin_email="first@example.test")
    assert org.memberships.get().role == Role.OWNER


def test_create_organization_bad_input(tree):
    staff = make_member(tree["platform"], Role.OWNER)
    for kwargs in (
        {"name": "  "},
        {"name": "X", "kind": "platform"},
        {"name": "X", "kind": "galaxy"},
    ):
        with pytest.raises(ValidationError):
            services.create_organization(actor(staff), **kwargs)


def test_platform_page_lists_and_creates(tree, client):
    staff = make_member(tree["platform"], Role.ADMIN)
    client.force_login(staff.user)
    page = client.get(reverse("tenancy:organizations")).content.decode()
    assert "Rival Customer" in page and "Own Customer" in page
    response = client.post(
        reverse("tenancy:organizations"),
        {"name": "Via Reseller", "kind": "customer", "parent": str(tree["rival"].pk)},
    )
    assert response.status_code == 302
    assert Organization.objects.get(name="Via Reseller").parent == tree["rival"]


def test_reseller_page_lists_own_customers_only(tree, client):
    admin = make_member(tree["reseller"], Role.ADMIN)
    client.force_login(admin.user)
    page = client.get(reverse("tenancy:organizations")).content.decode()
    assert "Own Customer" in page and "Rival Customer" not in page and "Direct Customer" not in page


def test_reseller_page_ignores_a_parent_it_does_not_own(tree, client):
    admin = make_member(tree["reseller"], Role.ADMIN)
    client.force_login(admin.user)
    client.post(reverse("tenancy:organizations"), {"name": "Mine", "parent": str(tree["rival"].pk)})
    assert Organization.objects.get(name="Mine").parent == tree["reseller"]


def test_reseller_page_cannot_create_a_reseller(tree, client):
    admin = make_member(tree["reseller"], Role.ADMIN)
    client.force_login(admin.user)
    client.post(reverse("tenancy:organizations"), {"name": "Sub Reseller", "kind": "reseller"})
    assert not Organization.objects.filter(name="Sub Reseller").exists()


def test_customer_admin_gets_403_on_the_organisations_page(tree, client):
    admin = make_member(tree["own"], Role.OWNER)
    client.force_login(admin.user)
    assert client.get(reverse("tenancy:organizations")).status_code == 403


def test_platform_page_bad_parent_changes_nothing(tree, client):
    staff = make_member(tree["platform"], Role.ADMIN)
    client.force_login(staff.user)
    before = Organization.objects.count()
    for parent in ("not-a-uuid", str(uuid.uuid4()), str(tree["own"].pk)):
        response = client.post(reverse("tenancy:organizations"), {"name": "Bad", "parent": parent})
        assert response.status_code in (200, 302, 404), parent
    assert Organization.objects.count() == before


def test_manageable_orgs_agrees_with_can_manage_org(tree):
    for key in ("platform", "reseller", "own"):
        for role in (Role.OWNER, Role.ADMIN, Role.MANAGER):
            user = make_member(tree[key], role).user
            expected = {
                o.pk for o in Organization.objects.exclude(kind=OrgKind.PLATFORM) if services.can_manage_org(user, o)
            }
            assert {o.pk for o in services.manageable_orgs(user)} == expected, (key, role)


def test_manageable_orgs_leaves_out_deleted_organisations(tree):
    staff = make_member(tree["platform"], Role.ADMIN)
    services.delete_tenant(tree["direct"], Actor.system("test"))
    assert "Direct Customer" not in {o.name for o in services.manageable_orgs(staff.user)}


def test_organisations_page_queries_do_not_grow_with_the_tree(tree, client, django_assert_max_num_queries):
    staff = make_member(tree["platform"], Role.ADMIN)
    for i in range(30):
        make_org(f"Extra {i}", parent=tree["reseller"])
    client.force_login(staff.user)
    with django_assert_max_num_queries(25):
        assert client.get(reverse("tenancy:organizations")).status_code == 200
