from octopushx.core.models import AuditEntry, Job
from octopushx.crm.models import Contact

from .conftest import make_contact


def test_create_contact_with_shorthand_returns_e164(admin_api):
    response = admin_api.post(
        "/api/v1/contacts",
        {"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com", "phone": "020 7946 0018"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] and body["emails"] == ["ada@example.com"] and body["phones"] == ["+442079460018"]
    assert body["email"] == "ada@example.com" and body["phone"] == "+442079460018"


def test_create_contact_with_full_lists_keeps_labels(admin_api):
    response = admin_api.post(
        "/api/v1/contacts",
        {
            "first_name": "Grace",
            "emails": ["g@home.example", {"email": "grace@work.example", "label": "work", "primary": True}],
            "phones": ["+1 202 555 0143", {"number": "07911 123456", "label": "mobile"}],
        },
    )
    body = response.json()
    assert response.status_code == 201, body
    assert body["emails"] == ["grace@work.example", "g@home.example"]
    assert body["phones"] == ["+12025550143", "+447911123456"]
    assert body["email_details"][0] == {"email": "grace@work.example", "label": "work", "primary": True}


def test_create_contact_audits_and_emits(admin_api, org):
    body = admin_api.post("/api/v1/contacts", {"first_name": "Ada", "email": "ada@example.com"}).json()
    entry = AuditEntry.objects.get(tenant=org, action="contact.created", object_id=body["id"])
    assert entry.personal.changes["emails"] == [None, ["ada@example.com"]]


def test_invalid_email_and_phone_give_field_errors_and_save_nothing(admin_api, org):
    response = admin_api.post("/api/v1/contacts", {"first_name": "X", "email": "not-an-email", "phone": "12"})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert "email" in errors and "phone" in errors
    assert not Contact.objects.for_tenant(org).exists()


def test_contact_needs_a_name_email_or_phone(admin_api):
    response = admin_api.post("/api/v1/contacts", {"job_title": "CTO"})
    assert response.status_code == 422 and "first_name" in response.json()["errors"]


def test_unknown_choice_is_a_field_error(admin_api):
    response = admin_api.post("/api/v1/contacts", {"first_name": "A", "lifecycle_stage": "alien"})
    assert response.status_code == 422 and "lifecycle_stage" in response.json()["errors"]


def test_patch_changes_only_given_fields(admin_api, org):
    contact = make_contact(org, email="ada@example.com", phone="+442079460018", job_title="Countess")
    response = admin_api.patch(f"/api/v1/contacts/{contact.pk}", {"job_title": "Mathematician"})
    body = response.json()
    assert response.status_code == 200, body
    assert body["job_title"] == "Mathematician" and body["first_name"] == "Ada"
    assert body["emails"] == ["ada@example.com"] and body["phones"] == ["+442079460018"]
    entry = AuditEntry.objects.get(tenant=org, action="contact.updated")
    assert entry.personal.changes == {"job_title": ["Countess", "Mathematician"]}


def test_patch_email_shorthand_replaces_primary_and_keeps_others(admin_api, org):
    contact = make_contact(org, emails=["a@x.example", "b@x.example"])
    body = admin_api.patch(f"/api/v1/contacts/{contact.pk}", {"email": "c@x.example"}).json()
    assert body["emails"] == ["c@x.example", "b@x.example"]


def test_delete_contact(api_as, org):
    manager = api_as("manager")
    contact = make_contact(org, owner=manager.membership)
    response = manager.delete(f"/api/v1/contacts/{contact.pk}")
    assert response.status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert AuditEntry.objects.filter(tenant=org, action="contact.deleted").exists()


def test_list_filters_and_pages(admin_api, org):
    for index in range(5):
        make_contact(org, first_name=f"P{index}", lifecycle_stage="customer" if index % 2 else "lead")
    body = admin_api.get("/api/v1/contacts?lifecycle_stage=customer&limit=1").json()
    assert len(body["items"]) == 1 and body["next"]
    second = admin_api.get(f"/api/v1/contacts?lifecycle_stage=customer&limit=1&cursor={body['next']}").json()
    assert len(second["items"]) == 1 and second["next"] is None
    assert {body["items"][0]["first_name"], second["items"][0]["first_name"]} == {"P1", "P3"}


def test_a_list_item_is_the_contact_as_one_contact_answers_it(admin_api, org):
    """The list builds its items in bulk (``contact_items``); they must equal the single answer."""
    full = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "emails": ["g@home.example", {"email": "grace@work.example", "label": "work", "primary": True}],
        "phones": ["+1 202 555 0143", {"number": "07911 123456", "label": "mobile"}],
        "tags": ["vip", "beta"],
        "city": "Arlington",
        "consent": "granted",
    }
    created = [
        admin_api.post("/api/v1/contacts", full).json(),
        admin_api.post("/api/v1/contacts", {"first_name": "Bare"}).json(),
    ]
    listed = {item["id"]: item for item in admin_api.get("/api/v1/contacts").json()["items"]}
    for contact in created:
        one = admin_api.get(f"/api/v1/contacts/{contact['id']}").json()
        assert listed[contact["id"]] == one
    assert listed[created[0]["id"]]["tags"] == ["beta", "vip"]
    assert listed[created[0]["id"]]["phones"] == ["+12025550143", "+447911123456"]


