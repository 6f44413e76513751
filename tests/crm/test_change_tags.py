"""crm.services.change_tags: the tags-only change workflows use (audit entry and event like update_contact)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.crm import services
from octopushx.crm.models import Tag
from tests.crm.conftest import make_contact

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def tags_of(contact) -> list[str]:
    return sorted(contact.tags.values_list("name", flat=True))


def test_adds_reuses_a_tag_in_another_case_and_records_the_change(org):
    contact = make_contact(org, tags=["VIP"])
    Tag.objects.create(tenant=org, name="Renewal")
    tags, changed = services.change_tags(org, ACTOR, contact.pk, add=["vip", "renewal", "new"])
    assert changed and tags == ["Renewal", "VIP", "new"]
    assert tags_of(contact) == ["Renewal", "VIP", "new"]
    assert Tag.objects.filter(tenant=org).count() == 3  # "vip" and "renewal" were the existing tags
    entry = AuditEntry.objects.filter(tenant=org, action="contact.updated").get()
    assert entry.personal.changes == {"tags": [["VIP"], ["Renewal", "VIP", "new"]]}


def test_removes_case_insensitively_and_a_no_op_writes_nothing(org):
    contact = make_contact(org, tags=["VIP", "Lead"])
    tags, changed = services.change_tags(org, ACTOR, contact.pk, remove=["vip", "unknown"])
    assert changed and tags == ["Lead"] and tags_of(contact) == ["Lead"]
    before = AuditEntry.objects.filter(tenant=org).count()
    assert services.change_tags(org, ACTOR, contact.pk, add=["lead"], remove=["vip"]) == (["Lead"], False)
    assert AuditEntry.objects.filter(tenant=org).count() == before


def test_a_bad_tag_changes_nothing(org):
    contact = make_contact(org, tags=["VIP"])
    with pytest.raises(ValidationError):
        services.change_tags(org, ACTOR, contact.pk, add=["x" * 61])
    assert tags_of(contact) == ["VIP"]


def test_another_organisations_contact_is_not_found(org, other_org):
    contact = make_contact(other_org)
    with pytest.raises(Exception, match="does not exist"):
        services.change_tags(org, ACTOR, contact.pk, add=["x"])
    assert tags_of(contact) == []
