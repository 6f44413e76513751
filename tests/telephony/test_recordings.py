"""Recorded greetings: uploaded, chosen in a block, played to a live call through a signed, expiring URL."""

from __future__ import annotations

import io
import wave
from datetime import datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from octopushx.core import blobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, Blob
from octopushx.intelligence import audio
from octopushx.telephony import prompts, services
from octopushx.telephony.models import AudioPrompt
from octopushx.tenancy.roles import Role
from tests.calls.conftest import tone_wav
from tests.conftest import ApiClient, make_member
from tests.telephony.editor_form import Form
from tests.telephony.providers import CALLER, LINE, SID, connect, twilio_post, vonage_post

pytestmark = pytest.mark.django_db
RECORDINGS = "/api/v1/telephony/recordings"


def _file(data: bytes | None = None, name: str = "Welcome.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, tone_wav(seconds=1.5) if data is None else data, content_type="audio/wav")


def _greeting_line(prompt_id: str) -> dict:
    return {"name": "Greeting line", "timezone": "Europe/London", "start": "hello", "blocks": [
        {"id": "hello", "type": "greeting", "recording": prompt_id, "next": "vm"},
        {"id": "vm", "type": "voicemail", "recording": prompt_id},
    ]}  # fmt: skip


@pytest.fixture
def prompt(line_org):
    return prompts.upload(line_org, Actor.system("test"), name="Welcome", source=io.BytesIO(tone_wav(seconds=1.5)))


# --- upload ---------------------------------------------------------------------------------------


def test_an_upload_is_stored_sealed_as_mono_wav_and_audited(line_org, api_as):
    response = api_as(Role.ADMIN).post(RECORDINGS, {"file": _file(), "name": "Welcome"}, multipart=True)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["played_by"]) == ("Welcome", [])
    assert abs(body["duration_s"] - 1.5) < 0.05
    row = AudioPrompt.objects.get(pk=body["id"])
    stored = blobs.read_bytes(row.blob)
    with wave.open(io.BytesIO(stored)) as handle:
        assert (handle.getnchannels(), handle.getsampwidth(), handle.getframerate()) == (1, 2, audio.SAMPLE_RATE)
    with default_storage.open(row.blob.path, "rb") as raw:  # on disk: ciphertext, not the WAV
        assert b"RIFF" not in raw.read(64)
    assert AuditEntry.objects.filter(tenant=line_org, action="audio_prompt.created", object_id=str(row.pk)).exists()


def test_the_name_defaults_to_the_files(line_org, api_as):
    response = api_as(Role.OWNER).post(RECORDINGS, {"file": _file(name="Office hours.wav")}, multipart=True)
    assert response.status_code == 201 and response.json()["name"] == "Office hours"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (b"this is not audio at all, just text" * 10, "file", "Not an audio file"),
        (tone_wav(amplitude=0.0), "file", "silent"),
        (tone_wav(seconds=prompts.MAX_SECONDS + 5, rate=8000, channels=1), "file", "limit is 5 minutes"),
    ],
    ids=["not-audio", "silent", "too-long"],
)
def test_bad_audio_is_422_naming_the_file_and_nothing_is_stored(line_org, api_as, data, field, message):
    response = api_as(Role.ADMIN).post(RECORDINGS, {"file": _file(data), "name": "Bad"}, multipart=True)
    assert response.status_code == 422, response.content
    assert message in " ".join(response.json()["errors"][field])
    assert not AudioPrompt.objects.exists() and not Blob.objects.filter(purpose="telephony.prompt").exists()


def test_a_name_taken_is_422(line_org, api_as, prompt):
    response = api_as(Role.ADMIN).post(RECORDINGS, {"file": _file(), "name": "Welcome"}, multipart=True)
    assert response.status_code == 422 and "exists" in response.json()["errors"]["name"][0]
    assert AudioPrompt.objects.count() == 1