def test_list_orders_by_name(admin_api, org):
    for name in ("Cole", "Abel", "Bede"):
        make_contact(org, last_name=name)
    body = admin_api.get("/api/v1/contacts?ordering=last_name").json()
    assert [c["last_name"] for c in body["items"]] == ["Abel", "Bede", "Cole"]


def test_surname_order_sorts_first_names_within_a_surname_across_pages(admin_api, org):
    for first in ("Cy", "Ada", "Bo", "Ada"):
        make_contact(org, first_name=first, last_name="Same")
    make_contact(org, first_name="Zed", last_name="Abel")
    seen, cursor = [], None
    while True:
        params = {"ordering": "-last_name", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = admin_api.get("/api/v1/contacts", params).json()
        seen += [(c["last_name"], c["first_name"]) for c in body["items"]]
        if not (cursor := body["next"]):
            break
    assert seen == [("Same", "Cy"), ("Same", "Bo"), ("Same", "Ada"), ("Same", "Ada"), ("Abel", "Zed")]


def test_unknown_ordering_is_422(admin_api):
    response = admin_api.get("/api/v1/contacts?ordering=password")
    assert response.status_code == 422 and "ordering" in response.json()["errors"]


def test_search_matches_phone_in_any_format(admin_api, org):
    make_contact(org, first_name="Phoebe", phone="+44 20 7946 0018")
    make_contact(org, first_name="Other", phone="+44 20 7946 0999")
    for typed in ("020 7946 0018", "+442079460018", "(020) 7946-0018", "0044 20 7946 0018", "79460018"):
        items = admin_api.get("/api/v1/contacts", {"q": typed}).json()["items"]
        assert [c["first_name"] for c in items] == ["Phoebe"], typed


def test_search_matches_names_and_emails(admin_api, org):
    make_contact(org, first_name="Ada", last_name="Lovelace", email="countess@analytical.example")
    make_contact(org, first_name="Charles", last_name="Babbage", email="charles@engine.example")
    assert [c["last_name"] for c in admin_api.get("/api/v1/contacts?q=ada love").json()["items"]] == ["Lovelace"]
    assert [c["last_name"] for c in admin_api.get("/api/v1/contacts?q=analytical.example").json()["items"]] == [
        "Lovelace"
    ]
    assert [c["last_name"] for c in admin_api.get("/api/v1/contacts?q=charles@").json()["items"]] == ["Babbage"]


def test_tags_are_created_and_filterable(admin_api, org):
    admin_api.post("/api/v1/contacts", {"first_name": "T", "tags": ["vip", "Beta"]})
    admin_api.post("/api/v1/contacts", {"first_name": "U", "tags": ["beta"]})
    body = admin_api.get("/api/v1/contacts?tag=VIP").json()
    assert [c["first_name"] for c in body["items"]] == ["T"]
    assert len(admin_api.get("/api/v1/contacts?tag=beta").json()["items"]) == 2


def test_contact_events_are_queued_for_subscribers(admin_api, org):
    from octopushx.core import events

    seen = []
    events.subscribe("contact.*", name="crm-test-contacts")(lambda event: seen.append(event.name))
    try:
        admin_api.post("/api/v1/contacts", {"first_name": "E"})
        assert Job.objects.filter(kind="event.deliver", payload__subscriber="crm-test-contacts").count() == 1
    finally:
        events.SUBSCRIBERS.pop("crm-test-contacts")
