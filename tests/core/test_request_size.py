"""Oversized request bodies get a clear 413, never a 500 or a bare 400 page."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from octopushx.accounts.models import ApiToken


def test_oversized_json_body_on_api_is_413_in_the_error_shape(org, api_as, settings):
    api = api_as("admin")
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = api.post("/api/v1/tokens", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large (the limit is 5 MB).", "errors": {}}
    assert ApiToken.objects.filter(user=api.membership.user).count() == 1  # only the client's own


def test_body_within_the_limit_is_handled_normally(org, api_as):
    response = api_as("admin").post("/api/v1/tokens", {"name": "n" * 100_000})
    assert response.status_code in (201, 422)


def test_oversized_upload_is_413(org, api_as, settings):
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    upload = SimpleUploadedFile("call.wav", b"\0" * (2 * 1024 * 1024), content_type="audio/wav")
    response = api_as("admin").client.post("/api/v1/tokens", {"name": "x", "file": upload})
    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is too large (the limit is 1 MB)."


def test_upload_within_the_limit_passes_the_gate(org, api_as, settings):
    settings.MAX_UPLOAD_BYTES = 4 * 1024 * 1024
    upload = SimpleUploadedFile("call.wav", b"\0" * (2 * 1024 * 1024), content_type="audio/wav")
    response = api_as("admin").client.post("/api/v1/tokens", {"name": "x", "file": upload})
    assert response.status_code != 413


def test_oversized_form_post_on_a_page_is_413_text(org, web_as, settings):
    client = web_as("admin")
    response = client.post("/accounts/login/", {"email": "a@b.test", "password": "p" * (6 * 1024 * 1024)})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert b"The request body is too large" in response.content
    assert "Content-Security-Policy" in response


def test_malformed_content_length_is_400(client):
    response = client.post("/api/v1/tokens", b"{}", content_type="application/json", CONTENT_LENGTH="ten")
    assert response.status_code == 400
    assert response.json()["detail"] == "The Content-Length header is not a number."
