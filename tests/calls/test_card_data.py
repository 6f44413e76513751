"""No card data on the processing job's path, and one analysis path (issue 10 §2).

A spoken card payment uploaded as stereo and as mono: nothing of the card number or the
security code may reach the transcript, the insights, the search index, the exported summary or
the redacted recording. The same mono file through ``octopushx analyze`` gives the same
transcript, speakers and redactions as the job."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from octopushx.calls import services
from octopushx.calls.models import Call, CallStatus, Utterance
from octopushx.core import blobs
from octopushx.core.context import Actor
from octopushx.intelligence import console
from tests.intelligence.card_speech import CARD_CALLS, insight_texts, leaks, synthesise, unsilenced

CALL = "grouped"
CARD = next(s["value"] for t in CARD_CALLS[CALL]["script"] for s in t.get("sensitive", []) if s["kind"] == "CARD")
TENANT_POLICY = {"max_duration_seconds", "keep_original"}  # the tenant's settings: no effect on the transcript


@pytest.fixture(scope="module")
def card_call(tmp_path_factory) -> dict:
    return synthesise(tmp_path_factory.mktemp("card-call"), CALL)


@pytest.fixture(scope="module")
def command_result(card_call) -> dict:
    """``octopushx analyze CALL-mono.wav --json`` (in this process)."""
    return json.loads(_command_output(card_call["files"]["mono"]["wav"]))


def _command_output(path: str, *options: str) -> str:
    parser = argparse.ArgumentParser()
    console.add_arguments(parser)
    out = io.StringIO()
    console.run(parser.parse_args([path, *options, "--json"]), out=out, err=io.StringIO())
    return out.getvalue()


def _processed(client, path: str) -> Call:
    with open(path, "rb") as handle:
        upload = SimpleUploadedFile("card-payment.wav", handle.read(), content_type="audio/wav")
    response = client.post("/api/v1/calls", {"file": upload}, multipart=True)
    assert response.status_code == 201, response.content
    call = Call.objects.get(pk=response.json()["id"])
    from octopushx.core import jobs

    jobs.drain()
    call.refresh_from_db()
    assert call.status == CallStatus.ANALYSED, call.failure_reason
    return call


def _lines(data: dict) -> list[tuple[str, str]]:
    return [(u["speaker"], u["text"]) for u in data["utterances"]]


def test_the_job_and_the_command_use_the_same_settings(org):
    job_settings = services.analysis_settings(services.call_settings(org))
    parser = argparse.ArgumentParser()
    console.add_arguments(parser)
    command_settings = console.command_settings(parser.parse_args(["call.wav"]))
    differing = {
        f.name
        for f in dataclasses.fields(job_settings)
        if getattr(job_settings, f.name) != getattr(command_settings, f.name)
    }
    assert differing <= TENANT_POLICY


def test_the_job_and_the_command_give_the_same_transcript_speakers_and_redactions(api_as, card_call, command_result):
    call = _processed(api_as("agent"), card_call["files"]["mono"]["wav"])
    stored = call.results.get().data
    assert _lines(stored) == _lines(command_result)
    assert [(u["start"], u["end"]) for u in stored["utterances"]] == [
        (u["start"], u["end"]) for u in command_result["utterances"]
    ]
    assert stored["redaction"] == command_result["redaction"]
    assert {"CARD", "CVV"} <= {s["kind"] for s in stored["redaction"]["spans"]}
    job_settings = {k: v for k, v in stored["provenance"]["settings"].items() if k not in TENANT_POLICY}
    command_settings = {k: v for k, v in command_result["provenance"]["settings"].items() if k not in TENANT_POLICY}
    assert job_settings == command_settings


@pytest.mark.parametrize("layout", ["stereo", "mono"])
def test_no_card_data_reaches_anything_the_job_stores_or_shares(org, api_as, card_call, layout, tmp_path):
    client = api_as("admin")
    call = _processed(client, card_call["files"][layout]["wav"])
    body = client.get(f"/api/v1/calls/{call.pk}").json()
    transcript = "\n".join(u["text"] for u in body["transcript"]["utterances"])
    assert "[CARD]" in transcript and leaks(transcript) == [], transcript
    for text in insight_texts(body["insights"]):
        assert leaks(text) == [], text
    # the search index: the stored lines, and what a search for the card's digits finds
    indexed = list(Utterance.objects.filter(call=call).values_list("text", flat=True))
    assert indexed and all(leaks(text) == [] for text in indexed), indexed
    for group in re.findall(r"\d{4}", CARD):
        assert client.get("/api/v1/calls/search", {"q": group}).json()["items"] == []
    # the exported summary
    _name, _type, exported = services.export_summary(
        org, Actor(user=client.membership.user), call, "md", link="http://testserver/c", confirm_unreviewed=True
    )
    markdown = exported.decode()
    derived = markdown.split("## Summary", 1)[1].split("## Key metrics", 1)[0]
    assert leaks(derived) == [], derived
    # Line by line, without the agent's address (its random hex may hold four of the card's digits).
    lines = markdown.replace(client.membership.user.email, "").splitlines()
    digits = [re.sub(r"\D", "", line) for line in lines]
    assert not any(group in line for line in digits for group in re.findall(r"\d{4}", CARD)), markdown
    # the redacted recording, where the script spoke the card and the code
    redacted = tmp_path / "redacted.wav"
    redacted.write_bytes(blobs.read_bytes(call.redacted))
    assert unsilenced(redacted, card_call) == [], body["redaction"] if "redaction" in body else transcript
