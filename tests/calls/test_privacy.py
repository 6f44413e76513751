"""Calls in Shield: a person's calls are found, exported, erased, and purged by retention."""

from __future__ import annotations

import json
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from octopushx.calls import search
from octopushx.calls.models import Call, CallAnalysisResult, Utterance
from octopushx.core import blobs
from octopushx.core.models import AuditEntry, Blob
from octopushx.crm import services as crm
from octopushx.shield.privacy import services as privacy
from octopushx.shield.privacy import subjects
from octopushx.shield.retention import services as retention
from tests.calls.conftest import tone_wav
from tests.calls.factories import analysed_call
from tests.shield.factories import SYSTEM, archive_of, fulfilled

EMAIL = "rosalind@example.test"
NUMBER = "+442079460999"
LONG_AGO = timezone.now() - timedelta(days=1000)
SAID = [("agent", "Good morning."), ("customer", "My parrot recites limericks at midnight.")]


def person(org):
    return crm.create_contact(org, SYSTEM, {"first_name": "Rosalind", "email": EMAIL, "phone": "+44 20 7946 0999"})


def with_recordings(call):
    original = blobs.store(call.tenant, tone_wav(0.2), filename="call.wav", content_type="audio/wav", purpose="call")
    redacted = blobs.store(call.tenant, tone_wav(0.3), filename="call.wav", content_type="audio/wav", purpose="call")
    Call.objects.filter(pk=call.pk).update(recording=original, redacted=redacted)
    call.refresh_from_db()
    return call


def indexed_lines() -> int:
    """Lines in the search index that hold the word "limericks" (SQLite: the FTS5 table)."""
    if connection.vendor != "sqlite":  # PostgreSQL indexes an expression over the rows themselves
        return Utterance.objects.filter(text__icontains="limericks").count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM calls_utterance_fts WHERE calls_utterance_fts MATCH %s", ["limericks"])
        return cursor.fetchone()[0]


# --- finding ---------------------------------------------------------------------------------


def test_finds_linked_calls_and_calls_from_or_to_their_numbers(org, other_org):
    contact = person(org)
    linked = analysed_call(org, contact=contact)
    inbound = analysed_call(org, from_number=NUMBER)
    outbound = analysed_call(org, direction="outbound", from_number="+442079460000")
    Call.objects.filter(pk=outbound.pk).update(to_number=NUMBER)
    analysed_call(org, from_number="+442079461111")  # someone else
    analysed_call(other_org, from_number=NUMBER)  # another organisation
    expected = {str(linked.pk), str(inbound.pk), str(outbound.pk)}
    assert set(subjects.find(org, subjects.Identity(email=EMAIL)).items["calls"]) == expected
    assert set(subjects.find(org, subjects.Identity(contact_id=str(contact.pk))).items["calls"]) == expected
    assert set(subjects.find(org, subjects.Identity(phone="020 7946 0999")).items["calls"]) == expected


def test_phone_alone_finds_calls_without_a_contact(org):
    call = analysed_call(org, from_number=NUMBER)
    assert subjects.find(org, subjects.Identity(phone=NUMBER)).items["calls"] == [str(call.pk)]
    assert "calls" not in subjects.find(org, subjects.Identity(phone="+442079460998")).items


# --- access ----------------------------------------------------------------------------------


def test_access_zip_holds_metadata_transcript_insights_and_the_redacted_recording(org):
    call = with_recordings(analysed_call(org, contact=person(org), lines=SAID))
    request = fulfilled(org, "access", email=EMAIL)
    files = archive_of(request)
    rows = json.loads(files["calls.json"])
    assert [r["id"] for r in rows] == [str(call.pk)]
    row = rows[0]
    assert row["direction"] == "inbound" and row["recording_is_redacted"] is True
    assert [u["text"] for u in row["transcript"]] == [text for _, text in SAID]
    assert row["insights"]["summary"] == "The customer paid a bill."
    assert files[row["recording"]] == b"".join(blobs.read(call.redacted))
    assert "calls.csv" in files


# --- erasure ---------------------------------------------------------------------------------


