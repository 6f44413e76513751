"""The reseller console's API: create, list, change, suspend and close customers; isolation."""

from __future__ import annotations

from django.core import mail

from octopushx.billing.models import Subscription
from octopushx.core.models import AuditEntry
from octopushx.tenancy.models import Invitation, Organization, OrgKind
from tests.conftest import ApiClient, make_member, make_org

URL = "/api/v1/reseller/customers"
NEW = {"name": "Fresh Ltd", "admin_email": "Boss@Fresh.test", "plan": "enterprise", "seats": 4}


def _create(client, **changes):
    return client.post(URL, {**NEW, **changes})


def test_create_makes_the_org_invites_its_owner_and_starts_the_trial(
    reseller, reseller_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _create(reseller_admin)
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Organization.objects.get(pk=body["id"])
    assert customer.parent == reseller and customer.kind == OrgKind.CUSTOMER
    subscription = Subscription.objects.get(tenant=customer)
    assert (subscription.plan.slug, subscription.seats, subscription.status) == ("enterprise", 4, "trialing")
    assert subscription.changes.get().state["seats"] == 4  # the timeline starts with what was sold
    invitation = Invitation.objects.get(tenant=customer)
    assert (invitation.email, invitation.role) == ("boss@fresh.test", "owner")
    assert len(mail.outbox) == 1 and "Fresh Ltd" in mail.outbox[0].subject
    assert (body["plan"], body["seats"], body["status"], body["admins"]) == (
        "enterprise", 4, "trialing", ["boss@fresh.test (invited)"]
    )  # fmt: skip
    assert AuditEntry.objects.filter(tenant=reseller, action="reseller.customer_created").exists()


def test_create_without_trial_starts_billing_at_once(reseller_admin):
    body = _create(reseller_admin, trial=False).json()
    assert body["status"] == "active" and body["trial_end"] is None


def test_bad_input_is_a_clear_422_and_creates_nothing(reseller, reseller_admin):
    _create(reseller_admin)
    before = Organization.objects.count()
    cases = [
        ({"plan": "platinum", "name": "A"}, "plan", "Unknown plan"),
        ({"seats": -1, "name": "B"}, "seats", "at least 1"),
        ({"seats": 0, "name": "C"}, "seats", "at least 1"),
        ({"admin_email": "not-an-email", "name": "D"}, "admin_email", "valid email"),
        ({"name": "E"}, "admin_email", "already administers"),  # the same admin again
        ({"admin_email": "x@fresh.test"}, "name", "already have a customer"),
        ({"name": "  ", "admin_email": "y@fresh.test"}, "name", "required"),
    ]
    for changes, field, message in cases:
        response = _create(reseller_admin, **changes)
        assert response.status_code == 422, changes
        assert message in " ".join(response.json()["errors"][field]), response.json()
    assert _create(reseller_admin, seats="many").status_code == 422
    assert Organization.objects.count() == before


def test_list_and_detail_show_plan_seats_usage_and_last_invoice(reseller_admin):
    created = _create(reseller_admin).json()
    items = reseller_admin.get(URL).json()["items"]
    assert [item["id"] for item in items] == [created["id"]]
    detail = reseller_admin.get(f"{URL}/{created['id']}").json()
    assert detail["usage"]["transcription_minutes"] == "0" and detail["last_invoice"] is None


def test_patch_changes_plan_and_seats(reseller_admin):
    created = _create(reseller_admin, trial=False).json()
    response = reseller_admin.patch(f"{URL}/{created['id']}", {"plan": "team", "seats": 6})
    assert response.status_code == 200, response.content
    assert (response.json()["plan"], response.json()["seats"]) == ("team", 6)


def test_patch_bad_input_changes_nothing(reseller_admin):
    created = _create(reseller_admin).json()
    for body, field in (({"seats": -3}, "seats"), ({"plan": "nope"}, "plan"), ({"plan": "nope", "seats": 2}, "plan")):
        response = reseller_admin.patch(f"{URL}/{created['id']}", body)
        assert response.status_code == 422 and field in response.json()["errors"], body
    detail = reseller_admin.get(f"{URL}/{created['id']}").json()
    assert (detail["plan"], detail["seats"]) == ("enterprise", 4)


def test_suspend_and_reinstate_through_shield(reseller, reseller_admin):
    created = _create(reseller_admin).json()
    suspended = reseller_admin.patch(f"{URL}/{created['id']}", {"suspended": True, "note": "Unpaid"}).json()
    assert suspended["suspended"] is True and suspended["status"] == "suspended"
    customer = Organization.objects.get(pk=created["id"])
    assert customer.suspended_at is not None
    assert AuditEntry.objects.filter(tenant=reseller, action__contains="suspend").exists()
    reinstated = reseller_admin.patch(f"{URL}/{created['id']}", {"suspended": False}).json()
    assert reinstated["suspended"] is False


def test_delete_ends_the_subscription_at_the_period_end_and_keeps_the_data(reseller_admin):
    created = _create(reseller_admin).json()
    response = reseller_admin.delete(f"{URL}/{created['id']}")
    assert response.status_code == 200 and response.json()["cancel_at_period_end"] is True
    customer = Organization.objects.get(pk=created["id"])
    assert customer.deleted_at is None
    assert Subscription.objects.get(tenant=customer).auto_renew is False


def test_another_reseller_gets_404_on_every_customer_route(reseller_admin, other_reseller_admin):
    created = _create(reseller_admin).json()
    path = f"{URL}/{created['id']}"
    assert other_reseller_admin.get(URL).json()["items"] == []
    assert other_reseller_admin.get(path).status_code == 404
    assert other_reseller_admin.patch(path, {"seats": 9}).status_code == 404
    assert other_reseller_admin.patch(path, {"suspended": True}).status_code == 404
    assert other_reseller_admin.delete(path).status_code == 404
    assert reseller_admin.get(path).json()["seats"] == 4 and reseller_admin.get(path).json()["suspended"] is False


def test_malformed_or_unknown_ids_are_404(reseller_admin):
    for value in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        assert reseller_admin.get(f"{URL}/{value}").status_code == 404


def test_customers_and_reseller_members_without_admin_cannot_use_it(reseller, reseller_admin, billing_on):
    created = _create(reseller_admin).json()
    customer = Organization.objects.get(pk=created["id"])
    owner = ApiClient(make_member(customer, "owner"))
    assert owner.get(URL).status_code == 404
    assert owner.get(f"{URL}/{created['id']}").status_code == 404
    agent = ApiClient(make_member(reseller, "agent"))
    assert agent.get(URL).status_code == 403
    assert agent.post(URL, {**NEW, "name": "Z", "admin_email": "z@z.test"}).status_code == 403


def test_platform_staff_see_every_reseller_customer(reseller, reseller_admin, staff):
    created = _create(reseller_admin).json()
    assert staff.get(f"{URL}?reseller={reseller.pk}").json()["items"][0]["id"] == created["id"]
    assert staff.get(f"{URL}/{created['id']}").status_code == 200
    direct = make_org("Direct Ltd")
    assert staff.get(f"{URL}/{direct.pk}").status_code == 404  # not a reseller's customer


def test_billing_off_is_404(reseller_admin, settings):
    settings.BILLING_ENABLED = False
    assert reseller_admin.get(URL).status_code == 404
