"""Studio fixtures: workflows created through the services, run by draining the queue in-process."""

from __future__ import annotations

import pytest

from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.studio import engine, services
from octopushx.tenancy.roles import Role
from tests.conftest import make_member


def admin_actor(org) -> Actor:
    membership = make_member(org, Role.ADMIN)
    return Actor(user=membership.user, role=membership.role)


def make_workflow(org, body: dict, enabled: bool = True, actor: Actor | None = None):
    workflow, _secret = services.create_workflow(org, actor or Actor.system("test"), {**body, "enabled": enabled})
    return workflow


def run_all() -> int:
    """Deliver events and run every due workflow run in this process."""
    ran = 0
    for _ in range(10):
        done = jobs.drain() + engine.drain(max_seconds=30)
        ran += done
        if not done:
            break
    return ran


@pytest.fixture
def studio_settings(settings):
    settings.STUDIO_ALLOW_PRIVATE_URLS = True
    settings.STUDIO_RETRY_SECONDS = 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings
