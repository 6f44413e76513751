"""A failed sign-in does the same work whether or not the address has an account, so its answer
time does not tell (the measured ratio is in the issue note; bench figures vary by machine)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import get_hasher
from django.test import Client
from django.urls import reverse

from octopushx.core.models import AuditEntry, Job
from octopushx.tenancy.roles import Role
from tests.conftest import make_member


@pytest.fixture
def hashes(monkeypatch):
    """Counts the password hasher's runs (encode for new hashes, verify for checks)."""
    hasher = type(get_hasher())
    runs: list[str] = []
    depth = [0]  # a hasher's verify may call its own encode: count the outermost call only
    for name in ("encode", "verify"):
        original = getattr(hasher, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            if depth[0] == 0:
                runs.append(_name)
            depth[0] += 1
            try:
                return _original(self, *args, **kwargs)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(hasher, name, counted)
    return runs


def fail(email):
    return Client(REMOTE_ADDR="198.51.100.3").post(reverse("accounts:login"), {"email": email, "password": "wrong-1"})


def test_an_unknown_address_runs_the_password_hasher(db, hashes):
    assert fail("nobody@example.test").status_code == 200
    assert len(hashes) == 1


def test_a_known_address_runs_it_once_too(org, hashes):
    member = make_member(org, Role.AGENT)
    hashes.clear()
    assert fail(member.user.email).status_code == 200
    assert len(hashes) == 1


def test_an_account_without_a_password_runs_it_too(db, hashes):
    from octopushx.core.context import Actor
    from octopushx.tenancy import services as tenancy_services

    tenancy_services.create_organization(Actor.system("test"), name="Fresh", admin_email="first@example.test")
    hashes.clear()
    assert fail("first@example.test").status_code == 200
    assert len(hashes) == 1


def test_a_failure_writes_the_same_rows_for_known_and_unknown_addresses(org):
    member = make_member(org, Role.AGENT)
    before = AuditEntry.objects.count()
    fail(member.user.email)
    fail("nobody@example.test")
    # Neither writes audit entries inline; both queue one job that does (or finds nobody).
    assert AuditEntry.objects.count() == before
    kinds = list(Job.objects.filter(kind="accounts.sign_in_failure").values_list("payload__email", flat=True))
    assert sorted(kinds) == sorted([member.user.email, "nobody@example.test"])


def test_the_queued_failure_forgets_the_address_once_audited(org):
    from octopushx.core import jobs

    member = make_member(org, Role.AGENT)
    fail(member.user.email)
    fail("nobody@example.test")
    jobs.drain()
    assert AuditEntry.objects.filter(tenant=org, action="auth.sign_in_failed").count() == 1
    assert [j.payload for j in Job.objects.filter(kind="accounts.sign_in_failure")] == [{}, {}]
