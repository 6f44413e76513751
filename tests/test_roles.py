"""Each role on each route kind: the real endpoints (API and pages) follow ``tenancy/roles.py``.

Every row of ``ROUTES`` names the route kind, the permission the route needs, and how to
call it. A role with that permission in ``MATRIX`` must get through (2xx, or a redirect
back to the page for form posts); any other role must get 403 and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from octopushx.accounts.models import ApiToken
from octopushx.billing.models import BillingProfile, PaymentAccount, PriceBook, Subscription
from octopushx.calls.models import Tracker
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, Job, JobState
from octopushx.tenancy import branding
from octopushx.tenancy.models import Brand, BrandDomain, Invitation, Membership, OrgKind, SupportGrant
from octopushx.tenancy.roles import MATRIX, RANK, Perm, Role, Scope, can_grant, has_perm, scope_of
from tests.billing.factories import issued_invoice, issued_statement
from tests.billing.stripe_fake import stripe_fake  # noqa: F401 (fixture)
from tests.conftest import ApiClient, make_member, make_org
from tests.tenancy.branding_helpers import PublishedResolver, image_bytes, upload
from tests.test_cross_tenant import API_ROUTES, Ids, _rich_body

ROLES = [Role.OWNER, Role.ADMIN, Role.MANAGER, Role.AGENT, Role.AUDITOR]


@dataclass(frozen=True)
class Route:
    kind: str  # read | write | delete | export | admin
    perm: Perm
    surface: str  # api | web
    method: str
    path: Callable[[object], str]  # org -> path (may create the target object)
    body: dict | None = None
    billing: bool = False  # the route exists only with billing on (OCTOPUSHX_BILLING)
    reseller: bool = False  # called in a reseller organisation (the white-label brand is a reseller's)
    multipart: bool = False  # ``body`` is a callable making a multipart form (uploads)
    resold: bool = False  # called in a customer organisation that buys through a reseller

    card: bool = False  # card payment set up, against the local Stripe fake

    def __str__(self) -> str:
        return f"{self.kind}:{self.surface}:{self.method.upper()} {self.path.__name__}"


def _failed_job(org) -> str:
    return str(Job.objects.create(tenant=org, kind="test.roles", state=JobState.FAILED).pk)


def _agent(org) -> str:
    return str(make_member(org, Role.AGENT, email=f"target-{Membership.objects.count()}@example.test").pk)


# Paths as named functions, so test ids say what they call.
def api_organization(org):
    return "/api/v1/organization"


def api_members(org):
    return "/api/v1/members"


def api_member(org):
    return f"/api/v1/members/{_agent(org)}"


def api_invitations(org):
    return "/api/v1/invitations"


def api_tokens(org):
    return "/api/v1/tokens"


def api_me(org):
    return "/api/v1/me"


def api_audit(org):
    return "/api/v1/audit"


def api_audit_verify(org):
    return "/api/v1/audit/verify"


def api_jobs(org):
    return "/api/v1/jobs"


def api_job_retry(org):
    return f"/api/v1/jobs/{_failed_job(org)}/retry"


def api_billing_plans(org):
    return "/api/v1/billing/plans"


def api_billing_subscription(org):
    return "/api/v1/billing/subscription"


def api_branding(org):
    return "/api/v1/branding"


def api_branding_logo(org):
    return "/api/v1/branding/logo"


def api_branding_favicon(org):
    return "/api/v1/branding/favicon"


def api_branding_domains(org):
    return "/api/v1/branding/domains"


def _brand_domain(org) -> str:
    n = BrandDomain.objects.count()
    return str(branding.add_domain(org, branding_actor(), f"crm{n}.roles.example").pk)


def branding_actor():
    from octopushx.core.context import Actor

    return Actor.system("test")


def api_branding_domain(org):
    return f"/api/v1/branding/domains/{_brand_domain(org)}"


def api_branding_domain_verify(org):
    return f"/api/v1/branding/domains/{_brand_domain(org)}/verify"


def page_branding(org):
    return reverse("tenancy:branding")


def _logo_form():
    return {"file": upload(image_bytes())}


def _favicon_form():
    return {"file": upload(image_bytes("ICO", (32, 32)), "favicon.ico")}


def page_billing(org):
    return reverse("billing:subscription")


def api_billing_profile(org):
    return "/api/v1/billing/profile"


def page_billing_details(org):
    return reverse("billing:profile")


def api_billing_usage(org):
    return "/api/v1/billing/usage?from=2026-03-01&to=2026-03-31"


def api_billing_invoices(org):
    return "/api/v1/billing/invoices"


def api_billing_invoice(org):
    return f"/api/v1/billing/invoices/{issued_invoice(org).pk}"


def api_billing_invoice_pdf(org):
    return f"/api/v1/billing/invoices/{issued_invoice(org).pk}/pdf"


def api_billing_stripe_checkout(org):
    return "/api/v1/billing/stripe/checkout"


def page_billing_card_checkout(org):
    return reverse("billing:card_checkout")


def page_billing_invoice_pdf(org):
    return reverse("billing:invoice_pdf", args=[issued_invoice(org).pk])


def _credit_note(org):
    from octopushx.billing import credits
    from octopushx.core.context import Actor

    return credits.issue_credit_note(issued_invoice(org), Actor.system("test"), reason="Role matrix", full=True)


def api_billing_credit_notes(org):
    return "/api/v1/billing/credit-notes"


def api_billing_credit_note(org):
    return f"/api/v1/billing/credit-notes/{_credit_note(org).pk}"


def api_billing_credit_note_pdf(org):
    return f"/api/v1/billing/credit-notes/{_credit_note(org).pk}/pdf"


def page_billing_credit_note_pdf(org):
    return reverse("billing:credit_note_pdf", args=[_credit_note(org).pk])


def api_price_book(org):
    return "/api/v1/billing/price-book"


def api_reseller_customers(org):
    return "/api/v1/reseller/customers"


def api_reseller_customer(org):
    customer = make_org("Roles Customer", kind=OrgKind.CUSTOMER, parent=org)
    return f"/api/v1/reseller/customers/{customer.pk}"


def api_reseller_statements(org):
    return "/api/v1/reseller/statements"


def api_reseller_statement(org):
    return f"/api/v1/reseller/statements/{issued_statement(org).pk}"


def api_reseller_statement_pdf(org):
    return f"/api/v1/reseller/statements/{issued_statement(org).pk}/pdf"


def page_reseller_statement_pdf(org):
    return reverse("reseller:statement_pdf", args=[issued_statement(org).pk])


def api_reseller_margins(org):
    return "/api/v1/reseller/margins"


def api_reseller_margins_csv(org):
    return "/api/v1/reseller/margins.csv"


def page_reseller_customers(org):
    return reverse("reseller:customers")


def page_reseller_customer(org):
    return reverse("reseller:customer", args=[make_org("Roles Customer", kind=OrgKind.CUSTOMER, parent=org).pk])


def page_price_book(org):
    return reverse("reseller:price_book")


def page_reseller_margins(org):
    return reverse("reseller:margins")


def page_reseller_margins_csv(org):
    return reverse("reseller:margins_csv")


def page_reseller_statement(org):
    return reverse("reseller:statement", args=[issued_statement(org).pk])


def api_support_access(org):
    return "/api/v1/organization/support-access"


def api_support_access_granted(org):
    from octopushx.tenancy import support

    support.grant(org, Actor.system("test"), hours=24)
    return "/api/v1/organization/support-access"


def page_support_access(org):
    return reverse("tenancy:support_access")


def page_settings(org):
    return reverse("tenancy:settings")


def page_members(org):
    return reverse("tenancy:members")


def page_invite(org):
    return reverse("tenancy:invite")


def page_change_role(org):
    return reverse("tenancy:change_role", args=[_agent(org)])


def page_remove_member(org):
    return reverse("tenancy:remove_member", args=[_agent(org)])


def page_audit(org):
    return reverse("shield:audit")


def page_audit_verify(org):
    return reverse("shield:audit_verify")


def page_audit_csv(org):
    return reverse("shield:audit_csv")


def page_jobs(org):
    return reverse("jobs:list")


def page_job_retry(org):
    return reverse("jobs:retry", args=[_failed_job(org)])


def page_delete_organization(org):
    return reverse("tenancy:delete")


def page_tokens(org):
    return reverse("accounts:tokens")


def page_sessions(org):
    return reverse("accounts:sessions")


def _tracker(org) -> str:
    return str(Tracker.objects.filter(tenant=org).order_by("name").first().pk)


def api_trackers(org):
    return "/api/v1/trackers"


def api_tracker(org):
    return f"/api/v1/trackers/{_tracker(org)}"


def page_trackers(org):
    return reverse("calls:trackers")


def page_tracker_new(org):
    return reverse("calls:tracker_new")


def page_tracker_delete(org):
    return reverse("calls:tracker_delete", args=[_tracker(org)])


ROUTES = [
    # read
    Route("read", Perm.READ, "api", "get", api_me),
    Route("read", Perm.READ, "api", "get", api_organization),
    Route("read", Perm.READ, "api", "get", api_members),
    Route("read", Perm.READ, "api", "get", api_tokens),
    Route("read", Perm.READ, "web", "get", page_settings),
    Route("read", Perm.READ, "web", "get", page_members),
    Route("read", Perm.READ, "web", "get", page_tokens),
    Route("read", Perm.READ, "web", "get", page_sessions),
    Route("read", Perm.AUDIT, "api", "get", api_audit),
    Route("read", Perm.AUDIT, "api", "get", api_audit_verify),
    Route("read", Perm.AUDIT, "web", "get", page_audit),
    Route("read", Perm.AUDIT, "web", "get", page_audit_verify),
    Route("read", Perm.READ, "api", "get", api_billing_plans, billing=True),
    Route("read", Perm.READ, "api", "get", api_billing_subscription, billing=True),
    # write: personal tokens are the member's own, every role may have them
    Route("write", Perm.READ, "api", "post", api_tokens, {"name": "ci"}),
    Route("write", Perm.READ, "web", "post", page_tokens, {"name": "ci", "expires_in_days": "30"}),
    Route("write", Perm.ADMIN, "api", "patch", api_member, {"role": Role.MANAGER}),
    Route("write", Perm.ADMIN, "web", "post", page_change_role, {"role": Role.MANAGER}),
    # delete
    Route("delete", Perm.ADMIN, "api", "delete", api_member),
    Route("delete", Perm.ADMIN, "web", "post", page_remove_member),
    # export
    Route("export", Perm.AUDIT, "web", "get", page_audit_csv),
    # admin
    Route("admin", Perm.ADMIN, "api", "patch", api_organization, {"name": "Renamed"}),
    Route("admin", Perm.OWNER, "api", "patch", api_organization, {"require_2fa": True}),
    Route(
        "admin",
        Perm.ADMIN,
        "web",
        "post",
        page_settings,
        {"name": "Renamed", "default_region": "GB"},
    ),
    Route(
        "admin",
        Perm.ADMIN,
        "api",
        "post",
        api_invitations,
        {"email": "new@example.test", "role": "agent"},
    ),
    Route(
        "admin",
        Perm.ADMIN,
        "web",
        "post",
        page_invite,
        {"email": "new@example.test", "role": "agent"},
    ),
    Route("admin", Perm.ADMIN, "api", "get", api_jobs),
    Route("admin", Perm.ADMIN, "api", "post", api_job_retry),
    Route("admin", Perm.ADMIN, "web", "get", page_jobs),
    Route("admin", Perm.ADMIN, "web", "post", page_job_retry),
    Route("admin", Perm.ADMIN, "api", "patch", api_billing_subscription, {"seats": 7}, billing=True),
    Route("admin", Perm.ADMIN, "web", "get", page_billing, billing=True),
    Route("admin", Perm.ADMIN, "api", "get", api_billing_usage, billing=True),
    Route("admin", Perm.ADMIN, "api", "get", api_billing_profile, billing=True),
    Route("admin", Perm.ADMIN, "api", "patch", api_billing_profile, {"country": "DE"}, billing=True),
    Route("admin", Perm.ADMIN, "web", "post", page_billing_details, {"country": "FR"}, billing=True),
    Route("admin", Perm.ADMIN, "api", "get", api_billing_invoices, billing=True),
    Route("admin", Perm.ADMIN, "api", "get", api_billing_invoice, billing=True),
    Route("admin", Perm.ADMIN, "api", "get", api_billing_invoice_pdf, billing=True),
    Route("admin", Perm.ADMIN, "web", "get", page_billing_invoice_pdf, billing=True),
    Route("admin", Perm.ADMIN, "api", "get", api_billing_credit_notes, billing=True),
    Route("admin", Perm.ADMIN, "api", "get", api_billing_credit_note, billing=True),
    Route("admin", Perm.ADMIN, "api", "get", api_billing_credit_note_pdf, billing=True),
    Route("admin", Perm.ADMIN, "web", "get", page_billing_credit_note_pdf, billing=True),
    Route("admin", Perm.ADMIN, "api", "post", api_billing_stripe_checkout, {}, billing=True, card=True),
    Route("admin", Perm.ADMIN, "web", "post", page_billing_card_checkout, {}, billing=True, card=True),
    Route(
        "admin",
        Perm.ADMIN,
        "web",
        "post",
        page_billing,
        {"plan": "starter", "seats": "7", "interval": "month"},
        billing=True,
    ),
    Route("delete", Perm.OWNER, "web", "post", page_delete_organization, {"confirm": "Acme Support"}),
    # call trackers: everyone reads them; owners, admins and managers shape them (the DELETE roles)
    Route("read", Perm.READ, "api", "get", api_trackers),
    Route("read", Perm.READ, "web", "get", page_trackers),
    Route("delete", Perm.DELETE, "api", "post", api_trackers, {"name": "Renewals", "phrases": ["renew"]}),
    Route("delete", Perm.DELETE, "api", "patch", api_tracker, {"phrases": ["renew"]}),
    Route("delete", Perm.DELETE, "api", "delete", api_tracker),
    Route("delete", Perm.DELETE, "web", "post", page_tracker_new, {"name": "Renewals", "phrases": "renew"}),
    Route("delete", Perm.DELETE, "web", "post", page_tracker_delete),
    # the white-label brand: every member reads theirs; reseller owners and admins edit it
    Route("read", Perm.READ, "api", "get", api_branding),
    Route("read", Perm.READ, "api", "get", api_branding, reseller=True),
    Route("admin", Perm.ADMIN, "api", "patch", api_branding, {"support_email": "help@roles.example"}, reseller=True),
    Route("admin", Perm.ADMIN, "api", "post", api_branding_logo, _logo_form, reseller=True, multipart=True),
    Route("admin", Perm.ADMIN, "api", "post", api_branding_favicon, _favicon_form, reseller=True, multipart=True),
    Route("admin", Perm.ADMIN, "api", "get", api_branding_domains, reseller=True),
    Route("admin", Perm.ADMIN, "api", "post", api_branding_domains, {"domain": "crm.roles.example"}, reseller=True),
    Route("admin", Perm.ADMIN, "api", "post", api_branding_domain_verify, reseller=True),
    Route("delete", Perm.ADMIN, "api", "delete", api_branding_domain, reseller=True),
    Route("admin", Perm.ADMIN, "web", "get", page_branding, reseller=True),
    Route(
        "admin",
        Perm.ADMIN,
        "web",
        "post",
        page_branding,
        {"action": "save", "product_name": "Roles Voice", "primary_color": "#4338ca"},
        reseller=True,
    ),
    # the reseller programme: its owners and admins only (a customer gets 404, see the walk)
    Route("admin", Perm.ADMIN, "api", "get", api_price_book, billing=True, reseller=True),
    Route(
        "admin",
        Perm.ADMIN,
        "api",
        "put",
        api_price_book,
        {"plans": {"team": {"month": "45.00"}}},
        billing=True,
        reseller=True,
    ),  # fmt: skip
    Route("admin", Perm.ADMIN, "api", "get", api_reseller_customers, billing=True, reseller=True),
    Route(
        "admin",
        Perm.ADMIN,
        "api",
        "post",
        api_reseller_customers,
        {"name": "New Customer", "admin_email": "new-customer@example.test", "plan": "team", "seats": 2},
        billing=True,
        reseller=True,
    ),  # fmt: skip
    Route("admin", Perm.ADMIN, "api", "get", api_reseller_customer, billing=True, reseller=True),
    Route("admin", Perm.ADMIN, "api", "patch", api_reseller_customer, {"seats": 3}, billing=True, reseller=True),
    Route("admin", Perm.ADMIN, "api", "patch", api_reseller_customer, {"suspended": True}, billing=True, reseller=True),
    Route("delete", Perm.ADMIN, "api", "delete", api_reseller_customer, billing=True, reseller=True),
    Route("admin", Perm.ADMIN, "api", "get", api_reseller_statements, billing=True, reseller=True),
    Route("admin", Perm.ADMIN, "api", "get", api_reseller_statement, billing=True, reseller=True),
    Route("admin", Perm.ADMIN, "api", "get", api_reseller_margins, billing=True, reseller=True),
    Route("admin", Perm.ADMIN, "api", "get", api_reseller_margins_csv, billing=True, reseller=True),
    Route("admin", Perm.ADMIN, "web", "get", page_reseller_customers, billing=True, reseller=True),
    Route(
        "admin",
        Perm.ADMIN,
        "web",
        "post",
        page_reseller_customers,
        {"name": "Web Customer", "admin_email": "web-customer@example.test", "plan": "team", "seats": "2"},
        billing=True,
        reseller=True,
    ),  # fmt: skip
    Route("admin", Perm.ADMIN, "web", "get", page_reseller_customer, billing=True, reseller=True),
    Route(
        "admin",
        Perm.ADMIN,
        "web",
        "post",
        page_reseller_customer,
        {"action": "change", "plan": "team", "seats": "4"},
        billing=True,
        reseller=True,
    ),  # fmt: skip
    Route("admin", Perm.ADMIN, "web", "get", page_price_book, billing=True, reseller=True),
    Route(
        "admin",
        Perm.ADMIN,
        "web",
        "post",
        page_price_book,
        {"currency": "GBP", "plan:team:month": "45.00"},
        billing=True,
        reseller=True,
    ),  # fmt: skip
    Route("admin", Perm.ADMIN, "web", "get", page_reseller_margins, billing=True, reseller=True),
    Route("admin", Perm.ADMIN, "web", "get", page_reseller_margins_csv, billing=True, reseller=True),
    Route("admin", Perm.ADMIN, "web", "get", page_reseller_statement, billing=True, reseller=True),
    Route("admin", Perm.ADMIN, "api", "get", api_reseller_statement_pdf, billing=True, reseller=True),
    Route("admin", Perm.ADMIN, "web", "get", page_reseller_statement_pdf, billing=True, reseller=True),
    # support access: admins see it, only owners grant or revoke it
    Route("admin", Perm.ADMIN, "api", "get", api_support_access, resold=True),
    Route("admin", Perm.OWNER, "api", "post", api_support_access, {"hours": 8}, resold=True),
    Route("delete", Perm.OWNER, "api", "delete", api_support_access_granted, resold=True),
    Route("admin", Perm.OWNER, "web", "post", page_support_access, {"action": "grant", "hours": "8"}, resold=True),
]


def _state(org) -> tuple:
    """What a forbidden call must leave unchanged."""
    org.refresh_from_db()
    return (
        org.name,
        org.deleted_at,
        org.require_2fa,
        sorted(Membership.objects.filter(tenant=org).values_list("pk", "role")),
        Invitation.objects.filter(tenant=org).count(),
        ApiToken.objects.filter(tenant=org).count(),
        sorted(Job.objects.filter(tenant=org).values_list("pk", "state")),
        list(Subscription.objects.filter(tenant=org).values_list("plan__slug", "seats", "interval")),
        (org.brand_name, org.brand_color),
        list(Brand.objects.filter(tenant=org).values_list("support_email", "logo_id", "favicon_id")),
        sorted(BrandDomain.objects.filter(tenant=org).values_list("domain", "verified_at")),
        # the reseller programme: its price book and its customers' state; support access grants
        sorted(SupportGrant.objects.filter(tenant=org).values_list("expires_at", "revoked_at")),
        PriceBook.objects.filter(tenant=org).count(),
        sorted((o.name, o.suspended_at) for o in org.children.all()),
        sorted(
            Subscription.objects.filter(tenant__parent=org).values_list(
                "tenant__name", "plan__slug", "seats", "cancel_at_period_end"
            )
        ),
        list(PaymentAccount.objects.filter(tenant=org).values_list("stripe_customer", "payment_method")),
        list(BillingProfile.objects.filter(tenant=org).values_list("country", "legal_name", "vat_number")),
        sorted(Tracker.objects.filter(tenant=org).values_list("name", "revision")),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_role_on_route(org, api_as, web_as, settings, monkeypatch, request, role, route):
    if route.card:
        request.getfixturevalue("stripe_fake")  # card payment on, the SDK pointed at a local fake
    settings.BILLING_ENABLED = route.billing
    monkeypatch.setattr(branding, "make_resolver", PublishedResolver)  # domains verify without the internet
    if route.reseller:
        org = make_org("Brand Reseller", kind=OrgKind.RESELLER)
    if route.resold:
        org = make_org("Resold Customer", kind=OrgKind.CUSTOMER, parent=make_org("Its Reseller", kind=OrgKind.RESELLER))
    path = route.path(org)
    if route.surface == "api":
        client = api_as(role, tenant=org)
    else:
        client = web_as(role, tenant=org)
    before = _state(org)
    call = getattr(client, route.method)
    body = route.body() if route.multipart else route.body
    options = {"multipart": True} if route.multipart else {}
    response = call(path, body, **options) if body is not None else call(path)
    if has_perm(role, route.perm):
        assert response.status_code in (200, 201, 204, 302), (
            f"{role} should be allowed {route}, got {response.status_code}"
        )
        if response.status_code == 302:
            assert "/accounts/login" not in response["Location"]
        if route.method != "get":
            assert _state(org) != before, f"{role} was allowed {route} but nothing changed"
    else:
        assert response.status_code == 403, f"{role} should be refused {route}, got {response.status_code}"
        # The caller's own sign-in is not data the route changed.
        assert _state(org) == before


@pytest.mark.parametrize("route", [r for r in ROUTES if r.kind == "export"], ids=str)
def test_export_is_audited(org, web_as, route):
    client = web_as(Role.AUDITOR)
    response = client.get(route.path(org))
    b"".join(response.streaming_content)
    assert AuditEntry.objects.filter(tenant=org, action="audit.exported").exists()


@pytest.mark.parametrize("role", ROLES)
def test_no_customer_role_marks_its_own_invoice_paid(org, api_as, settings, role):
    """POST /billing/invoices/{id}/mark-paid is platform staff's (bank transfers), never the customer's."""
    settings.BILLING_ENABLED = True
    invoice = issued_invoice(org)
    response = api_as(role).post(f"/api/v1/billing/invoices/{invoice.pk}/mark-paid")
    assert response.status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == "issued"


@pytest.mark.parametrize("role", ROLES)
def test_no_customer_role_credits_its_own_invoice(org, api_as, settings, role):
    """POST /billing/invoices/{id}/credit-notes is the issuer's (and platform staff's), never the customer's."""
    from octopushx.billing.models import CreditNote

    settings.BILLING_ENABLED = True
    invoice = issued_invoice(org)
    response = api_as(role).post(f"/api/v1/billing/invoices/{invoice.pk}/credit-notes", {"reason": "x", "full": True})
    assert response.status_code == 403
    assert not CreditNote.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_only_the_issuers_owners_and_admins_credit_an_invoice(org, settings, role):
    from octopushx.billing.models import CreditNote
    from octopushx.tenancy.services import platform_org

    settings.BILLING_ENABLED = True
    invoice = issued_invoice(org)
    client = ApiClient(make_member(platform_org(), role, email=f"{role}@platform.example"))
    response = client.post(f"/api/v1/billing/invoices/{invoice.pk}/credit-notes", {"reason": "x", "full": True})
    allowed = has_perm(role, Perm.ADMIN)
    assert response.status_code == (201 if allowed else 403)
    assert CreditNote.objects.filter(invoice=invoice).exists() == allowed


