from octopushx.core.models import AuditEntry, Job
from octopushx.crm.models import Deal, Pipeline

from .conftest import make_contact, make_deal


def test_create_deal_lands_in_default_pipeline_first_stage(admin_api, org):
    response = admin_api.post("/api/v1/deals", {"name": "Renewal", "value": "1200.50", "currency": "eur"})
    body = response.json()
    assert response.status_code == 201, body
    pipeline = Pipeline.objects.for_tenant(org).get()
    assert body["pipeline_id"] == str(pipeline.pk) and body["stage_name"] == "New"
    assert body["value"] == "1200.50" and body["currency"] == "EUR" and body["status"] == "open"


def test_deal_value_must_be_a_number(admin_api, org):
    response = admin_api.post("/api/v1/deals", {"name": "X", "value": "lots"})
    assert response.status_code == 422 and "value" in response.json()["errors"]
    assert not Deal.objects.for_tenant(org).exists()


def test_stage_from_another_pipeline_is_rejected(admin_api, org):
    first = admin_api.post("/api/v1/pipelines", {"name": "Sales"}).json()
    second = admin_api.post("/api/v1/pipelines", {"name": "Renewals"}).json()
    response = admin_api.post(
        "/api/v1/deals", {"name": "X", "pipeline_id": first["id"], "stage_id": second["stages"][0]["id"]}
    )
    assert response.status_code == 422 and "stage_id" in response.json()["errors"]


def test_moving_stage_emits_stage_changed_and_won(admin_api, org):
    from octopushx.core import events

    events.subscribe("deal.*", name="crm-test-deals")(lambda event: None)
    try:
        deal = make_deal(org)
        won = deal.pipeline.stages.get(kind="won")
        response = admin_api.patch(f"/api/v1/deals/{deal.pk}", {"stage_id": str(won.pk), "close_reason": "Price"})
        body = response.json()
        assert response.status_code == 200, body
        assert body["status"] == "won" and body["closed_at"] and body["close_reason"] == "Price"
        names = [j.payload["event"]["name"] for j in Job.objects.filter(payload__subscriber="crm-test-deals")]
        assert "deal.stage_changed" in names and "deal.won" in names
        entry = AuditEntry.objects.get(tenant=org, action="deal.stage_changed")
        assert entry.personal.changes["stage"] == ["New", "Won"]
    finally:
        events.SUBSCRIBERS.pop("crm-test-deals")


def test_deal_contacts_and_filters(admin_api, org):
    contact = make_contact(org)
    body = admin_api.post("/api/v1/deals", {"name": "With contact", "contact_ids": [str(contact.pk)]}).json()
    assert body["contact_ids"] == [str(contact.pk)]
    make_deal(org, name="Other")
    items = admin_api.get(f"/api/v1/deals?contact_id={contact.pk}").json()["items"]
    assert [d["name"] for d in items] == ["With contact"]
    assert len(admin_api.get("/api/v1/deals?value_min=500").json()["items"]) == 1


def test_pipeline_with_custom_stages(admin_api):
    response = admin_api.post(
        "/api/v1/pipelines",
        {
            "name": "Renewals",
            "stages": [{"name": "Due", "probability": 50}, {"name": "Done", "kind": "won", "probability": 100}],
        },
    )
    body = response.json()
    assert response.status_code == 201, body
    assert [(s["name"], s["kind"], s["position"]) for s in body["stages"]] == [("Due", "open", 0), ("Done", "won", 1)]


def test_pipeline_stage_probability_is_checked(admin_api):
    response = admin_api.post("/api/v1/pipelines", {"name": "P", "stages": [{"name": "A", "probability": 140}]})
    assert response.status_code == 422 and "stages.0.probability" in response.json()["errors"]


def test_stage_with_deals_cannot_be_removed(admin_api, org):
    deal = make_deal(org)
    pipeline = deal.pipeline
    keep = [{"id": str(s.pk), "name": s.name} for s in pipeline.stages.exclude(pk=deal.stage_id)]
    response = admin_api.patch(f"/api/v1/pipelines/{pipeline.pk}", {"stages": keep})
    assert response.status_code == 422 and "stages" in response.json()["errors"]


def test_agents_cannot_change_pipelines(api_as):
    assert api_as("agent").post("/api/v1/pipelines", {"name": "Mine"}).status_code == 403
