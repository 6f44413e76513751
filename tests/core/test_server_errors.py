"""An unexpected error answers in the shape of the path: JSON under /api/, the error page elsewhere;
while the database cannot be reached it is a 503 with Retry-After, so clients and proxies retry."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.urls import path

from octopushx import urls as project_urls
from octopushx.core import views


def _bug(request):
    raise RuntimeError("a bug")


urlpatterns = [path("api/v1/bug", _bug), path("bug", _bug)]
handler500 = project_urls.handler500


def _database_down():
    def refuse(self):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    return mock.patch.object(BaseDatabaseWrapper, "ensure_connection", refuse)


def test_the_project_routes_server_errors_to_the_shaped_handler():
    assert project_urls.handler500 == "octopushx.core.views.server_error"


def test_api_request_during_a_database_outage_is_json_503_with_retry_after(org, api_as):
    api = api_as("admin")
    client = Client(HTTP_AUTHORIZATION=api.client.defaults["HTTP_AUTHORIZATION"], raise_request_exception=False)
    with _database_down():
        response = client.get("/api/v1/contacts")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": views.UNAVAILABLE, "errors": {}}
    assert response["Retry-After"] == "5"


def test_page_request_during_a_database_outage_is_the_error_page_with_503(org, web_as):
    client = web_as("admin")
    client.raise_request_exception = False
    with _database_down():
        response = client.get("/crm/contacts/")
    assert response.status_code == 503
    assert b"Something went wrong on our side" in response.content
    assert response["Retry-After"] == "5"


@pytest.mark.urls(__name__)
def test_a_bug_under_api_is_json_500_without_retry_after():
    response = Client(raise_request_exception=False).get("/api/v1/bug")
    assert response.status_code == 500
    assert response.json() == {"detail": views.FAILED, "errors": {}}
    assert not response.has_header("Retry-After")


@pytest.mark.urls(__name__)
def test_a_bug_on_a_page_is_the_html_error_page():
    response = Client(raise_request_exception=False).get("/bug")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"Something went wrong on our side" in response.content