def test_platform_staff_mark_an_invoice_paid(org, settings):
    from octopushx.tenancy.services import platform_org

    settings.BILLING_ENABLED = True
    invoice = issued_invoice(org)
    staff = ApiClient(make_member(platform_org(), Role.ADMIN, email="staff@example.test"))
    assert staff.post(f"/api/v1/billing/invoices/{invoice.pk}/mark-paid").status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_every_route_kind_is_covered():
    assert {r.kind for r in ROUTES} == {"read", "write", "delete", "export", "admin"}


def test_matrix_matches_the_documented_roles():
    expected = {
        Role.OWNER: set(Perm),
        Role.ADMIN: set(Perm) - {Perm.OWNER},
        Role.MANAGER: {Perm.READ, Perm.WRITE, Perm.DELETE, Perm.EXPORT},
        Role.AGENT: {Perm.READ, Perm.WRITE},
        Role.AUDITOR: {Perm.READ, Perm.AUDIT},
    }
    for role, perms in expected.items():
        assert {p for p in Perm if role in MATRIX[p]} == perms, role


def test_no_role_means_no_permission():
    assert not any(has_perm(None, perm) for perm in Perm)


def test_visibility_scopes():
    assert scope_of(Role.AGENT) == Scope.OWN
    assert scope_of(Role.MANAGER) == Scope.TEAM
    assert {scope_of(r) for r in (Role.OWNER, Role.ADMIN, Role.AUDITOR)} == {Scope.ALL}