def test_managers_listen_agents_have_none_and_only_owners_and_admins_upload(line_org, api_as, prompt):
    manager = api_as(Role.MANAGER)
    listed = manager.get(RECORDINGS)
    assert listed.status_code == 200 and [r["name"] for r in listed.json()["items"]] == ["Welcome"]
    played = manager.get(f"{RECORDINGS}/{prompt.pk}/audio")
    assert played.status_code == 200 and played["Content-Type"] == "audio/wav"
    assert b"".join(played.streaming_content) == blobs.read_bytes(prompt.blob)
    assert manager.post(RECORDINGS, {"file": _file(), "name": "Mine"}, multipart=True).status_code == 403
    assert manager.delete(f"{RECORDINGS}/{prompt.pk}").status_code == 403
    agent = api_as(Role.AGENT)
    assert agent.get(RECORDINGS).status_code == 403
    assert agent.get(f"{RECORDINGS}/{prompt.pk}/audio").status_code == 403
    assert AudioPrompt.objects.count() == 1


def test_another_organisations_recording_is_404_and_cannot_be_played_by_its_flows(line_org, other_org, api_as, prompt):
    stranger = ApiClient(make_member(other_org, Role.OWNER))
    assert stranger.get(RECORDINGS).json()["items"] == []
    assert stranger.get(f"{RECORDINGS}/{prompt.pk}/audio").status_code == 404
    assert stranger.delete(f"{RECORDINGS}/{prompt.pk}").status_code == 404
    response = stranger.post("/api/v1/telephony/flows", {"definition": _greeting_line(str(prompt.pk))})
    assert response.status_code == 422
    assert response.json()["errors"]["definition.blocks.hello.recording"] == ["No uploaded recording with this id"]
    assert AudioPrompt.objects.filter(pk=prompt.pk).exists()


# --- in a flow ------------------------------------------------------------------------------------


def test_a_flow_plays_it_and_it_cannot_be_deleted_until_no_flow_does(line_org, api_as, prompt):
    admin = api_as(Role.ADMIN)
    created = admin.post("/api/v1/telephony/flows", {"definition": _greeting_line(str(prompt.pk))})
    assert created.status_code == 201, created.content
    assert admin.get(RECORDINGS).json()["items"][0]["played_by"] == ["Greeting line"]
    refused = admin.delete(f"{RECORDINGS}/{prompt.pk}")
    assert refused.status_code == 422 and "Greeting line" in refused.json()["detail"] + str(refused.json()["errors"])
    assert AudioPrompt.objects.filter(pk=prompt.pk).exists()
    assert admin.delete(f"/api/v1/telephony/flows/{created.json()['id']}").status_code == 204
    path = prompt.blob.path
    assert admin.delete(f"{RECORDINGS}/{prompt.pk}").status_code == 204
    assert not AudioPrompt.objects.exists() and not default_storage.exists(path)
    assert AuditEntry.objects.filter(tenant=line_org, action="audio_prompt.deleted").exists()


def test_an_unknown_recording_id_is_422_naming_the_block(line_org, api_as):
    response = api_as(Role.ADMIN).post("/api/v1/telephony/flows", {"definition": _greeting_line("no-such-thing")})
    assert response.status_code == 422
    assert response.json()["errors"]["definition.blocks.hello.recording"] == ["No uploaded recording with this id"]


def _media_path(url: str) -> str:
    parts = urlsplit(url)  # on the platform's public address (BASE_URL)
    return f"{parts.path}?{parts.query}"


def test_a_live_twilio_call_plays_the_recording_from_a_signed_url(client, line_org, prompt):
    flow, _ = services.create_flow(line_org, Actor.system("test"), _greeting_line(str(prompt.pk)))
    line = connect(line_org, flow=flow)
    params = {"AccountSid": SID, "CallSid": "CA900", "From": CALLER, "To": LINE, "Direction": "inbound"}
    answer = twilio_post(client, f"/hooks/telephony/twilio/incoming/{line['numbers']['twilio'].pk}", params)
    assert answer.status_code == 200, answer.content
    played = [p.text for p in ElementTree.fromstring(answer.content).iter("Play")]
    assert len(played) == 1 and f"/hooks/telephony/media/{flow.pk}/{prompt.pk}?t=" in played[0]
    fetched = client.get(_media_path(played[0]))  # the provider fetches it: no session, no signature header
    assert fetched.status_code == 200 and fetched["Content-Type"] == "audio/wav"
    body = b"".join(fetched.streaming_content)
    assert body == blobs.read_bytes(prompt.blob) and int(fetched["Content-Length"]) == len(body)
    assert abs(audio.decode(io.BytesIO(body)).duration - prompt.duration_s) < 0.05


