"""A privacy request shows what it will erase or export before anything happens, erasure needs an
explicit confirmation, and the outcome reads as a sentence that agrees with the request's state."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from octopushx.calls.models import Call
from octopushx.core import jobs
from octopushx.core.models import Job
from octopushx.crm import services as crm
from octopushx.crm.models import Contact, Note
from octopushx.shield.privacy import services, subjects
from octopushx.shield.privacy.models import PrivacyRequest
from octopushx.tenancy.roles import Role
from tests.calls.factories import analysed_call
from tests.shield.factories import SYSTEM

EMAIL = "ada@example.test"


def person_with_history(org):
    """A contact with one call (with a recording) and three notes."""
    contact = crm.create_contact(
        org, SYSTEM, {"first_name": "Ada", "last_name": "Lovelace", "email": EMAIL, "phone": "+44 20 7946 0123"}
    )
    call = analysed_call(org, contact=contact, from_number="+442079460123")
    from octopushx.core import blobs

    recording = blobs.store(org, b"RIFF....WAVE", filename="call.wav", content_type="audio/wav", purpose="call")
    Call.objects.filter(pk=call.pk).update(recording=recording)
    for body in ("Asked about the analytical engine", "Prefers mornings", "Sent the Bernoulli notes"):
        crm.create_note(org, SYSTEM, {"body": f"<p>{body}</p>", "contact_id": str(contact.pk)})
    return contact, call


def verified(org, kind="erasure", **identity):
    request = services.receive(org, SYSTEM, kind=kind, source="staff", **(identity or {"email": EMAIL}))
    return services.attest(org, SYSTEM, request, "Checked passport at the desk")


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the preview ----------------------------------------------------------------------------


def test_preview_lists_every_record_the_erasure_will_touch_with_counts_and_links(web_as, org):
    contact, call = person_with_history(org)
    request = verified(org)

    content = web_as(Role.ADMIN).get(f"/shield/privacy/{request.pk}/").content.decode()

    assert 'data-testid="preview"' in content
    assert "What will be erased" in content
    assert "1 contact<" in content and "1 call with its recording<" in content and "3 notes<" in content
    assert f'href="/crm/contacts/{contact.pk}/"' in content
    assert f'href="/calls/{call.pk}/"' in content
    assert "Prefers mornings" in content  # what matched, not only how many
    assert re.search(r"\d+ audit entries<", content)
    assert 'data-testid="confirm-erasure"' in content and 'name="confirm"' in content


def test_preview_of_an_access_request_lists_what_the_archive_will_hold(web_as, org):
    person_with_history(org)
    request = verified(org, kind="access")
    content = web_as(Role.ADMIN).get(f"/shield/privacy/{request.pk}/").content.decode()
    assert "What the archive will hold" in content and "3 notes<" in content
    assert "Build the archive" in content and 'data-testid="confirm-erasure"' not in content


def test_preview_changes_nothing(org):
    contact, _ = person_with_history(org)
    request = verified(org)
    found = services.preview(org, request)
    assert {row.key: row.count for row in found.rows}.items() >= {"contacts": 1, "calls": 1, "notes": 3}.items()
    assert Contact.objects.filter(pk=contact.pk).exists() and Note.objects.for_tenant(org).count() == 3
    assert PrivacyRequest.objects.get(pk=request.pk).state == "verified"


def test_api_preview_answers_the_same_rows(api_as, org):
    person_with_history(org)
    request = verified(org)
    body = api_as(Role.ADMIN).get(f"/api/v1/privacy/requests/{request.pk}/preview").json()
    rows = {row["key"]: row for row in body["rows"]}
    assert rows["notes"]["counted"] == "3 notes" and rows["calls"]["items"][0]["url"].startswith("/calls/")
    assert body["total"] == sum(row["count"] for row in body["rows"]) and body["digest"]


# --- confirmation ---------------------------------------------------------------------------


def test_erasure_posted_without_confirmation_changes_nothing(web_as, org):
    contact, call = person_with_history(org)
    request = verified(org)
    jobs_before = Job.objects.count()

    response = web_as(Role.ADMIN).post(f"/shield/privacy/{request.pk}/fulfil/", follow=True)

    assert any("confirm it explicitly" in text for text in flashes(response))
    assert PrivacyRequest.objects.get(pk=request.pk).state == "verified"
    assert Job.objects.count() == jobs_before
    jobs.drain()
    assert Contact.objects.filter(pk=contact.pk).exists() and Call.objects.filter(pk=call.pk).exists()
    assert Note.objects.for_tenant(org).count() == 3


def test_erasure_through_the_api_without_confirm_is_422_and_changes_nothing(api_as, org):
    contact, _ = person_with_history(org)
    request = verified(org)
    response = api_as(Role.ADMIN).post(f"/api/v1/privacy/requests/{request.pk}/fulfil")
    assert response.status_code == 422 and "confirm" in response.json()["errors"]
    jobs.drain()
    assert PrivacyRequest.objects.get(pk=request.pk).state == "verified"
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_erasure_through_the_api_with_confirm_runs(api_as, org):
    contact, _ = person_with_history(org)
    request = verified(org)
    api = api_as(Role.ADMIN)
    response = api.post(f"/api/v1/privacy/requests/{request.pk}/fulfil", {"confirm": True})
    assert response.status_code == 202
    jobs.drain()
    assert not Contact.objects.filter(pk=contact.pk).exists()
    body = api.get(f"/api/v1/privacy/requests/{request.pk}").json()
    assert body["summary"].startswith("Erased 1 contact, 1 call with its recording and 3 notes;")


def test_erasure_is_refused_when_what_it_finds_changed_since_the_preview(org):
    contact, _ = person_with_history(org)
    request = verified(org)
    digest = services.preview(org, request).digest
    crm.create_note(org, SYSTEM, {"body": "<p>One more</p>", "contact_id": str(contact.pk)})
    with pytest.raises(ValidationError) as refused:
        services.fulfil(org, SYSTEM, request, confirmed=True, preview_digest=digest)
    assert "changed since the preview" in str(refused.value)
    assert PrivacyRequest.objects.get(pk=request.pk).state == "verified"


# --- the summary, the flash and the state ---------------------------------------------------


def test_confirmed_erasure_flash_and_state_agree_then_the_page_shows_a_human_summary(web_as, org):
    contact, _ = person_with_history(org)
    request = verified(org)
    client = web_as(Role.ADMIN)
    digest = services.preview(org, request).digest

    response = client.post(f"/shield/privacy/{request.pk}/fulfil/", {"confirm": "yes", "preview": digest}, follow=True)

    # The job has not run yet: the flash says so, and so does the state.
    assert flashes(response) == [
        "The erasure request is in progress: it runs in the background and this page shows the result."
    ]
    assert 'data-testid="state">In progress<' in response.content.decode()
    jobs.drain()
    content = client.get(f"/shield/privacy/{request.pk}/").content.decode()
    assert 'data-testid="state">Completed<' in content
    summary = re.search(r'data-testid="summary">([^<]+)', content).group(1)
    assert re.fullmatch(
        r"Erased 1 contact, 1 call with its recording and 3 notes; \d+ audit entries pseudonymised\. ", summary
    ), summary
    assert "{" not in summary and "'erased'" not in content
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_while_in_progress_the_state_panel_refreshes_itself(web_as, org):
    person_with_history(org)
    request = verified(org)
    services.fulfil(org, SYSTEM, request, confirmed=True)
    client = web_as(Role.ADMIN)
    assert 'hx-trigger="every 2s"' in client.get(f"/shield/privacy/{request.pk}/").content.decode()
    jobs.drain()
    partial = client.get(f"/shield/privacy/{request.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in partial and 'data-testid="summary">Erased 1 contact' in partial


def test_when_the_job_already_finished_the_flash_is_the_summary(web_as, org, monkeypatch):
    person_with_history(org)
    request = verified(org)
    real_submit = jobs.submit

    def run_at_once(*args, **kwargs):
        job = real_submit(*args, **kwargs)
        jobs.drain()
        return job

    monkeypatch.setattr(jobs, "submit", run_at_once)
    response = web_as(Role.ADMIN).post(f"/shield/privacy/{request.pk}/fulfil/", {"confirm": "yes"}, follow=True)
    assert flashes(response)[0].startswith("Erased 1 contact, 1 call with its recording and 3 notes;")
    assert 'data-testid="state">Completed<' in response.content.decode()


def test_summary_of_an_erasure_that_found_nobody(org):
    request = verified(org, email="nobody@example.test")
    services.fulfil(org, SYSTEM, request, confirmed=True)
    jobs.drain()
    request.refresh_from_db()
    assert services.summary(request) == "Nothing about this person was found, so nothing was erased."


def test_summaries_of_other_kinds_are_sentences(org):
    person_with_history(org)
    access = verified(org, kind="access")
    services.fulfil(org, SYSTEM, access)
    restriction = verified(org, kind="restriction")
    services.fulfil(org, SYSTEM, restriction)
    jobs.drain()
    access.refresh_from_db()
    restriction.refresh_from_db()
    assert re.fullmatch(r"Archive built: \d+ records in \d+ files, download link emailed to the requester\.",
                        services.summary(access))  # fmt: skip
    assert services.summary(restriction) == "Processing restricted for 1 contact."


# --- a product adds its own kind of record --------------------------------------------------


@pytest.fixture
def workflow_runs():
    """A product's own source (a stand-in for Studio's, which is put back afterwards)."""
    subjects.discover()
    real = subjects._SOURCES.get("workflow_runs")
    subjects.register(
        "workflow_runs", label="Workflow runs", noun=("workflow run", "workflow runs"), order=10,
        find=lambda tenant, identity, found: ["run-1", "run-2"] if found.contact_ids else [],
        export=lambda tenant, ids: {"workflow_runs.json": subjects.as_json(ids)},
        erase=lambda tenant, actor, ids: len(ids),
        describe=lambda tenant, ids: [(f"Run {i}", f"/studio/runs/{i}/") for i in ids],
    )  # fmt: skip
    yield
    subjects._SOURCES.pop("workflow_runs")
    if real is not None:
        subjects._SOURCES["workflow_runs"] = real


def test_a_registered_product_kind_shows_in_the_preview_and_the_summary(workflow_runs, web_as, org):
    person_with_history(org)
    request = verified(org)
    content = web_as(Role.ADMIN).get(f"/shield/privacy/{request.pk}/").content.decode()
    assert "2 workflow runs<" in content and 'href="/studio/runs/run-1/"' in content
    services.fulfil(org, SYSTEM, request, confirmed=True)
    jobs.drain()
    request.refresh_from_db()
    assert services.summary(request).startswith(
        "Erased 1 contact, 1 call with its recording, 3 notes and 2 workflow runs"
    )


# --- the emails -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "phrase"),
    [
        ("erasure", "an erasure request"),
        ("access", "an access request"),
        ("export", "an export request"),
        ("restriction", "a restriction request"),
        ("objection", "an objection to the processing"),
    ],
)
def test_the_verification_email_names_the_kind_of_request_correctly(db, org, mailoutbox, kind, phrase):
    services.receive(org, SYSTEM, kind=kind, source="staff", email=EMAIL)
    body = mail.outbox[-1].body
    assert phrase in body
    assert "a erasure" not in body and "a access" not in body and "a export" not in body
