import pytest

from octopushx.crm.models import Contact


@pytest.fixture
def fields(admin_api):
    definitions = [
        {"object_type": "contact", "label": "Plan", "field_type": "select", "options": ["Free", "Gold"]},
        {"object_type": "contact", "label": "Seats", "field_type": "number"},
        {"object_type": "contact", "label": "Renews on", "field_type": "date"},
        {"object_type": "contact", "label": "Newsletter", "field_type": "boolean"},
        {"object_type": "contact", "label": "Channels", "field_type": "multi_select", "options": ["Phone", "Email"]},
        {"object_type": "contact", "label": "Website", "field_type": "url"},
        {"object_type": "contact", "label": "Billing email", "field_type": "email"},
        {"object_type": "contact", "label": "Pager", "field_type": "phone"},
        {"object_type": "contact", "label": "Budget", "field_type": "currency"},
        {"object_type": "contact", "label": "Bio", "field_type": "long_text"},
    ]
    for definition in definitions:
        response = admin_api.post("/api/v1/custom-fields", definition)
        assert response.status_code == 201, response.json()
    return definitions


def test_custom_field_values_are_validated_and_cleaned(admin_api, fields):
    response = admin_api.post(
        "/api/v1/contacts",
        {
            "first_name": "C",
            "custom_fields": {
                "plan": "Gold",
                "seats": "12",
                "renews_on": "2027-01-31",
                "newsletter": "yes",
                "channels": ["Phone"],
                "website": "example.com",
                "billing_email": "Bill@Example.com",
                "pager": "020 7946 0018",
                "budget": "1,500.50",
                "bio": "Long story",
            },
        },
    )
    body = response.json()
    assert response.status_code == 201, body
    assert body["custom_fields"] == {
        "plan": "Gold",
        "seats": "12",
        "renews_on": "2027-01-31",
        "newsletter": True,
        "channels": ["Phone"],
        "website": "https://example.com",
        "billing_email": "bill@example.com",
        "pager": "+442079460018",
        "budget": "1500.50",
        "bio": "Long story",
    }


def test_unknown_field_and_bad_option_are_field_errors(admin_api, fields, org):
    response = admin_api.post(
        "/api/v1/contacts", {"first_name": "C", "custom_fields": {"plan": "Platinum", "shoe_size": 9, "seats": "many"}}
    )
    errors = response.json()["errors"]
    assert response.status_code == 422
    assert {"custom_fields.plan", "custom_fields.shoe_size", "custom_fields.seats"} <= set(errors)
    assert not Contact.objects.for_tenant(org).exists()


def test_patch_merges_custom_values(admin_api, fields):
    contact = admin_api.post("/api/v1/contacts", {"first_name": "C", "custom_fields": {"plan": "Free"}}).json()
    body = admin_api.patch(f"/api/v1/contacts/{contact['id']}", {"custom_fields": {"seats": 3}}).json()
    assert body["custom_fields"] == {"plan": "Free", "seats": "3"}


def test_filter_on_custom_field(admin_api, fields):
    admin_api.post("/api/v1/contacts", {"first_name": "G", "custom_fields": {"plan": "Gold", "newsletter": True}})
    admin_api.post("/api/v1/contacts", {"first_name": "F", "custom_fields": {"plan": "Free"}})
    assert [c["first_name"] for c in admin_api.get("/api/v1/contacts?cf.plan=Gold").json()["items"]] == ["G"]
    assert [c["first_name"] for c in admin_api.get("/api/v1/contacts?cf.newsletter=yes").json()["items"]] == ["G"]
    assert admin_api.get("/api/v1/contacts?cf.nope=1").status_code == 422


def test_select_needs_options_and_key_is_unique(admin_api, fields):
    response = admin_api.post("/api/v1/custom-fields", {"object_type": "deal", "label": "Kind", "field_type": "select"})
    assert response.status_code == 422 and "options" in response.json()["errors"]
    response = admin_api.post(
        "/api/v1/custom-fields", {"object_type": "contact", "label": "Plan", "field_type": "text"}
    )
    assert response.status_code == 422 and "key" in response.json()["errors"]


def test_required_custom_field(admin_api):
    admin_api.post(
        "/api/v1/custom-fields", {"object_type": "company", "label": "VAT", "field_type": "text", "required": True}
    )
    response = admin_api.post("/api/v1/companies", {"name": "NoVat"})
    assert response.status_code == 422 and "custom_fields.vat" in response.json()["errors"]


def test_only_admins_define_fields(api_as):
    response = api_as("manager").post(
        "/api/v1/custom-fields", {"object_type": "contact", "label": "X", "field_type": "text"}
    )
    assert response.status_code == 403
