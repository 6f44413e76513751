"""The CRM's web pages: lists, detail with timeline, forms, bulk actions, board, tasks, search."""

import pytest
from django.db import connection
from django.urls import reverse

from octopushx.crm.models import Company, Contact, Deal, SavedView, Task

from .conftest import make_company, make_contact, make_deal


def test_contact_list_searches_filters_and_sorts(web_as, org):
    client = web_as("admin")
    make_contact(org, first_name="Ada", last_name="Lovelace", email="ada@example.com", lifecycle_stage="customer")
    make_contact(org, first_name="Bob", last_name="Builder", lifecycle_stage="lead")
    page = client.get(reverse("crm:contacts"), {"q": "ada"}).content.decode()
    assert "Ada Lovelace" in page and "Bob Builder" not in page
    page = client.get(reverse("crm:contacts"), {"lifecycle_stage": "lead"}).content.decode()
    assert "Bob Builder" in page and "Ada Lovelace" not in page
    page = client.get(reverse("crm:contacts"), {"ordering": "-last_name"}).content.decode()
    assert page.index("Ada Lovelace") < page.index("Bob Builder")
    make_contact(org, first_name="Aaron", last_name="Lovelace")
    page = client.get(reverse("crm:contacts"), {"ordering": "last_name"}).content.decode()
    assert page.index("Bob Builder") < page.index("Aaron Lovelace") < page.index("Ada Lovelace")


def test_list_with_bad_filter_shows_a_message_not_500(web_as):
    response = web_as("admin").get(reverse("crm:contacts"), {"owner_id": "nope", "ordering": "secret"})
    assert response.status_code == 200 and "Some filters were not applied" in response.content.decode()


def test_list_column_choice(web_as, org):
    client = web_as("admin")
    make_contact(org, job_title="Chief Tinkerer")
    assert "Chief Tinkerer" not in client.get(reverse("crm:contacts")).content.decode()
    assert "Chief Tinkerer" in client.get(reverse("crm:contacts"), {"cols": "job_title"}).content.decode()


def test_agent_list_shows_only_own(web_as, org):
    client = web_as("agent")
    make_contact(org, first_name="Hidden", last_name="Person")
    assert "Hidden Person" not in client.get(reverse("crm:contacts")).content.decode()


def test_contact_detail_has_timeline_with_notes_tasks_and_changes(web_as, org):
    client = web_as("admin")
    contact = make_contact(org, first_name="Tim", last_name="Line")
    client.post(reverse("crm:note_new"), {"body": "<p>Met at expo</p>", "contact_id": contact.pk, "next": "/x"})
    client.post(reverse("crm:task_new"), {"title": "Follow up", "contact_id": contact.pk})
    client.post(
        reverse("crm:contact_edit", args=[contact.pk]),
        {
            "first_name": "Tim",
            "last_name": "Line",
            "job_title": "Engineer",
            "lifecycle_stage": "lead",
            "lead_status": "new",
            "consent": "unknown",
        },
    )
    page = client.get(reverse("crm:contact", args=[contact.pk])).content.decode()
    assert "Met at expo" in page and "Follow up" in page and "Job title set to Engineer" in page
    assert "job_title" not in page  # the change reads as a sentence, not the field's code
    only_notes = client.get(reverse("crm:contact", args=[contact.pk]), {"kind": "note"}).content.decode()
    assert "Met at expo" in only_notes and "Task: Follow up" not in only_notes


def test_create_form_shows_field_errors_and_saves_nothing(web_as, org):
    client = web_as("admin")
    response = client.post(
        reverse("crm:contact_new"),
        {
            "first_name": "Bad",
            "email": "nope",
            "phone": "12",
            "lifecycle_stage": "lead",
            "lead_status": "new",
            "consent": "unknown",
        },
    )
    page = response.content.decode()
    assert (
        response.status_code == 422 and "is not a valid email address" in page and "is not a valid phone number" in page
    )
    assert not Contact.objects.for_tenant(org).exists()


def test_create_contact_through_the_form(web_as, org):
    client = web_as("agent")
    response = client.post(
        reverse("crm:contact_new"),
        {
            "first_name": "New",
            "last_name": "Person",
            "email": "new@example.com",
            "more_emails": "alt@example.com",
            "phone": "020 7946 0018",
            "tags": "vip, trade",
            "lifecycle_stage": "lead",
            "lead_status": "new",
            "consent": "granted",
            "lawful_basis": "consent",
        },
    )
    contact = Contact.objects.for_tenant(org).get()
    assert response.status_code == 302 and response.url == reverse("crm:contact", args=[contact.pk])
    assert [e.email for e in contact.emails.all()] == ["new@example.com", "alt@example.com"]
    assert contact.phone == "+442079460018" and sorted(t.name for t in contact.tags.all()) == ["trade", "vip"]


