"""The white-label brand: which brand an organisation shows, editing it through the API, its images."""

from __future__ import annotations

import pytest

from octopushx.core.models import AuditEntry, Blob
from octopushx.tenancy import branding
from octopushx.tenancy.models import Brand, OrgKind
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member, make_org
from tests.tenancy.branding_helpers import SYSTEM, image_bytes, make_reseller, upload

BRAND_BODY = {
    "product_name": "Northwind Voice",
    "primary_color": "#4338ca",
    "support_email": "help@northwind.example",
    "support_url": "https://help.northwind.example",
    "sender_name": "Northwind Voice",
    "sender_email": "hello@northwind.example",
}


def brand_state(org) -> tuple:
    org.refresh_from_db()
    record = Brand.objects.filter(tenant=org).values_list(
        "support_email", "support_url", "sender_name", "sender_email", "logo_id", "favicon_id"
    )
    return org.brand_name, org.brand_color, list(record), Blob.objects.filter(tenant=org).count()


# --- which brand -----------------------------------------------------------------------------


def test_customer_shows_its_resellers_brand(db):
    reseller = make_reseller(support_email="help@northwind.example")
    customer = make_org("Their customer", parent=reseller)
    resolved = branding.for_organization(customer)
    assert resolved.product_name == "Northwind Voice"
    assert resolved.support_email == "help@northwind.example"
    assert resolved.white_label
    assert customer.brand == "Northwind Voice"  # the old property still agrees


def test_customer_of_an_unbranded_reseller_shows_the_platform_brand(db):
    reseller = make_org("Plain reseller", kind=OrgKind.RESELLER)
    customer = make_org("Their customer", parent=reseller)
    resolved = branding.for_organization(customer)
    assert resolved.product_name == "OctopushX" and not resolved.white_label


def test_a_reseller_brand_never_borrows_the_platforms_logo(db):
    from octopushx.tenancy.services import platform_org

    platform = platform_org()
    branding.set_image(platform, SYSTEM, "logo", image_bytes())
    reseller = make_reseller()
    customer = make_org("Their customer", parent=reseller)
    assert branding.for_organization(customer).logo_url == ""
    assert branding.for_organization(make_org("Direct customer")).logo_url.startswith("/brand-assets/")


def test_white_label_emails_come_from_the_brands_sender(db, settings):
    settings.DEFAULT_FROM_EMAIL = "Platform <no-reply@platform.example>"
    reseller = make_reseller(sender_name="Northwind", sender_email="hello@northwind.example")
    assert branding.for_organization(reseller).from_email == "Northwind <hello@northwind.example>"
    bare = make_reseller("Bare reseller", "Bare Voice")
    # No sender set: the brand's name with the operator's address, never the operator's name.
    assert branding.for_organization(bare).from_email == "Bare Voice <no-reply@platform.example>"


# --- GET/PATCH /branding ---------------------------------------------------------------------


def test_reseller_admin_edits_its_brand(db):
    reseller = make_reseller(product="")
    api = ApiClient(make_member(reseller, Role.ADMIN))
    response = api.patch("/api/v1/branding", BRAND_BODY)
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in BRAND_BODY} == BRAND_BODY and body["editable"] is True
    reseller.refresh_from_db()
    assert (reseller.brand_name, reseller.brand_color) == ("Northwind Voice", "#4338ca")
    entry = AuditEntry.objects.filter(tenant=reseller, action="brand.updated").get()
    assert entry.personal.changes["support_email"] == ["", "help@northwind.example"]


def test_customer_reads_its_resellers_brand_and_cannot_edit_it(db):
    reseller = make_reseller(support_email="help@northwind.example")
    customer = make_org("Their customer", parent=reseller)
    api = ApiClient(make_member(customer, Role.OWNER))
    body = api.get("/api/v1/branding").json()
    assert body["product_name"] == "Northwind Voice" and body["support_email"] == "help@northwind.example"
    assert body["editable"] is False and body["organization_id"] is None
    before = brand_state(reseller)
    response = api.patch("/api/v1/branding", {"product_name": "Hijacked"})
    assert response.status_code == 403 and "provider" in response.json()["detail"]
    assert brand_state(reseller) == before


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT, Role.AUDITOR])
def test_reseller_members_below_admin_cannot_edit(db, role):
    reseller = make_reseller()
    api = ApiClient(make_member(reseller, role))
    before = brand_state(reseller)
    assert api.get("/api/v1/branding").status_code == 200
    assert api.patch("/api/v1/branding", {"product_name": "Changed"}).status_code == 403
    assert brand_state(reseller) == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"primary_color": "red; background: url(x)"}, "primary_color"),
        ({"primary_color": "#12345"}, "primary_color"),
        ({"support_email": "not an email"}, "support_email"),
        ({"sender_email": "hello@"}, "sender_email"),
        ({"support_url": "javascript:alert(1)"}, "support_url"),
        ({"product_name": "   "}, "product_name"),
        ({"product_name": None}, "product_name"),
        ({"sender_name": "Evil\r\nBcc: all@example.test"}, "sender_name"),
    ],
)
def test_bad_brand_input_is_422_and_changes_nothing(db, body, field):
    reseller = make_reseller()
    api = ApiClient(make_member(reseller, Role.OWNER))
    before = brand_state(reseller)
    response = api.patch("/api/v1/branding", {**body, "support_email": body.get("support_email", "ok@example.test")})
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert brand_state(reseller) == before


