"""Issue 11 finding 1: an import matches only contacts the importing member may see and change."""

from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.crm import dedupe, services
from octopushx.crm.models import Contact, Import
from tests.conftest import ApiClient, make_member

from .conftest import make_contact
from .test_imports import upload


def _agents(org):
    mine = make_member(org, "agent", email="mallory@example.test")
    theirs = make_member(org, "agent", email="alice@example.test")
    return mine, theirs


def test_agent_cannot_take_over_a_hidden_contact_by_import(org):
    mallory, alice = _agents(org)
    victim = make_contact(org, alice, first_name="Victim", email="victim@example.com", job_title="CFO")
    api = ApiClient(mallory)
    assert api.get(f"/api/v1/contacts/{victim.pk}").status_code == 404
    upload(api, b"email,owner_email,job title\nvictim@example.com,mallory@example.test,Pwned\n")
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert (record.updated, record.created, record.failed) == (0, 0, 1)
    victim.refresh_from_db()
    assert victim.owner_id == alice.user.pk and victim.job_title == "CFO"
    assert ApiClient(alice).get(f"/api/v1/contacts/{victim.pk}").status_code == 200
    report = b"".join(api.get(f"/api/v1/imports/{record.pk}/errors").streaming_content).decode("utf-8-sig")
    assert "exists and is not yours" in report and "CFO" not in report and "Victim" not in report


def test_hidden_match_is_skipped_when_the_admin_says_so(org):
    mallory, alice = _agents(org)
    services.update_settings(org, Actor.system("test"), import_hidden_matches="skip")
    make_contact(org, alice, first_name="Victim", email="victim@example.com")
    upload(ApiClient(mallory), b"email,first name\nvictim@example.com,Renamed\n")
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert (record.updated, record.skipped, record.failed, record.error_report) == (0, 1, 0, None)
    assert Contact.objects.for_tenant(org).get().first_name == "Victim"


def test_own_contacts_still_match_and_update(org):
    mallory, alice = _agents(org)
    mine = make_contact(org, mallory, first_name="Mine", email="mine@example.com")
    upload(ApiClient(mallory), b"email,job title\nmine@example.com,Boss\n")
    jobs.drain()
    mine.refresh_from_db()
    assert mine.job_title == "Boss" and Import.objects.for_tenant(org).get().updated == 1


def test_possible_duplicates_count_only_contacts_the_importer_sees(org):
    mallory, alice = _agents(org)
    make_contact(org, alice, first_name="Hidden", phone="+442079460018")
    upload(ApiClient(mallory), b"first name,email,phone\nNew,new@example.com,020 7946 0018\n", match_on="email")
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert record.created == 1 and record.possible_duplicates == 0


def test_duplicate_suggestions_show_only_pairs_the_member_sees(org):
    manager = make_member(org, "manager", email="boss@example.test")
    other = make_member(org, "agent", email="else@example.test")
    make_contact(org, manager, first_name="Seen", email="same@example.com")
    make_contact(org, other, first_name="Hidden", email="same@example.com")
    assert dedupe.find(org, manager) == []
    seen = Contact.objects.for_tenant(org).get(first_name="Seen")
    assert dedupe.candidates(seen, Contact.objects.for_tenant(org).filter(owner=manager.user)) == []
    response = ApiClient(manager).get("/api/v1/duplicates")
    assert response.status_code == 200 and response.json()["items"] == []
