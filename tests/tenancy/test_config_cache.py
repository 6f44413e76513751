"""An organisation's configuration reads are kept per process while its ``config_version`` holds, and never
outlive a change: not in this process, not in another, not after a rollback."""

from __future__ import annotations

import pytest
from django.db import transaction

from octopushx.crm.models import CrmSettings, Visibility
from octopushx.crm.visibility import crm_settings
from octopushx.tenancy import config
from octopushx.tenancy.models import Organization
from tests.conftest import make_org


class Loads:
    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1
        return ["rows", self.count]


@pytest.mark.django_db(transaction=True)
def test_a_read_is_kept_until_the_configuration_changes():
    org = make_org("Cache Co")
    load = Loads()
    assert config.cached(org, "k", load) == config.cached(org, "k", load) == ["rows", 1]
    config.changed(org.pk)  # this process: entries dropped at once
    assert config.cached(org, "k", load) == ["rows", 2]
    fresh = Organization.objects.get(pk=org.pk)
    assert fresh.config_version == org.config_version + 1


@pytest.mark.django_db(transaction=True)
def test_another_process_change_is_seen_by_the_next_request():
    org = make_org("Cache Co")
    load = Loads()
    config.cached(org, "k", load)
    # Another process raised the version: this process's entries are still there, but the next request
    # reads its organisation afresh and so asks under the new version.
    Organization.objects.filter(pk=org.pk).update(config_version=org.config_version + 1)
    assert config.cached(org, "k", load) == ["rows", 1]  # an organisation object read before the change
    assert config.cached(Organization.objects.get(pk=org.pk), "k", load) == ["rows", 2]


@pytest.mark.django_db(transaction=True)
def test_nothing_read_inside_a_changing_transaction_is_kept_after_a_rollback():
    org = make_org("Cache Co")
    CrmSettings.objects.get_or_create(tenant=org)
    org = Organization.objects.get(pk=org.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        CrmSettings.objects.filter(tenant=org).update(agent_visibility=Visibility.ALL)
        config.changed(org.pk)
        assert crm_settings(org).agent_visibility == Visibility.ALL  # read from the database, not kept
        raise RuntimeError("rolled back")
    assert crm_settings(org).agent_visibility != Visibility.ALL
    assert crm_settings(Organization.objects.get(pk=org.pk)).agent_visibility != Visibility.ALL


@pytest.mark.django_db
def test_a_settings_change_is_read_at_once_and_the_copy_can_be_changed_freely(org):
    first = crm_settings(org)
    first.agent_visibility = Visibility.ALL  # changed but not saved: the cached row is untouched
    assert crm_settings(org).agent_visibility != Visibility.ALL
    first.save()
    assert crm_settings(org).agent_visibility == Visibility.ALL


@pytest.mark.django_db
def test_saving_an_organisation_read_earlier_keeps_the_newer_version(org):
    stale = Organization.objects.get(pk=org.pk)
    config.changed(org.pk)
    stale.name = "Renamed"
    stale.save()
    row = Organization.objects.get(pk=org.pk)
    assert (row.name, row.config_version) == ("Renamed", stale.config_version + 1)
