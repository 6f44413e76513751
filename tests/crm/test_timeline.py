import pytest
from django.apps import apps

from octopushx.crm import timeline

from .conftest import make_company, make_contact, make_deal


def test_timeline_has_every_kind_newest_first(admin_api, org):
    contact = make_contact(org)
    deal = make_deal(org, contact_ids=[str(contact.pk)])
    admin_api.post("/api/v1/notes", {"body": "A note", "contact_id": str(contact.pk)})
    admin_api.post(
        "/api/v1/notes", {"kind": "email", "subject": "Quote", "body": "Sent", "contact_id": str(contact.pk)}
    )
    admin_api.post("/api/v1/tasks", {"title": "Call back", "contact_id": str(contact.pk)})
    won = deal.pipeline.stages.get(kind="won")
    admin_api.patch(f"/api/v1/deals/{deal.pk}", {"stage_id": str(won.pk)})
    admin_api.patch(f"/api/v1/contacts/{contact.pk}", {"job_title": "CTO"})
    entries = timeline.build(contact)
    kinds = [e.kind for e in entries]
    assert {"note", "email", "task", "stage", "change"} <= set(kinds)
    assert kinds[0] == "change" and entries == sorted(entries, key=lambda e: e.at, reverse=True)
    assert [e.kind for e in timeline.build(contact, "stage")] == ["stage"]


@pytest.mark.skipif(not apps.is_installed("octopushx.calls"), reason="the calls product is not installed")
def test_calls_appear_on_contact_and_company_timelines(org):
    call_model = apps.get_model("calls", "Call")
    company = make_company(org)
    contact = make_contact(org, company_id=str(company.pk))
    call_model.objects.create(tenant=org, contact=contact, company=company, duration=150, summary="Asked about pricing")
    entry = next(e for e in timeline.build(contact) if e.kind == "call")
    assert "2.5 min" in entry.title and "Unreviewed AI summary" in entry.body
    assert [e.kind for e in timeline.build(company, "call")] == ["call"]
