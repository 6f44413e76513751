"""Schemathesis over the whole OpenAPI document: every operation, generated inputs.

Each operation is its own test (its own rolled-back database) signed in as the owner of a fresh
organisation that holds one record of each kind; half the generated cases ask for those records'
ids, so the operations are exercised beyond their 404. The run fails on a server error, an answer
that does not match its documented schema or content type, and a status the document does not
list. A stateful test then chains the CRM's record operations through the links schemathesis
infers (create, then read, change, delete by the returned id). ``OCTOPUSHX_FUZZ_EXAMPLES`` sets the examples per operation (8 by default: the whole run
stays under two minutes on two cores).
"""

from __future__ import annotations

import os
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from octopushx.wsgi import application
from tests.conftest import ApiClient, make_member, make_org

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("OCTOPUSHX_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def owner_api(settings):
    settings.RATE_LIMITS_ENABLED = False
    return ApiClient(make_member(make_org("Fuzz Org"), "owner"))


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Schemathesis calls the WSGI application directly, whose request signals close database
    connections; Django's own test client switches that off the same way, or the test's
    transaction would be closed under it."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def known_ids(owner_api):
    """One record of each kind in the owner's organisation, by the path parameter naming it."""
    from octopushx.core.context import Actor
    from octopushx.crm import services as crm

    tenant, actor = owner_api.membership.tenant, Actor.system("test")
    contact = crm.create_contact(tenant, actor, {"first_name": "Ada", "last_name": "Lovelace"})
    company = crm.create_company(tenant, actor, {"name": "Analytical Engines"})
    pipeline = crm.default_pipeline(tenant)
    deal = crm.create_deal(tenant, actor, {"name": "Engine", "pipeline_id": str(pipeline.pk)})
    task = crm.create_task(tenant, actor, {"title": "Call back", "contact_id": str(contact.pk)})
    note = crm.create_note(tenant, actor, {"body": "Met at the fair", "contact_id": str(contact.pk)})
    return {
        "contact_id": str(contact.pk),
        "company_id": str(company.pk),
        "pipeline_id": str(pipeline.pk),
        "deal_id": str(deal.pk),
        "task_id": str(task.pk),
        "note_id": str(note.pk),
        "org_id": str(tenant.pk),
        "member_id": str(owner_api.membership.pk),
        "token_id": str(owner_api.token.pk),
    }


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case, owner_api, known_ids):
    for name in case.path_parameters or {}:
        # Deterministic per case: about half ask for a record that exists.
        if name in known_ids and zlib.crc32(repr(case.path_parameters).encode()) % 2:
            case.path_parameters[name] = known_ids[name]
    case.call_and_validate(headers={"Authorization": f"Bearer {owner_api.secret}"}, checks=CHECKS)


def test_crm_records_answer_as_documented_across_calls(owner_api):
    """Stateful: create a record, then read, change, list and delete it through the links
    schemathesis infers from the answers (the ids a create returns feed the next calls)."""
    crm = schema.include(path_regex=r"^/api/v1/(contacts|companies|deals|tasks|notes|pipelines)(/|$)")
    headers = {"Authorization": f"Bearer {owner_api.secret}"}

    calls = []

    class CrmScenarios(crm.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def after_call(self, response, case):
            super().after_call(response, case)
            calls.append((case.method, case.operation.path, response.status_code))

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=headers)

    CrmScenarios.run(
        settings=settings(
            max_examples=max(4, EXAMPLES),
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The scenarios went beyond a first call: a record was created and then used by id.
    assert any(method == "POST" and status == 201 for method, _path, status in calls), calls
    assert any("{" in path and status in (200, 204) for _method, path, status in calls), calls
