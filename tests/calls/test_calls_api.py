"""Reading calls through the API: lists with filters, visibility by role, detail, audio ranges,
review, retry, action item → CRM task, unmatched number → contact."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from octopushx import intelligence
from octopushx.calls import services
from octopushx.calls.models import Call, CallAnalysisResult, CallStatus
from octopushx.core import blobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.crm import services as crm
from octopushx.crm.models import Contact, Task
from octopushx.tenancy.models import Team
from tests.calls.factories import CALL_SCRIPT, analysed_call, analysis
from tests.conftest import make_member


def test_list_shows_calls_with_headline_values(org, api_as):
    client = api_as("admin")
    call = analysed_call(org)
    body = client.get("/api/v1/calls").json()
    assert [item["id"] for item in body["items"]] == [str(call.pk)]
    assert body["items"][0]["review_state"] == "unreviewed"
    assert body["items"][0]["label"] == "Unreviewed AI output"
    assert body["next"] is None


def test_list_paginates_with_a_cursor(org, api_as):
    client = api_as("admin")
    for _ in range(3):
        analysed_call(org)
    first = client.get("/api/v1/calls?limit=2").json()
    second = client.get(f"/api/v1/calls?limit=2&cursor={first['next']}").json()
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert len(ids) == 3 == len(set(ids))


def test_list_filters(org, api_as):
    client = api_as("admin")
    agent = make_member(org, "agent")
    outbound = analysed_call(org, agent=agent.user, direction="outbound")
    inbound = analysed_call(org, lines=[("customer", "This is terrible, I am very angry")])
    Call.objects.filter(pk=inbound.pk).update(sentiment=-0.6, duration=300)

    def ids(query):
        response = client.get(f"/api/v1/calls?{query}")
        assert response.status_code == 200, response.json()
        return {item["id"] for item in response.json()["items"]}

    assert ids("direction=outbound") == {str(outbound.pk)}
    assert ids(f"agent_id={agent.user.pk}") == {str(outbound.pk)}
    assert ids("sentiment=negative") == {str(inbound.pk)}
    assert ids("min_duration=200") == {str(inbound.pk)}
    assert ids("keyword=angry") == {str(inbound.pk)}
    assert ids("review_state=approved") == set()
    assert ids("date_from=2000-01-01&date_to=2999-12-31") == {str(inbound.pk), str(outbound.pk)}


def test_list_bad_filters_are_422(api_as):
    response = api_as("admin").get("/api/v1/calls?direction=up&sentiment=great&date_from=soon&review_state=x")
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"direction", "sentiment", "date_from", "review_state"}


def test_agents_see_only_their_own_calls(org, api_as):
    client = api_as("agent")
    own = analysed_call(org, agent=client.membership.user)
    other = analysed_call(org, agent=make_member(org, "agent", email="other@acme.test").user)
    assert [i["id"] for i in client.get("/api/v1/calls").json()["items"]] == [str(own.pk)]
    assert client.get(f"/api/v1/calls/{other.pk}").status_code == 404
    assert client.get(f"/api/v1/calls/{other.pk}/audio").status_code == 404


def test_managers_see_their_teams_calls(org, api_as):
    team = Team.objects.create(tenant=org, name="Support")
    client = api_as("manager")
    client.membership.team = team
    client.membership.save()
    mate = make_member(org, "agent", email="mate@acme.test")
    mate.team = team
    mate.save()
    in_team = analysed_call(org, agent=mate.user)
    outside = analysed_call(org, agent=make_member(org, "agent", email="outside@acme.test").user)
    ids = {i["id"] for i in client.get("/api/v1/calls").json()["items"]}
    assert str(in_team.pk) in ids and str(outside.pk) not in ids


def test_another_tenants_call_is_404(api_as, other_org):
    call = analysed_call(other_org)
    client = api_as("owner")
    for path in ("", "/audio", "/results"):
        assert client.get(f"/api/v1/calls/{call.pk}{path}").status_code == 404
    assert client.post(f"/api/v1/calls/{call.pk}/approve").status_code == 404
    assert client.get("/api/v1/calls/not-a-uuid").status_code == 404


def test_detail_has_transcript_and_insights(org, api_as):
    call = analysed_call(org)
    body = api_as("auditor").get(f"/api/v1/calls/{call.pk}").json()
    assert body["status"] == "analysed"
    first = body["transcript"]["utterances"][0]
    assert set(first) >= {"speaker", "start", "end", "text", "sentiment"}
    assert body["insights"]["metrics"]["talk_ratio"] == {"agent": 0.5, "customer": 0.5}
    assert body["insights"]["action_items"][0]["due"] == "by Friday"
    assert body["analysis"]["run"] == 1


def test_detail_of_a_queued_call_has_status_only(org, api_as):
    call = Call.objects.create(tenant=org, status=CallStatus.QUEUED)
    body = api_as("admin").get(f"/api/v1/calls/{call.pk}").json()
    assert body["status"] == "queued" and body["transcript"] is None and body["insights"] is None


def _with_audio(call, content: bytes, *, original: bool = False):
    blob = blobs.store(call.tenant, content, filename="x.wav", content_type="audio/wav")
    Call.objects.filter(pk=call.pk).update(**{"recording" if original else "redacted": blob})


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


def test_audio_is_the_redacted_copy_with_range_requests(org, api_as):
    call = analysed_call(org)
    content = bytes(range(256)) * 1000
    _with_audio(call, content)
    client = api_as("admin")
    whole = client.get(f"/api/v1/calls/{call.pk}/audio")
    assert whole.status_code == 200 and _content(whole) == content
    assert whole["Accept-Ranges"] == "bytes"
    part = client.get(f"/api/v1/calls/{call.pk}/audio", HTTP_RANGE="bytes=100000-100099")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100000-100099/{len(content)}"
    assert _content(part) == content[100000:100100]
    tail = client.get(f"/api/v1/calls/{call.pk}/audio", HTTP_RANGE="bytes=-10")
    assert _content(tail) == content[-10:]
    beyond = client.get(f"/api/v1/calls/{call.pk}/audio", HTTP_RANGE=f"bytes={len(content)}-")
    assert beyond.status_code == 416


def test_original_audio_needs_the_right_and_is_audited(org, api_as):
    call = analysed_call(org)
    _with_audio(call, b"original-audio" * 100, original=True)
    assert api_as("auditor").get(f"/api/v1/calls/{call.pk}/audio?original=true").status_code == 403
    response = api_as("owner").get(f"/api/v1/calls/{call.pk}/audio?original=true")
    assert response.status_code == 200
    assert _content(response) == b"original-audio" * 100
    assert AuditEntry.objects.filter(action="call.original_viewed", object_id=str(call.pk)).count() == 1


def test_approve_records_who_and_when(org, api_as):
    call = analysed_call(org)
    client = api_as("admin")
    body = client.post(f"/api/v1/calls/{call.pk}/approve").json()
    assert body["review_state"] == "approved" and body["label"] is None
    assert body["analysis"]["reviewed_by"]["email"] == client.membership.user.email
    assert AuditEntry.objects.filter(action="call.approved").exists()


def test_corrections_are_kept_with_who_and_when(org, api_as):
    call = analysed_call(org)
    client = api_as("admin")
    response = client.post(
        f"/api/v1/calls/{call.pk}/corrections",
        {"summary": "Paid by card.", "utterances": [{"index": 0, "speaker": "customer", "text": "Hi there"}]},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["review_state"] == "corrected"
    assert body["insights"]["summary"] == "Paid by card."
    assert body["transcript"]["utterances"][0]["text"] == "Hi there"
    correction = body["analysis"]["corrections"][0]
    assert correction["by"].startswith(client.membership.user.email) and correction["at"]
    assert correction["changes"]["summary"][1] == "Paid by card."


def test_bad_corrections_are_422_and_change_nothing(org, api_as):
    call = analysed_call(org)
    before = CallAnalysisResult.objects.get(call=call).data
    client = api_as("admin")
    response = client.post(
        f"/api/v1/calls/{call.pk}/corrections", {"utterances": [{"index": 99, "text": "x"}], "summary": "New"}
    )
    assert response.status_code == 422
    assert "utterances.0.index" in response.json()["errors"]
    assert CallAnalysisResult.objects.get(call=call).data == before
    assert client.post(f"/api/v1/calls/{call.pk}/corrections", {}).status_code == 422


def test_review_by_an_auditor_is_403(org, api_as):
    call = analysed_call(org)
    client = api_as("auditor")
    assert client.post(f"/api/v1/calls/{call.pk}/approve").status_code == 403
    assert client.post(f"/api/v1/calls/{call.pk}/corrections", {"summary": "x"}).status_code == 403
    assert client.post(f"/api/v1/calls/{call.pk}/retry").status_code == 403
    assert client.post(f"/api/v1/calls/{call.pk}/tasks", {"index": 0}).status_code == 403
    assert client.delete(f"/api/v1/calls/{call.pk}").status_code == 403
    assert Call.objects.get(pk=call.pk).review_state == "unreviewed"


def test_action_item_becomes_a_crm_task_on_the_contact(org, api_as):
    contact = crm.create_contact(org, Actor.system("test"), {"first_name": "Ann"})
    client = api_as("admin")
    call = analysed_call(org, contact=contact, agent=client.membership.user)
    response = client.post(f"/api/v1/calls/{call.pk}/tasks", {"index": 0})
    assert response.status_code == 201, response.json()
    task = Task.objects.get(pk=response.json()["id"])
    assert task.title == "Send the receipt by Friday"
    assert task.contact == contact and task.assignee == client.membership.user
    assert "unreviewed AI output" in task.description
    assert client.post(f"/api/v1/calls/{call.pk}/tasks", {"index": 5}).status_code == 422


def test_action_item_task_takes_the_verb_phrase_and_the_due_date(org, api_as):
    org.time_zone = "Europe/London"
    org.save(update_fields=["time_zone"])
    result = analysis(CALL_SCRIPT)
    result.insights.action_items = [
        intelligence.ActionItem(
            "I will send you a replacement router by Wednesday",
            "agent",
            "by Wednesday",
            3.0,
            "agent",
            verb_phrase="send the customer a replacement router",
            due_date="2026-12-09",
        )
    ]
    client = api_as("admin")
    call = analysed_call(org, result=result)
    response = client.post(f"/api/v1/calls/{call.pk}/tasks", {"index": 0})
    assert response.status_code == 201, response.json()
    task = Task.objects.get(pk=response.json()["id"])
    assert task.title == "Agent to send the customer a replacement router"
    assert "I will send you a replacement router by Wednesday" in task.description
    assert task.due_at.astimezone(ZoneInfo("Europe/London")).isoformat() == "2026-12-09T17:00:00+00:00"


def test_unmatched_number_becomes_a_contact_in_one_click(org, api_as):
    call = analysed_call(org, from_number="+442079460123")
    client = api_as("admin")
    response = client.post(f"/api/v1/calls/{call.pk}/contact")
    assert response.status_code == 201, response.json()
    contact = Contact.objects.get(pk=response.json()["id"])
    assert contact.phone == "+442079460123"
    assert Call.objects.get(pk=call.pk).contact == contact
    assert client.post(f"/api/v1/calls/{call.pk}/contact").status_code == 422


def test_reprocessing_keeps_the_old_result(org, api_as):
    call = analysed_call(org)
    _with_audio(call, b"x", original=True)
    client = api_as("admin")
    assert client.post(f"/api/v1/calls/{call.pk}/retry").json()["status"] == "queued"
    assert client.post(f"/api/v1/calls/{call.pk}/retry").status_code == 422  # already queued
    call.refresh_from_db()
    from tests.calls.factories import analysis

    services.save_result(call, 2, None, analysis([("agent", "Second run")]), [])
    results = client.get(f"/api/v1/calls/{call.pk}/results").json()["items"]
    assert [(r["run"], r["current"]) for r in results] == [(2, True), (1, False)]
    body = client.get(f"/api/v1/calls/{call.pk}").json()
    assert body["transcript"]["utterances"][0]["text"] == "Second run"


def test_delete_removes_the_call_and_its_recordings(org, api_as):
    call = analysed_call(org)
    _with_audio(call, b"audio")
    assert api_as("admin").delete(f"/api/v1/calls/{call.pk}").status_code == 204
    assert not Call.objects.filter(pk=call.pk).exists()


def test_contact_timeline_shows_the_call(org):
    from octopushx.crm import timeline

    contact = crm.create_contact(org, Actor.system("test"), {"first_name": "Ann"})
    analysed_call(org, contact=contact)
    entries = [e for e in timeline.build(contact) if e.kind == "call"]
    assert len(entries) == 1
    assert "Inbound call" in entries[0].title and "The customer paid a bill." in entries[0].body


def test_settings_need_admin_and_hide_secrets(api_as):
    assert api_as("manager").get("/api/v1/calls/settings").status_code == 403
    client = api_as("admin")
    response = client.patch("/api/v1/calls/settings", {"webhook_secret": "s3cret", "max_upload_mb": 10})
    assert response.status_code == 200
    assert response.json()["webhook_secret_set"] is True
    assert "s3cret" not in response.content.decode()
    bad = client.patch("/api/v1/calls/settings", {"max_upload_mb": 0, "twilio_account_sid": "nope"})
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"max_upload_mb", "twilio_account_sid"}
    assert client.get("/api/v1/calls/settings").json()["max_upload_mb"] == 10
