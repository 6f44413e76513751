"""Off the plan, Studio's workflows do not run: event and schedule triggers skip, webhooks answer 403."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from standardwebhooks import Webhook

from octopushx.billing import clock, services
from octopushx.core.context import Actor
from octopushx.studio import services as studio
from octopushx.studio.models import Run, Workflow
from octopushx.tenancy.roles import Role
from tests.billing.conftest import DAY_ONE
from tests.conftest import make_member
from tests.crm.conftest import make_contact
from tests.studio.conftest import run_all

SYSTEM = Actor.system("test")
ON_CONTACT = {
    "name": "Tag new contacts",
    "trigger": {"type": "event", "event": "contact.created"},
    "steps": [{"type": "add_tag", "tag": "new"}],
}
ON_WEBHOOK = {
    "name": "Form",
    "trigger": {"type": "webhook"},
    "steps": [{"type": "upsert_contact", "email": "{{ trigger.body.email }}"}],
}


@pytest.fixture
def after_trial(customer):
    with clock.frozen(DAY_ONE + timedelta(days=15)):
        services.current_subscription(customer)  # Team: no Studio
        yield customer


def _signed(secret: str, body: dict) -> tuple[bytes, dict]:
    raw, now = json.dumps(body).encode(), datetime.now(UTC)
    return raw, {
        "HTTP_WEBHOOK_ID": "msg_1",
        "HTTP_WEBHOOK_TIMESTAMP": str(int(now.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": Webhook(secret).sign("msg_1", now, raw),
    }


def test_event_triggers_do_not_run_off_the_plan(after_trial):
    studio.create_workflow(after_trial, SYSTEM, {**ON_CONTACT, "enabled": True})
    make_contact(after_trial)
    run_all()
    assert not Run.objects.filter(tenant=after_trial).exists()
    services.change_subscription(after_trial, SYSTEM, addons=["studio"])
    make_contact(after_trial, email="second@example.test")
    run_all()
    assert Run.objects.filter(tenant=after_trial).count() == 1


def test_webhooks_answer_403_off_the_plan(after_trial):
    workflow, secret = studio.create_workflow(after_trial, SYSTEM, {**ON_WEBHOOK, "enabled": True})
    raw, headers = _signed(secret, {"email": "x@example.com"})
    response = Client().post(f"/hooks/studio/{workflow.key}", raw, content_type="application/json", **headers)
    assert response.status_code == 403
    assert "Not in your plan: Studio" in response.content.decode()
    assert not Run.objects.exists()


def test_home_hides_the_studio_panel_off_the_plan(after_trial):
    workflow, _secret = studio.create_workflow(after_trial, SYSTEM, {**ON_CONTACT, "enabled": False})
    Workflow.objects.filter(pk=workflow.pk).update(paused_at=timezone.now())
    client = Client()
    client.force_login(make_member(after_trial, Role.OWNER).user)
    assert workflow.name not in client.get("/").content.decode()
    services.change_subscription(after_trial, SYSTEM, plan="enterprise")
    assert workflow.name in client.get("/").content.decode()