def test_a_vonage_call_streams_it(client, line_org, prompt):
    flow, _ = services.create_flow(line_org, Actor.system("test"), _greeting_line(str(prompt.pk)))
    line = connect(line_org, flow=flow)
    body = {"uuid": "v-900", "conversation_uuid": "CON-900", "from": CALLER.lstrip("+"), "to": LINE.lstrip("+")}
    answer = vonage_post(client, f"/hooks/telephony/vonage/answer/{line['vonage'].pk}", body)
    assert answer.status_code == 200, answer.content
    streams = [a for a in answer.json() if a["action"] == "stream"]
    assert streams and f"/hooks/telephony/media/{flow.pk}/{prompt.pk}?t=" in streams[0]["streamUrl"][0]
    assert client.get(_media_path(streams[0]["streamUrl"][0])).status_code == 200


def test_the_media_url_refuses_a_wrong_an_expired_or_a_moved_signature(client, line_org, prompt, settings):
    flow, _ = services.create_flow(line_org, Actor.system("test"), _greeting_line(str(prompt.pk)))
    good = _media_path(prompts.media_url("http://testserver", flow.pk, str(prompt.pk)))
    assert client.get(good).status_code == 200
    assert client.head(good).status_code == 200
    path, token = good.split("?t=")
    assert client.get(path).status_code == 403
    assert client.get(f"{path}?t={token[:-2]}xx").status_code == 403
    other = prompts.upload(line_org, Actor.system("test"), name="Other", source=io.BytesIO(tone_wav(seconds=1)))
    assert client.get(f"/hooks/telephony/media/{flow.pk}/{other.pk}?t={token}").status_code == 403
    settings.SECRET_KEY = "another-key-entirely-" * 3  # a token from another deployment
    assert client.get(good).status_code == 403


def test_the_media_url_expires(client, line_org, prompt, monkeypatch):
    flow, _ = services.create_flow(line_org, Actor.system("test"), _greeting_line(str(prompt.pk)))
    good = _media_path(prompts.media_url("http://testserver", flow.pk, str(prompt.pk)))
    monkeypatch.setattr(prompts, "URL_LIFETIME_S", -1)
    assert client.get(good).status_code == 403


def test_a_deleted_recording_behind_a_valid_url_is_404(client, line_org, prompt):
    flow, _ = services.create_flow(line_org, Actor.system("test"), _greeting_line(str(prompt.pk)))
    good = _media_path(prompts.media_url("http://testserver", flow.pk, str(prompt.pk)))
    AudioPrompt.objects.filter(pk=prompt.pk).delete()
    assert client.get(good).status_code == 404


# --- the pages ------------------------------------------------------------------------------------

PAGE = "/telephony/recordings/"


def test_an_admin_uploads_listens_and_deletes_on_the_page(line_org, web_as):
    client = web_as(Role.ADMIN)
    empty = client.get(PAGE)
    assert empty.status_code == 200 and "No recordings yet" in empty.content.decode()
    uploaded = client.post(PAGE, {"name": "Welcome", "file": _file()}, follow=True)
    html = uploaded.content.decode()
    assert uploaded.status_code == 200 and "“Welcome” uploaded (1.5 s)" in html
    row = AudioPrompt.objects.get(tenant=line_org, name="Welcome")
    assert f"/telephony/recordings/{row.pk}/audio/" in html and "No flow yet" in html
    played = client.get(f"/telephony/recordings/{row.pk}/audio/")
    assert played.status_code == 200 and b"".join(played.streaming_content) == blobs.read_bytes(row.blob)
    deleted = client.post(f"/telephony/recordings/{row.pk}/delete/", follow=True)
    assert "“Welcome” deleted." in deleted.content.decode() and not AudioPrompt.objects.exists()