# --- logo and favicon ------------------------------------------------------------------------


def test_logo_upload_stores_an_encrypted_blob_served_publicly(db, client):
    reseller = make_reseller()
    api = ApiClient(make_member(reseller, Role.ADMIN))
    data = image_bytes()
    response = api.post("/api/v1/branding/logo", {"file": upload(data)}, multipart=True)
    assert response.status_code == 200, response.content
    logo_url = response.json()["logo_url"]
    record = Brand.objects.get(tenant=reseller)
    assert record.logo.content_type == "image/png" and record.logo.tenant_id == reseller.pk
    served = client.get(logo_url)  # anonymous: the sign-in page shows it
    assert served.status_code == 200 and served.content == data and served["Content-Type"] == "image/png"
    assert AuditEntry.objects.filter(tenant=reseller, action="brand.logo_changed").exists()


def test_replacing_the_logo_removes_the_old_file(db, django_capture_on_commit_callbacks):
    reseller = make_reseller()
    with django_capture_on_commit_callbacks(execute=True):
        branding.set_image(reseller, SYSTEM, "logo", image_bytes())
    first = Brand.objects.get(tenant=reseller).logo_id
    with django_capture_on_commit_callbacks(execute=True):
        branding.set_image(reseller, SYSTEM, "logo", image_bytes(color="#000000"))
    assert not Blob.objects.filter(pk=first).exists()
    assert Blob.objects.filter(tenant=reseller).count() == 1


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"%PDF-1.4 not an image", "logo.png", "Not an image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.svg", "Not an image"),
        (b"", "empty.png", "empty"),
        (image_bytes(size=(5000, 10)), "wide.png", "pixels"),
        (image_bytes(fmt="BMP"), "logo.bmp", "BMP images are not accepted"),
        (image_bytes() + b"\0" * (1024 * 1024), "huge.png", "at most 1024 KB"),
    ],
)
def test_bad_logo_is_422_and_changes_nothing(db, data, name, message):
    reseller = make_reseller()
    api = ApiClient(make_member(reseller, Role.ADMIN))
    before = brand_state(reseller)
    response = api.post("/api/v1/branding/logo", {"file": upload(data, name)}, multipart=True)
    assert response.status_code == 422, response.content
    assert any(message in m for m in response.json()["errors"]["file"]), response.json()
    assert brand_state(reseller) == before


def test_favicon_accepts_ico(db):
    reseller = make_reseller()
    api = ApiClient(make_member(reseller, Role.ADMIN))
    response = api.post(
        "/api/v1/branding/favicon", {"file": upload(image_bytes("ICO", (32, 32)), "favicon.ico")}, multipart=True
    )
    assert response.status_code == 200, response.content
    assert Brand.objects.get(tenant=reseller).favicon.content_type == "image/x-icon"


def test_unknown_brand_asset_is_404(db, client):
    customer_blob = Blob.objects.create(tenant=make_org("Acme"), path="x/y", size=1)
    # A stored file that is not a brand image (a recording, an export) is never served here.
    assert client.get(f"/brand-assets/{customer_blob.pk}/").status_code == 404


def test_a_reseller_brand_without_a_product_name_never_falls_back_to_the_platforms(db):
    reseller = make_org("Northwind Telecom", kind=OrgKind.RESELLER)
    branding.set_image(reseller, SYSTEM, "logo", image_bytes())
    customer = make_org("Their customer", parent=reseller)
    # Emails, PDFs and alerts read Organization.brand: the reseller's name, not the platform's.
    assert customer.brand == "Northwind Telecom"
    assert branding.for_organization(customer).product_name == "Northwind Telecom"