def test_inline_edit_with_htmx_returns_the_fields(web_as, org):
    client = web_as("admin")
    company = make_company(org, name="Old name")
    form = client.get(reverse("crm:company_edit", args=[company.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-post" in form and "<html" not in form
    response = client.post(reverse("crm:company_edit", args=[company.pk]), {"name": "New name"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "record-fields" not in response.content.decode()[:20]
    company.refresh_from_db()
    assert company.name == "New name"


def test_custom_fields_appear_in_forms_and_are_validated(web_as, org, admin_api):
    admin_api.post(
        "/api/v1/custom-fields",
        {"object_type": "company", "label": "Tier", "field_type": "select", "options": ["A", "B"]},
    )
    client = web_as("owner")
    assert "Tier" in client.get(reverse("crm:company_new")).content.decode()
    client.post(reverse("crm:company_new"), {"name": "Tiered", "cf_tier": "B"})
    assert Company.objects.for_tenant(org).get().custom == {"tier": "B"}


def test_bulk_assign_owner_and_tag(web_as, org):
    client = web_as("admin")
    from tests.conftest import make_member

    agent = make_member(org, "agent", email="bulk-agent@example.test")
    contacts = [make_contact(org, first_name=f"B{i}") for i in range(3)]
    ids = [str(c.pk) for c in contacts[:2]]
    client.post(reverse("crm:contacts_bulk"), {"action": "assign_owner", "owner_id": agent.user_id, "ids": ids})
    client.post(reverse("crm:contacts_bulk"), {"action": "add_tag", "tag": "hot", "ids": ids})
    assert Contact.objects.filter(owner=agent.user).count() == 2
    assert Contact.objects.filter(tags__name="hot").count() == 2
    client.post(reverse("crm:contacts_bulk"), {"action": "remove_tag", "tag": "hot", "ids": ids[:1]})
    assert Contact.objects.filter(tags__name="hot").count() == 1


def test_bulk_delete_asks_for_confirmation(web_as, org):
    client = web_as("admin")
    contacts = [make_contact(org, first_name=f"D{i}") for i in range(2)]
    ids = [str(c.pk) for c in contacts]
    response = client.post(reverse("crm:contacts_bulk"), {"action": "delete", "ids": ids})
    assert response.status_code == 200 and "cannot be undone" in response.content.decode()
    assert Contact.objects.for_tenant(org).count() == 2
    client.post(reverse("crm:contacts_bulk"), {"action": "delete", "ids": ids, "confirmed": "yes"})
    assert Contact.objects.for_tenant(org).count() == 0


def test_bulk_delete_refused_for_agents(web_as, org):
    client = web_as("agent")
    response = client.post(reverse("crm:contacts_bulk"), {"action": "delete", "ids": [str(make_contact(org).pk)]})
    assert response.status_code in (403, 404)
    assert Contact.objects.for_tenant(org).count() == 1


def test_board_shows_stage_totals_and_moves_by_drag_and_drop(web_as, org):
    client = web_as("admin")
    deal = make_deal(org, name="Dragged", value="250")
    page = client.get(reverse("crm:board")).content.decode()
    assert "Dragged" in page and "£250" in page and "250.00" not in page
    assert f'data-move-url="{reverse("crm:deal_move", args=[deal.pk])}"' in page
    target = deal.pipeline.stages.get(name="Proposal")
    response = client.post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage_id": target.pk}, HTTP_ACCEPT="application/json"
    )
    body = response.json()
    assert response.status_code == 200 and body["stage_id"] == str(target.pk)
    assert body["totals"][str(target.pk)] == {"count": 1, "total": "250.00", "text": "£250"}
    assert body["totals"][str(deal.stage_id)] == {"count": 0, "total": "0.00", "text": "£0"}
    deal.refresh_from_db()
    assert deal.stage == target


def test_board_move_to_other_pipelines_stage_is_refused(web_as, org, admin_api):
    client = web_as("owner")
    deal = make_deal(org)
    other = admin_api.post("/api/v1/pipelines", {"name": "Other"}).json()
    response = client.post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage_id": other["stages"][0]["id"]}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 422
    assert Deal.objects.get(pk=deal.pk).stage_id == deal.stage_id


def test_my_tasks_highlights_overdue(web_as, org, admin_api):
    client = web_as("owner")
    from django.contrib.auth import get_user_model

    me = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    from octopushx.core.context import Actor
    from octopushx.crm import services

    services.create_task(org, Actor(user=me), {"title": "Overdue thing", "due_at": "2020-01-01T09:00:00Z"})
    services.create_task(org, Actor(user=me), {"title": "Future thing", "due_at": "2099-01-01T09:00:00Z"})
    page = client.get(reverse("crm:tasks")).content.decode()
    assert "Overdue thing" in page and "Future thing" in page and 'class="overdue"' in page and "1 overdue" in page
    task = Task.objects.get(title="Overdue thing")
    client.post(reverse("crm:task_complete", args=[task.pk]))
    task.refresh_from_db()
    assert task.status == "done"


def test_search_page_and_htmx_results(web_as, org):
    client = web_as("admin")
    make_contact(org, first_name="Searchable", last_name="Sam")
    page = client.get(reverse("crm:search"), {"q": "searchable"}).content.decode()
    assert "Searchable Sam" in page and "data-global-search" in page
    partial = client.get(reverse("crm:search"), {"q": "searchable"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Searchable Sam" in partial and "<html" not in partial


def test_saved_views_per_user_and_shared(web_as, org):
    client = web_as("manager")
    client.post(
        reverse("crm:view_save"), {"object_type": "contact", "name": "Customers", "query": "lifecycle_stage=customer"}
    )
    client.post(
        reverse("crm:view_save"), {"object_type": "contact", "name": "Team view", "query": "tag=vip", "shared": "on"}
    )
    assert SavedView.objects.for_tenant(org).filter(shared=True).count() == 1
    page = client.get(reverse("crm:contacts")).content.decode()
    assert "Customers" in page and "Team view" in page


def test_settings_page_adds_custom_field_and_pipeline(web_as, org):
    client = web_as("admin")
    response = client.post(
        reverse("crm:settings"),
        {
            "form": "field",
            "field-object_type": "contact",
            "field-label": "Plan",
            "field-field_type": "select",
            "field-options": "",
        },
    )
    assert response.status_code == 422 and "at least one option" in response.content.decode()
    client.post(
        reverse("crm:settings"),
        {
            "form": "field",
            "field-object_type": "contact",
            "field-label": "Plan",
            "field-field_type": "select",
            "field-options": "Free\nGold",
        },
    )
    client.post(
        reverse("crm:settings"),
        {
            "form": "pipeline",
            "pipeline-name": "Renewals",
            "pipeline-stages": "Due, 50\nRenewed, 100, won\nChurned, 0, lost",
        },
    )
    page = client.get(reverse("crm:settings")).content.decode()
    assert "Plan" in page and "Renewals" in page and "Renewed (100%, won)" in page


def test_settings_are_read_only_for_agents(web_as):
    client = web_as("agent")
    assert client.get(reverse("crm:settings")).status_code == 200
    assert client.post(reverse("crm:settings"), {"form": "visibility", "agent_visibility": "all"}).status_code == 403


def test_every_crm_page_renders_for_each_role(web_as, org):
    contact = make_contact(org, first_name="Everyone")
    company = make_company(org)
    deal = make_deal(org)
    for role in ("owner", "agent", "auditor"):
        client = web_as(role)
        for name in (
            "crm:contacts",
            "crm:companies",
            "crm:deals",
            "crm:board",
            "crm:tasks",
            "crm:search",
            "crm:settings",
        ):
            assert client.get(reverse(name)).status_code == 200, (role, name)
        expected = 200 if role != "agent" else 404
        for name, pk in (("crm:contact", contact.pk), ("crm:company", company.pk), ("crm:deal", deal.pk)):
            assert client.get(reverse(name, args=[pk])).status_code == expected, (role, name)


def test_auditor_cannot_open_forms(web_as):
    client = web_as("auditor")
    assert client.get(reverse("crm:contact_new")).status_code == 403


def test_any_field_filter_row(web_as, org):
    client = web_as("admin")
    make_contact(org, first_name="Leeds", last_name="Person", city="Leeds")
    make_contact(org, first_name="York", last_name="Person", city="York")
    page = client.get(reverse("crm:contacts"), {"field": "city", "value": "lee"}).content.decode()
    assert "Leeds Person" in page and "York Person" not in page


def test_a_typed_contacts_address_lands_on_the_list_with_its_filters(web_as):
    response = web_as("agent").get("/crm/contacts/?q=ada")
    assert response.status_code == 302 and response["Location"] == reverse("crm:contacts") + "?q=ada"


def test_a_long_list_shows_its_exact_total_and_pages_through_every_row(web_as, org, monkeypatch):
    from octopushx.crm.views import lists

    monkeypatch.setattr(lists, "PAGE_SIZE", 1)
    for name in ("Abel", "Bede", "Cole"):
        make_contact(org, last_name=name)
    client = web_as("admin")
    first = client.get(reverse("crm:contacts"), {"ordering": "last_name"}).content.decode()
    assert 'data-testid="list-total">3</span>' in first and "Page 1 of 3" in first and "3+" not in first
    last = client.get(reverse("crm:contacts"), {"ordering": "last_name", "page": 3}).content.decode()
    assert "Page 3 of 3" in last and "Cole" in last and "Next" not in last
    make_contact(org, last_name="Only", lifecycle_stage="customer")
    narrowed = client.get(reverse("crm:contacts"), {"lifecycle_stage": "customer"}).content.decode()
    assert 'data-testid="list-total">1</span>' in narrowed and "Page 1 of 1" in narrowed


def test_an_estimated_total_says_about_and_pages_on_past_it(web_as, org, monkeypatch):
    from octopushx.crm import queries
    from octopushx.crm.views import lists

    monkeypatch.setattr(lists, "PAGE_SIZE", 1)
    monkeypatch.setattr(queries, "total", lambda qs, searched=False: queries.Total(2, estimated=True))
    for name in ("Abel", "Bede", "Cole"):
        make_contact(org, last_name=name)
    client = web_as("admin")
    first = client.get(reverse("crm:contacts"), {"ordering": "last_name"}).content.decode()
    assert 'data-testid="list-total">about 2</span>' in first and "Page 1 of about 2" in first and "Next" in first
    third = client.get(reverse("crm:contacts"), {"ordering": "last_name", "page": 3}).content.decode()
    assert "Cole" in third and "Page 3 of about 3" in third and "Next" not in third
    past = client.get(reverse("crm:contacts"), {"ordering": "last_name", "page": 9}).content.decode()
    assert 'data-testid="list-past-end"' in past and "Previous" in past


def test_totals_round_estimates_to_two_figures():
    from octopushx.crm.queries import Total

    assert Total(1_234_567).text == "1,234,567"
    assert Total(1_234_567, estimated=True).text == "about 1,200,000"
    assert Total(98_765, estimated=True).text == "about 99,000"
    assert Total(42, estimated=True).text == "about 42"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite counts every match")
def test_postgresql_estimates_past_the_exact_count(org, monkeypatch):
    from octopushx.crm import queries
    from octopushx.crm.models import Contact

    monkeypatch.setattr(queries, "COUNT_EXACT", 2)
    for name in ("Abel", "Bede", "Cole", "Dunn"):
        make_contact(org, last_name=name)
    contacts = Contact.objects.for_tenant(org)
    assert queries.total(contacts.filter(last_name="Abel")) == queries.Total(1)
    estimate = queries.total(contacts)
    assert estimate.estimated and estimate.count >= 3


def test_search_results_come_newest_first_until_a_column_is_chosen(web_as, org):
    client = web_as("admin")
    make_contact(org, first_name="Alice", last_name="Searchable")
    make_contact(org, first_name="Zed", last_name="Searchable")
    page = client.get(reverse("crm:contacts"), {"q": "searchable"}).content.decode()
    assert page.index("Zed Searchable") < page.index("Alice Searchable")
    assert "newest first" in page
    page = client.get(reverse("crm:contacts"), {"q": "searchable", "ordering": "last_name"}).content.decode()
    assert page.index("Alice Searchable") < page.index("Zed Searchable")
    assert "newest first" not in page


def test_a_common_words_list_shows_its_exact_total(web_as, org, monkeypatch):
    from octopushx.crm import queries

    monkeypatch.setattr(queries, "MATCH_CAP", 2)  # "ada" now matches more than the ids read first
    for index in range(4):
        make_contact(org, first_name=f"Ada{index}", last_name="Lövelace", email=f"x{index}@example.com")
    make_contact(org, first_name="Grace", last_name="Hopper", emails=["ada.fan@example.com", "grace@example.com"])
    client = web_as("admin")
    page = client.get(reverse("crm:contacts"), {"q": "ADA"}).content.decode()
    assert 'data-testid="list-total">5</span>' in page and "Ada3" in page and "Grace" in page
    page = client.get(reverse("crm:contacts"), {"q": "lovelace ada"}).content.decode()
    assert 'data-testid="list-total">4</span>' in page and "Grace" not in page
