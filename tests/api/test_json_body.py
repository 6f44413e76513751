"""A JSON body must be an object: an array (or a bare value) is refused, never read as ``{}``."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from octopushx.crm.models import Contact

pytestmark = pytest.mark.django_db


def _operations_with_a_json_body(client) -> list[tuple[str, str]]:
    document = client.get("/api/v1/openapi.json").json()
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                found.append((method, re.sub(r"{[^}]+}", str(uuid.uuid4()), path)))
    return found


def test_contact_created_from_an_array_is_refused_and_nothing_is_written(api_as, org):
    api = api_as("admin")

    response = api.post("/api/v1/contacts", [{"first_name": "Ada"}])

    assert response.status_code == 422
    assert response.json()["errors"] == {"__all__": ["Expected an object ({...}), not an array"]}
    assert not Contact.objects.for_tenant(org).exists()


@pytest.mark.parametrize("body", ["[]", "3", '"text"', "null", "true"])
def test_every_operation_with_a_json_body_refuses_anything_but_an_object(api_as, client, body):
    api = api_as("owner")
    operations = _operations_with_a_json_body(client)
    assert len(operations) > 30
    answers = {}
    for method, path in operations:
        response = getattr(api, method)(path, body, content_type="application/json")
        answers[f"{method.upper()} {path.split('/api/v1')[1]}"] = response.status_code
    assert set(answers.values()) == {422}, {name: status for name, status in answers.items() if status != 422}


def test_a_body_that_is_not_json_is_a_400(api_as):
    response = api_as("admin").post("/api/v1/contacts", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert json.loads(response.content)["detail"] == "Cannot parse request body"


def test_a_caller_without_a_token_is_told_that_before_anything_about_the_body(client):
    response = client.post("/api/v1/contacts", {"first_name": "Ev\u202eil"}, content_type="application/json")
    assert response.status_code == 401
