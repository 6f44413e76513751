"""Retention: policies per data class, legal holds, dry-run preview, the daily purge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from octopushx.core import audit, blobs, jobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, AuditPersonal, Blob, Job
from octopushx.crm import services as crm
from octopushx.crm.models import Export, Note
from octopushx.shield import retention
from octopushx.shield.retention import services
from octopushx.shield.retention.models import LegalHold, RetentionRun
from octopushx.tenancy.roles import Role

SYSTEM = Actor.system("test")
LONG_AGO = timezone.now() - timedelta(days=1000)


def contact(org, name="Ada"):
    return crm.create_contact(org, SYSTEM, {"first_name": name})


def old_note(org, who=None):
    note = crm.create_note(org, SYSTEM, {"body": "<p>remember</p>", **({"contact_id": str(who.pk)} if who else {})})
    Note.objects.filter(pk=note.pk).update(created_at=LONG_AGO)
    return note


def old_export(org):
    blob = blobs.store(org, b"id,name\n1,Ada\n", filename="x.csv", content_type="text/csv", purpose="crm-export")
    export = Export.objects.create(tenant=org, object_type="contact", file=blob, rows=1)
    Export.objects.filter(pk=export.pk).update(created_at=LONG_AGO)
    return export


def counts(org):
    return {d.key: d.count for d in services.preview(org)[0]}


# --- policies -------------------------------------------------------------------------------


def test_defaults_cover_the_registered_classes(org):
    policies = {p.key: p.days for p in services.effective_policies(org)}
    assert policies["exports"] == 30 and policies["audit_entries"] == 730
    assert policies["notes"] is None and policies["closed_deals"] is None


@pytest.mark.parametrize("days", [0, -5])
def test_zero_or_negative_period_is_refused(org, days):
    with pytest.raises(ValidationError) as exc:
        services.set_policy(org, SYSTEM, "notes", keep=False, days=days)
    assert "days" in exc.value.message_dict
    assert {p.key: p.days for p in services.effective_policies(org)}["notes"] is None


def test_unknown_data_class_is_refused(org):
    with pytest.raises(ValidationError) as exc:
        services.set_policy(org, SYSTEM, "memories", keep=True)
    assert "data_class" in exc.value.message_dict


def test_policy_change_is_audited(org):
    services.set_policy(org, SYSTEM, "notes", keep=False, days=365)
    assert AuditEntry.objects.filter(tenant=org, action="retention.policy_changed").exists()


def test_api_sets_policies_and_rejects_zero(api_as, org):
    api = api_as(Role.ADMIN)
    response = api.post("/api/v1/retention/policies", {"data_class": "notes", "days": 90})
    assert response.status_code == 200
    assert {p["data_class"]: p["days"] for p in response.json()}["notes"] == 90
    response = api.post("/api/v1/retention/policies", {"data_class": "notes", "days": 0})
    assert response.status_code == 422 and "days" in response.json()["errors"]
    assert (
        api_as(Role.MANAGER).post("/api/v1/retention/policies", {"data_class": "notes", "keep": True}).status_code
        == 403
    )


# --- preview and purge ----------------------------------------------------------------------


def test_preview_counts_without_deleting(org):
    services.set_policy(org, SYSTEM, "notes", keep=False, days=30)
    old_note(org)
    crm.create_note(org, SYSTEM, {"body": "<p>fresh</p>"})
    old_export(org)
    assert counts(org)["notes"] == 1 and counts(org)["exports"] == 1
    assert Note.objects.for_tenant(org).count() == 2 and Export.objects.for_tenant(org).count() == 1


def test_purge_deletes_what_is_due_and_reports_counts(org):
    services.set_policy(org, SYSTEM, "notes", keep=False, days=30)
    old_note(org)
    fresh = crm.create_note(org, SYSTEM, {"body": "<p>fresh</p>"})
    export = old_export(org)
    blob_pk = export.file_id
    run = services.purge(org, SYSTEM)
    assert run.counts["notes"] == 1 and run.counts["exports"] == 1
    assert list(Note.objects.for_tenant(org)) == [fresh]
    assert not Export.objects.filter(pk=export.pk).exists() and not Blob.objects.filter(pk=blob_pk).exists()
    assert AuditEntry.objects.filter(tenant=org, action="retention.purged").exists()


def test_kept_classes_are_never_purged(org):
    old_note(org)
    services.purge(org, SYSTEM)
    assert Note.objects.for_tenant(org).count() == 1


def test_audit_purge_removes_personal_parts_and_keeps_the_chain(org):
    entry = audit.record(org, Actor(ip="192.0.2.1", label_override="someone@example.test"), "thing.done")
    AuditEntry.objects.filter(pk=entry.pk).update(at=LONG_AGO)
    # Rewrite the hash as if the entry had been written long ago, so the chain starts valid.
    services.set_policy(org, SYSTEM, "audit_entries", keep=False, days=365)
    assert counts(org)["audit_entries"] >= 1
    services.purge(org, SYSTEM)
    personal = AuditPersonal.objects.get(entry=entry)
    assert personal.erased_at is not None and personal.ip is None
    assert "someone@example.test" not in personal.actor_label
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_audit_purge_keeps_the_chain_verifiable(org):
    services.set_policy(org, SYSTEM, "audit_entries", keep=False, days=1)
    entry = audit.record(org, Actor(ip="192.0.2.1", label_override="someone@example.test"), "thing.done")
    cutoff_later = timezone.now() + timedelta(days=2)
    services.purge(org, SYSTEM, now=cutoff_later)
    assert AuditPersonal.objects.get(entry=entry).erased_at is not None
    assert audit.verify(org).ok


# --- holds -----------------------------------------------------------------------------------


def test_contact_hold_keeps_their_notes(org):
    services.set_policy(org, SYSTEM, "notes", keep=False, days=30)
    held, free = contact(org, "Held"), contact(org, "Free")
    held_note, _free_note = old_note(org, held), old_note(org, free)
    services.place_hold(org, SYSTEM, scope="contact", object_id=str(held.pk), reason="Case 42")
    assert counts(org)["notes"] == 1
    services.purge(org, SYSTEM)
    assert list(Note.objects.for_tenant(org)) == [held_note]
    assert services.hold_reason(org, "contact", str(held.pk)) == "Case 42"


def test_tenant_hold_stops_the_whole_purge(org):
    services.set_policy(org, SYSTEM, "notes", keep=False, days=30)
    old_note(org)
    hold = services.place_hold(org, SYSTEM, scope="tenant", reason="Litigation")
    assert all(n == 0 for n in counts(org).values())
    run = services.purge(org, SYSTEM)
    assert run.held and Note.objects.for_tenant(org).count() == 1
    services.release_hold(org, SYSTEM, hold)
    assert services.purge(org, SYSTEM).counts["notes"] == 1


def test_hold_needs_a_reason_and_a_real_contact(org, other_org):
    with pytest.raises(ValidationError) as exc:
        services.place_hold(org, SYSTEM, scope="contact", object_id=str(contact(org).pk), reason=" ")
    assert "reason" in exc.value.message_dict
    theirs = contact(other_org)
    with pytest.raises(ValidationError) as exc:
        services.place_hold(org, SYSTEM, scope="contact", object_id=str(theirs.pk), reason="x")
    assert "object_id" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.place_hold(org, SYSTEM, scope="call", object_id="123", reason="x")
    assert not LegalHold.objects.exists()


def test_api_places_and_releases_holds(api_as, org, other_org):
    api = api_as(Role.OWNER)
    response = api.post("/api/v1/retention/holds", {"scope": "tenant", "reason": "Audit by regulator"})
    assert response.status_code == 201
    hold_id = response.json()["id"]
    assert api.get("/api/v1/retention/preview").json()["tenant_held"] is True
    assert api.post(f"/api/v1/retention/holds/{hold_id}/release").status_code == 200
    assert api.post(f"/api/v1/retention/holds/{hold_id}/release").status_code == 422
    theirs = services.place_hold(other_org, SYSTEM, scope="tenant", reason="theirs")
    assert api.post(f"/api/v1/retention/holds/{theirs.pk}/release").status_code == 404


# --- daily job and the page ---------------------------------------------------------------


def test_daily_schedule_queues_one_job_per_tenant_per_day(org, other_org):
    assert services.schedule_daily() == 2
    services.schedule_daily()
    assert Job.objects.filter(kind="shield.retention_purge").count() == 2
    jobs.drain()
    assert RetentionRun.objects.filter(tenant=org).count() == 1


def test_page_shows_preview_holds_and_saves_policies(web_as, org):
    client = web_as(Role.ADMIN)
    old_note(org)
    page = client.get("/shield/retention/")
    assert page.status_code == 200 and b"What would be deleted today" in page.content
    client.post("/shield/retention/policy/", {"data_class": "notes", "mode": "days", "days": "10"})
    assert {p.key: p.days for p in services.effective_policies(org)}["notes"] == 10
    client.post("/shield/retention/policy/", {"data_class": "notes", "mode": "days", "days": "0"})
    assert {p.key: p.days for p in services.effective_policies(org)}["notes"] == 10
    client.post("/shield/retention/holds/", {"scope": "tenant", "reason": "Case"})
    assert b'data-testid="tenant-held"' in client.get("/shield/retention/").content


def test_page_is_for_admins(web_as):
    assert web_as(Role.AUDITOR).get("/shield/retention/").status_code == 403


def test_apps_can_register_their_data_classes(org):
    seen = []

    def finder(tenant, cutoff, holds):
        return ["a", "b"]

    def purger(tenant, items):
        seen.extend(items)
        return len(items)

    retention.register("test_things", finder, purger, label="Test things", default_days=7)
    try:
        assert counts(org)["test_things"] == 2
        assert services.purge(org, SYSTEM).counts["test_things"] == 2 and seen == ["a", "b"]
    finally:
        from octopushx.shield.retention import registry

        registry._REGISTRY.pop("test_things")


def test_register_refuses_a_zero_default():
    with pytest.raises(ValueError):
        retention.register("bad", lambda *a: [], lambda *a: 0, default_days=0)