def test_a_bad_upload_shows_the_reason_on_the_file_and_keeps_the_name(line_org, web_as):
    client = web_as(Role.OWNER)
    response = client.post(PAGE, {"name": "Hello", "file": _file(b"plain text, not a sound" * 20)})
    html = response.content.decode()
    assert response.status_code == 422 and "Not an audio file" in html and 'value="Hello"' in html
    missing = client.post(PAGE, {"name": "Hello"})
    assert missing.status_code == 422 and "Choose an audio file" in missing.content.decode()
    assert not AudioPrompt.objects.exists()


def test_a_recording_a_flow_plays_is_not_deleted_and_the_page_names_the_flow(line_org, web_as, prompt):
    services.create_flow(line_org, Actor.system("test"), _greeting_line(str(prompt.pk)))
    client = web_as(Role.ADMIN)
    assert "Greeting line" in client.get(PAGE).content.decode()
    refused = client.post(f"/telephony/recordings/{prompt.pk}/delete/", follow=True)
    assert "Played by Greeting line" in refused.content.decode()
    assert AudioPrompt.objects.filter(pk=prompt.pk).exists()


def test_a_manager_listens_but_has_no_upload_and_an_agent_no_page(line_org, web_as, prompt):
    manager = web_as(Role.MANAGER)
    html = manager.get(PAGE).content.decode()
    assert "Welcome" in html and "Upload a recording" not in html
    assert manager.post(PAGE, {"name": "Mine", "file": _file()}).status_code == 403
    assert manager.post(f"/telephony/recordings/{prompt.pk}/delete/").status_code == 403
    agent = web_as(Role.AGENT)
    assert agent.get(PAGE).status_code == 403
    assert agent.get(f"/telephony/recordings/{prompt.pk}/audio/").status_code == 403
    assert AudioPrompt.objects.count() == 1


def test_another_organisations_recording_is_404_on_the_pages(line_org, other_org, web_as, prompt):
    stranger = web_as(Role.OWNER, tenant=other_org)
    assert stranger.get(f"/telephony/recordings/{prompt.pk}/audio/").status_code == 404
    assert stranger.post(f"/telephony/recordings/{prompt.pk}/delete/").status_code == 404
    assert "No recordings yet" in stranger.get(PAGE).content.decode()


def test_the_block_editor_chooses_a_recording_for_a_greeting_and_drops_its_text(line_org, web_as, prompt):
    row, _ = services.create_flow(line_org, Actor.system("test"), {**_greeting_line(str(prompt.pk)), "blocks": [
        {"id": "hello", "type": "greeting", "say": "Hello there.", "next": "vm"},
        {"id": "vm", "type": "voicemail", "say": "Leave a message."},
    ]})  # fmt: skip
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    page = client.get(url).content.decode()
    assert "Welcome (2 s)" in page and "Or plays a recording" in page
    form = Form(page)
    assert form.get("blocks-0-recording") == ""  # text to speech
    form.set("blocks-0-recording", str(prompt.pk)).set("blocks-1-recording", str(prompt.pk))
    assert client.post(url, form.post_data("save")).status_code == 302
    row.refresh_from_db()
    hello, vm = row.definition["blocks"]
    assert (hello["recording"], hello["say"]) == (str(prompt.pk), "")
    assert (vm["recording"], vm["say"]) == (str(prompt.pk), "Leave a message.")
    again = Form(client.get(url).content.decode())
    assert again.get("blocks-0-recording") == str(prompt.pk)


def test_the_simulator_and_the_read_only_cards_name_the_recording(line_org, web_as, prompt):
    row, _ = services.create_flow(line_org, Actor.system("test"), _greeting_line(str(prompt.pk)))
    result = services.simulate_flow(line_org, row, caller=CALLER, at=datetime(2026, 12, 8, 10, 30), digits=[])
    assert "Plays “Welcome” → vm" in [step.detail for step in result.steps]
    html = web_as(Role.MANAGER).get(reverse("telephony:flow", args=[row.pk])).content.decode()
    assert "“Welcome”" in html
