"""The pickers' search endpoints and the form fields that use them: tenant and visibility scoped,
namesakes told apart by a second line, submitted ids checked against what the member may see."""

from django.urls import reverse

from octopushx.crm import services
from octopushx.crm.forms import DealForm, TaskForm
from octopushx.crm.models import Deal
from tests.conftest import make_member

from .conftest import make_company, make_contact, make_deal


def pick(client, kind, q="", **params):
    return client.get(reverse("crm:pick", args=[kind]), {"q": q, **params})


def texts(response):
    return [(r["text"], r["detail"]) for r in response.json()["results"]]


def test_contacts_picker_tells_namesakes_apart_by_email_and_company(web_as, org):
    client = web_as("admin")
    silver = make_company(org, name="Silver Print")
    make_contact(org, first_name="Amelia", last_name="Baker", email="amelia@silver.test", company_id=str(silver.pk))
    make_contact(org, first_name="Amelia", last_name="Baker", email="a.baker@north.test")
    make_contact(org, first_name="Bob", last_name="Builder")
    found = texts(pick(client, "contacts", "amelia baker"))
    assert sorted(found) == [
        ("Amelia Baker", "a.baker@north.test"),
        ("Amelia Baker", "amelia@silver.test · Silver Print"),
    ]


def test_contacts_picker_ignores_accents_and_case(web_as, org):
    client = web_as("admin")
    contact = make_contact(org, first_name="Jürgen", last_name="Müller")
    results = pick(client, "contacts", "MULLER").json()["results"]
    assert [r["value"] for r in results] == [str(contact.pk)]


def test_companies_deals_and_members_pickers_show_their_second_line(web_as, org):
    client = web_as("admin")
    silver = make_company(org, name="Silver Print", domain="silver.test", city="Leeds")
    make_deal(org, name="Silver renewal", company_id=str(silver.pk))
    member = make_member(org, "agent", email="zoe@example.test")
    assert texts(pick(client, "companies", "silver")) == [("Silver Print", "silver.test · Leeds")]
    assert texts(pick(client, "deals", "renewal")) == [("Silver renewal", "Silver Print · New")]
    results = pick(client, "members", "ZOE").json()["results"]
    assert results == [{"value": str(member.user_id), "text": "zoe@example.test", "detail": "zoe@example.test · Agent"}]


def test_another_tenants_rows_are_never_found(web_as, org, other_org):
    client = web_as("admin")
    make_contact(other_org, first_name="Amelia", last_name="Elsewhere")
    make_company(other_org, name="Elsewhere Ltd")
    make_deal(other_org, name="Elsewhere deal")
    make_member(other_org, "agent", email="elsewhere@example.test")
    for kind in ("contacts", "companies", "deals", "members"):
        assert pick(client, kind, "elsewhere").json() == {"results": []}, kind


def test_an_agent_finds_only_the_records_they_may_see(web_as, org):
    client = web_as("agent")
    agent = org.memberships.get(role="agent")
    make_contact(org, first_name="Mine", last_name="Visible", owner=agent)
    make_contact(org, first_name="Hidden", last_name="Visible")
    make_company(org, name="Hidden Co")
    make_deal(org, name="Hidden deal")
    assert [t for t, _ in texts(pick(client, "contacts", "visible"))] == ["Mine Visible"]
    assert pick(client, "companies", "hidden").json()["results"] == []
    assert pick(client, "deals", "hidden").json()["results"] == []


def test_an_empty_query_lists_the_first_rows_and_at_most_twenty(web_as, org):
    client = web_as("admin")
    for index in range(25):
        make_company(org, name=f"Company {index:02}")
    results = pick(client, "companies").json()["results"]
    assert len(results) == 20 and results[0]["text"] == "Company 00"


def test_a_bad_query_is_a_400_with_a_message(web_as):
    client = web_as("admin")
    response = pick(client, "contacts", "x" * 101)
    assert response.status_code == 400 and "at most 100 characters" in response.json()["detail"]
    response = pick(client, "contacts", "Ada\x00")
    assert response.status_code == 400 and "control character" in response.json()["detail"]
    assert client.get("/crm/pick/planets/", {"q": "x"}).status_code == 404


def test_picking_needs_a_signed_in_member(client, org):
    response = client.get(reverse("crm:pick", args=["contacts"]), {"q": "a"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_deal_form_renders_only_the_chosen_contacts(org):
    admin = make_member(org, "admin")
    chosen = make_contact(org, first_name="Chosen", last_name="One", email="one@example.test")
    make_contact(org, first_name="Not", last_name="Chosen")
    deal = make_deal(org, contact_ids=[str(chosen.pk)])
    html = str(DealForm(tenant=org, membership=admin, instance=deal)["contacts"])
    assert 'data-picker="/crm/pick/contacts/"' in html
    assert "Chosen One" in html and 'data-detail="one@example.test"' in html and "Not Chosen" not in html


def test_the_owner_of_a_new_record_is_its_creator(org):
    admin = make_member(org, "admin")
    html = str(DealForm(tenant=org, membership=admin)["owner"])
    assert f'value="{admin.user_id}" selected' in html and "nobody" not in html


def test_a_contact_beyond_the_first_500_can_be_linked(web_as, org):
    client = web_as("admin")
    for index in range(501):
        make_contact(org, first_name="Zed", last_name=f"Z{index:03}")
    last = make_contact(org, first_name="Zz", last_name="Zzlast")
    stage = services.default_pipeline(org).stages.first().pk
    response = client.post(
        reverse("crm:deal_new"), {"name": "Late link", "stage": stage, "contacts": [str(last.pk)], "value": "1"}
    )
    assert response.status_code == 302
    assert list(Deal.objects.get(name="Late link").contacts.all()) == [last]


def test_a_submitted_id_the_member_may_not_see_is_refused(web_as, org, other_org):
    client = web_as("agent")
    hidden = make_contact(org, first_name="Not", last_name="Yours")
    foreign = make_company(other_org, name="Foreign Ltd")
    stage = services.default_pipeline(org).stages.first().pk
    response = client.post(
        reverse("crm:deal_new"),
        {"name": "Sneaky", "stage": stage, "contacts": [str(hidden.pk)], "company": str(foreign.pk)},
    )
    page = response.content.decode()
    assert response.status_code == 422 and "not available to you" in page
    assert not Deal.objects.filter(name="Sneaky").exists()
    response = client.post(reverse("crm:deal_new"), {"name": "Sneaky", "stage": stage, "contacts": ["not-an-id"]})
    assert response.status_code == 422 and not Deal.objects.filter(name="Sneaky").exists()


def test_a_task_form_links_one_picked_record(org):
    admin = make_member(org, "admin")
    contact = make_contact(org)
    company = make_company(org)
    form = TaskForm({"title": "Call", "contact": str(contact.pk)}, tenant=org, membership=admin)
    assert form.is_valid() and form.to_data()["contact_id"] == str(contact.pk)
    both = TaskForm(
        {"title": "Call", "contact": str(contact.pk), "company": str(company.pk)}, tenant=org, membership=admin
    )
    assert not both.is_valid() and "at most" in " ".join(both.non_field_errors())