@pytest.mark.parametrize("granter", ROLES)
@pytest.mark.parametrize("role", ROLES)
def test_nobody_grants_above_their_own_role(granter, role):
    expected = has_perm(granter, Perm.ADMIN) and RANK[role] <= RANK[granter]
    assert can_grant(granter, role) == expected
    if role == Role.OWNER:
        assert can_grant(granter, role) == (granter == Role.OWNER)


# --- auditors change nothing, on any route (grows with the API) ----------------------------

# Writes that are the auditor's own, not the tenant's data.
AUDITOR_MAY = {
    "POST /api/v1/tokens": "personal API tokens act with the auditor's own read-only role",
    "DELETE /api/v1/tokens/{token_id}": "revoking one's own token",
    "PATCH /api/v1/me": "one's own profile (the time zone scheduled reports arrive in)",
    "POST /api/v1/security/alerts/{alert_id}/acknowledge": "reviewing security alerts is the audit role (Perm.AUDIT)",
    "POST /api/v1/telephony/flows/validate": "checks a call flow definition and saves nothing",
}

# Routes no role reaches: the caller is a provider that signs its requests, not a member.
SIGNED_BY_PROVIDER = {
    "POST /api/v1/billing/stripe/webhook": "Stripe's signature is the only key (tests/billing/test_stripe_webhook.py)",
}