def test_erasure_deletes_calls_recordings_results_lines_and_index(org):
    call = with_recordings(analysed_call(org, from_number=NUMBER, lines=SAID))
    kept = analysed_call(org, from_number="+442079461111", lines=SAID)
    stored = [Blob.objects.get(pk=call.recording_id), Blob.objects.get(pk=call.redacted_id)]
    assert indexed_lines() == 2  # both calls are indexed
    request = fulfilled(org, "erasure", phone=NUMBER)
    assert request.result["erased"]["calls"] == 1
    assert not Call.objects.filter(pk=call.pk).exists()
    assert not CallAnalysisResult.objects.filter(call_id=call.pk).exists()
    assert not Utterance.objects.filter(call_id=call.pk).exists()
    assert not Blob.objects.filter(pk__in=[b.pk for b in stored]).exists()
    assert not any(default_storage.exists(b.path) for b in stored)
    assert indexed_lines() == 1  # only the other caller's line is left in the index
    assert search.matching_call_ids(Call.objects.for_tenant(org), "limericks") == [kept.pk]
    entries = AuditEntry.objects.filter(tenant=org, object_id=str(call.pk)).select_related("personal")
    assert entries and all(e.personal.changes == {"erased": True} for e in entries)


def test_hold_on_a_call_blocks_its_erasure(org):
    call = analysed_call(org, from_number=NUMBER)
    retention.place_hold(org, SYSTEM, scope="call", object_id=str(call.pk), reason="Complaint 7")
    request = privacy.attest(org, SYSTEM, privacy.receive(org, SYSTEM, kind="erasure", source="staff",
                                                            phone=NUMBER), "ID")  # fmt: skip
    assert privacy.hold_blocking(org, request) == "Complaint 7"
    assert Call.objects.filter(pk=call.pk).exists()


# --- retention -------------------------------------------------------------------------------


def old(call):
    Call.objects.filter(pk=call.pk).update(created_at=LONG_AGO)
    return call


def test_data_classes_are_registered_and_kept_by_default(org):
    policies = {p.key: p.days for p in retention.effective_policies(org)}
    assert policies["recordings"] is None and policies["transcripts"] is None
    call = with_recordings(old(analysed_call(org)))
    retention.purge(org, SYSTEM)
    call.refresh_from_db()
    assert call.recording_id and call.current_id


def test_recordings_purge_deletes_blobs_and_keeps_the_transcript(org):
    retention.set_policy(org, SYSTEM, "recordings", keep=False, days=90)
    due = with_recordings(old(analysed_call(org)))
    fresh = with_recordings(analysed_call(org))
    stored = [due.recording_id, due.redacted_id]
    run = retention.purge(org, SYSTEM)
    assert run.counts["recordings"] == 1
    due.refresh_from_db()
    fresh.refresh_from_db()
    assert due.recording_id is None and due.redacted_id is None and due.current_id
    assert not Blob.objects.filter(pk__in=stored).exists()
    assert fresh.recording_id and fresh.redacted_id


def test_transcripts_purge_deletes_results_lines_and_index(org):
    retention.set_policy(org, SYSTEM, "transcripts", keep=False, days=90)
    due = with_recordings(old(analysed_call(org, lines=SAID)))
    run = retention.purge(org, SYSTEM)
    assert run.counts["transcripts"] == 1
    due.refresh_from_db()
    assert due.current_id is None and due.summary == "" and due.recording_id
    assert not CallAnalysisResult.objects.filter(call=due).exists() and not Utterance.objects.filter(call=due).exists()
    assert search.matching_call_ids(Call.objects.for_tenant(org), "limericks") == []
    assert indexed_lines() == 0


def test_holds_on_a_call_or_its_contact_keep_it(org):
    retention.set_policy(org, SYSTEM, "recordings", keep=False, days=90)
    retention.set_policy(org, SYSTEM, "transcripts", keep=False, days=90)
    contact = person(org)
    by_contact = with_recordings(old(analysed_call(org, contact=contact)))
    by_call = with_recordings(old(analysed_call(org)))
    free = with_recordings(old(analysed_call(org)))
    retention.place_hold(org, SYSTEM, scope="contact", object_id=str(contact.pk), reason="Case 1")
    retention.place_hold(org, SYSTEM, scope="call", object_id=str(by_call.pk), reason="Case 2")
    run = retention.purge(org, SYSTEM)
    assert run.counts["recordings"] == 1 and run.counts["transcripts"] == 1
    for call in (by_contact, by_call):
        call.refresh_from_db()
        assert call.recording_id and call.current_id
    free.refresh_from_db()
    assert free.recording_id is None and free.current_id is None
