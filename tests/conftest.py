"""Shared fixtures: organisations, a signed-in member of each role, API clients."""

from __future__ import annotations

import pytest
from django.test import Client

from octopushx.accounts import services as account_services
from octopushx.core.context import Actor
from octopushx.tenancy import services as tenancy_services
from octopushx.tenancy.models import OrgKind
from octopushx.tenancy.roles import Role

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _isolated_data_dir(settings, tmp_path):
    """Blobs and keys of each test live in its own folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "blobs")},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MASTER_KEY_FILE = str(tmp_path / "master.key")
    settings.MASTER_KEY = None
    settings.CALLS_DEMO_CALLS = 0  # the demo's speech synthesis is tested in tests/calls/test_demo.py
    from django.core.files.storage import default_storage, storages
    from django.utils.functional import empty

    storages._storages = {}
    default_storage._wrapped = empty
    from octopushx.core import keys

    keys._cache.clear()
    from octopushx.tenancy import branding

    branding.invalidate_hosts()  # verified brand domains are cached; each test starts with its own
    yield
    branding.invalidate_hosts()


def make_org(name: str = "Acme", kind: str = OrgKind.CUSTOMER, parent=None):
    return tenancy_services.create_organization(Actor.system("test"), name=name, kind=kind, parent=parent)


def make_member(org, role: str = Role.AGENT, email: str | None = None):
    email = email or f"{role}-{org.pk.hex[:6]}@example.test"
    return tenancy_services.add_member(
        org, Actor.system("test"), email=email, role=role, password=PASSWORD, check=False
    )


@pytest.fixture
def org(db):
    return make_org("Acme Support")


@pytest.fixture
def other_org(db):
    return make_org("Other Corp")


class ApiClient:
    """A Django test client that sends a Bearer token on every call."""

    def __init__(self, membership):
        self.membership = membership
        self.token, self.secret = account_services.create_token(
            membership.tenant, Actor.system("test"), membership.user, name="test"
        )
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {self.secret}")

    def __getattr__(self, name):
        method = getattr(self.client, name)

        def call(path, data=None, **kwargs):
            if (
                name in ("post", "put", "patch")
                and data is not None
                and "content_type" not in kwargs
                and not kwargs.pop("multipart", False)
            ):
                kwargs["content_type"] = "application/json"
            return method(path, data, **kwargs) if data is not None else method(path, **kwargs)

        return call


@pytest.fixture
def api_as(org):
    """``api_as("admin")`` → an API client for a new member with that role in ``org``."""

    def build(role: str = Role.ADMIN, tenant=None):
        return ApiClient(make_member(tenant or org, role))

    return build


@pytest.fixture
def web_as(org, client):
    """``web_as("agent")`` → the test client signed in as a new member with that role."""

    def build(role: str = Role.ADMIN, tenant=None):
        membership = make_member(tenant or org, role)
        client.force_login(membership.user)
        return client

    return build