WRITE_ROUTES = [r for r in API_ROUTES if r.method in ("post", "put", "patch", "delete")]


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=str)
def test_auditor_cannot_write_through_the_api(org, api_as, route):
    api = api_as(Role.AUDITOR)
    ids = Ids(org, api.membership.user)
    path = route.path.format(**{p: ids[p] for p in route.params})
    call = getattr(api, route.method)
    body = _rich_body(route) if route.body_spec else None
    response = call(path, body) if body is not None else call(path)
    if str(route) in AUDITOR_MAY:
        assert response.status_code < 400, f"{route}: {response.status_code}"
    elif str(route) in SIGNED_BY_PROVIDER:
        assert response.status_code in (400, 404), f"{route} took an unsigned call: {response.status_code}"
    elif response.status_code == 422:
        # Refused by the schema before any role check? Then an owner is refused the same way.
        owner = api_as(Role.OWNER)
        control = getattr(owner, route.method)(path, body) if route.body_spec else getattr(owner, route.method)(path)
        assert control.status_code == 422, (
            f"{route} told an auditor 422 but an owner {control.status_code}: check the role before the input"
        )
        pytest.skip(f"{route}: no valid sample body, so the role check is not reached")
    else:
        assert response.status_code == 403, (
            f"{route} answered {response.status_code} to an auditor (read-only). Check the role with "
            f"require(request, Perm.WRITE/DELETE/...), or list the route in AUDITOR_MAY with the reason."
        )


@pytest.mark.parametrize("role", ROLES)
def test_no_reseller_role_marks_its_own_statement_paid(db, settings, role):
    """POST /reseller/statements/{id}/mark-paid is platform staff's, never the reseller's."""
    settings.BILLING_ENABLED = True
    reseller = make_org("Paying Reseller", kind=OrgKind.RESELLER)
    statement = issued_statement(reseller)
    response = ApiClient(make_member(reseller, role)).post(f"/api/v1/reseller/statements/{statement.pk}/mark-paid")
    assert response.status_code == 403
    statement.refresh_from_db()
    assert statement.status == "issued"
