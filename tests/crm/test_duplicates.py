from django.urls import reverse

from octopushx.core.models import AuditEntry
from octopushx.crm.models import Contact, Note, Task

from .conftest import make_company, make_contact, make_deal


def test_create_reports_possible_duplicates(admin_api, org):
    first = make_contact(org, email="twin@example.com")
    body = admin_api.post("/api/v1/contacts", {"first_name": "Twin", "email": "TWIN@example.com"}).json()
    assert body["possible_duplicates"] == [str(first.pk)]


def test_find_pairs_by_email_phone_and_similar_name(admin_api, org):
    company = make_company(org, name="Acme")
    make_contact(org, first_name="A", email="same@example.com")
    make_contact(org, first_name="B", email="same@example.com")
    make_contact(org, first_name="C", phone="+442079460018")
    make_contact(org, first_name="D", phone="020 7946 0018")
    make_contact(org, first_name="Jonathan", last_name="Smith", company_id=str(company.pk))
    make_contact(org, first_name="Jonathon", last_name="Smith", company_id=str(company.pk))
    make_contact(org, first_name="Jonathan", last_name="Smith")  # other company: not a pair by name
    items = admin_api.get("/api/v1/duplicates").json()["items"]
    reasons = sorted(i["reason"] for i in items)
    assert reasons == ["same email", "same phone", "similar name at the same company"]


def test_merge_keeps_everything_and_is_audited(admin_api, org):
    keep = make_contact(org, first_name="Keep", email="k@example.com", tags=["a"])
    remove = make_contact(
        org,
        first_name="Gone",
        last_name="Smith",
        email="g@example.com",
        phone="+442079460018",
        tags=["b"],
        job_title="CTO",
    )
    deal = make_deal(org, contact_ids=[str(remove.pk)])
    admin_api.post("/api/v1/notes", {"body": "old note", "contact_id": str(remove.pk)})
    admin_api.post("/api/v1/tasks", {"title": "old task", "contact_id": str(remove.pk)})
    admin_api.patch(f"/api/v1/contacts/{remove.pk}", {"city": "Leeds"})
    response = admin_api.post(f"/api/v1/contacts/{keep.pk}/merge", {"remove_id": str(remove.pk)})
    body = response.json()
    assert response.status_code == 200, body
    assert body["emails"] == ["k@example.com", "g@example.com"] and body["phones"] == ["+442079460018"]
    assert body["tags"] == ["a", "b"] and body["job_title"] == "CTO" and body["city"] == "Leeds"
    assert not Contact.objects.filter(pk=remove.pk).exists()
    assert Note.objects.get().contact_id == keep.pk and Task.objects.get().contact_id == keep.pk
    assert list(deal.contacts.all()) == [keep]
    assert AuditEntry.objects.filter(tenant=org, action="contact.merged", object_id=str(keep.pk)).exists()
    timeline = admin_api.get(f"/api/v1/contacts/{keep.pk}/timeline").json()["items"]
    assert any(e["changes"].get("city") == ["", "Leeds"] for e in timeline)  # the removed contact's history


def test_merge_bad_input(admin_api, org, other_org):
    keep = make_contact(org)
    assert admin_api.post(f"/api/v1/contacts/{keep.pk}/merge", {"remove_id": str(keep.pk)}).status_code == 422
    foreign = make_contact(other_org)
    response = admin_api.post(f"/api/v1/contacts/{keep.pk}/merge", {"remove_id": str(foreign.pk)})
    assert response.status_code == 422 and "remove_id" in response.json()["errors"]
    assert Contact.objects.filter(pk=foreign.pk).exists()


def test_agents_cannot_merge(api_as, org):
    agent = api_as("agent")
    a, b = make_contact(org, owner=agent.membership), make_contact(org, owner=agent.membership)
    assert agent.post(f"/api/v1/contacts/{a.pk}/merge", {"remove_id": str(b.pk)}).status_code == 403


def test_merge_and_undo_in_the_session(web_as, org):
    client = web_as("manager")
    from django.contrib.auth import get_user_model

    me = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    keep = make_contact(org, first_name="Keep", email="same@example.com", owner_id=str(me.pk))
    remove = make_contact(org, first_name="Twin", email="same@example.com", phone="+442079460018", owner_id=str(me.pk))
    Note.objects.create(tenant=org, contact=remove, body="history")
    page = client.get(reverse("crm:duplicates")).content.decode()
    assert "Keep" in page and "Twin" in page and "same email" in page
    client.post(reverse("crm:merge"), {"keep_id": keep.pk, "remove_id": remove.pk})
    assert not Contact.objects.filter(pk=remove.pk).exists()
    page = client.get(reverse("crm:duplicates")).content.decode()
    assert "Undo" in page
    from octopushx.crm.models import Merge

    merge = Merge.objects.get()
    client.post(reverse("crm:merge_undo", args=[merge.pk]))
    restored = Contact.objects.get(pk=remove.pk)
    assert restored.first_name == "Twin" and restored.phone == "+442079460018"
    assert Note.objects.get().contact_id == remove.pk
    keep.refresh_from_db()
    assert [p.number for p in keep.phones.all()] == [] and keep.merged_ids == []


def test_undo_only_within_the_session(web_as, org, client):
    from octopushx.core.context import Actor
    from octopushx.crm import dedupe

    a, b = make_contact(org), make_contact(org)
    merge = dedupe.merge(org, Actor.system("test"), a, b)
    web = web_as("owner")
    assert web.post(reverse("crm:merge_undo", args=[merge.pk])).status_code == 404
    assert "Undo merge" not in web.get(reverse("crm:contact", args=[a.pk])).content.decode()


def test_the_kept_contacts_page_offers_the_undo_until_it_is_used(web_as, org):
    client = web_as("owner")
    keep = make_contact(org, first_name="Keep", email="same@example.com")
    remove = make_contact(org, first_name="Twin", last_name="Copy", email="same@example.com")
    response = client.post(reverse("crm:merge"), {"keep_id": keep.pk, "remove_id": remove.pk}, follow=True)
    page = response.content.decode()
    assert "Twin Copy was merged into this contact" in page and "Undo merge" in page
    from octopushx.crm.models import Merge

    client.post(reverse("crm:merge_undo", args=[Merge.objects.get().pk]))
    assert "Undo merge" not in client.get(reverse("crm:contact", args=[keep.pk])).content.decode()


def test_form_create_warns_about_duplicates(web_as, org):
    client = web_as("admin")
    make_contact(org, first_name="Original", email="dup@example.com")
    response = client.post(
        reverse("crm:contact_new"),
        {
            "first_name": "Copy",
            "email": "dup@example.com",
            "lifecycle_stage": "lead",
            "lead_status": "new",
            "consent": "unknown",
        },
        follow=True,
    )
    assert "Possible duplicate of" in response.content.decode()
