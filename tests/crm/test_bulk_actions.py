"""Bulk actions on a list: all the selected rows change, or none does."""

from django.core.exceptions import ValidationError
from django.urls import reverse

from octopushx.crm import services
from octopushx.crm.models import Contact
from octopushx.crm.views import lists

from .conftest import make_contact


def test_a_bulk_change_that_fails_on_one_row_changes_none(web_as, org, monkeypatch):
    client = web_as("admin")
    first, second = make_contact(org, first_name="First"), make_contact(org, first_name="Second")
    calls = []

    def update_then_fail(tenant, actor, contact, data):
        calls.append(contact.pk)
        if len(calls) == 2:
            raise ValidationError({"tags": ["This contact cannot take the tag"]})
        return services.update_contact(tenant, actor, contact, data)

    monkeypatch.setitem(lists.BULK, "contact", (Contact, update_then_fail, services.delete_contact))
    response = client.post(
        reverse("crm:contacts_bulk"), {"action": "add_tag", "tag": "vip", "ids": [first.pk, second.pk]}, follow=True
    )
    assert len(calls) == 2
    assert "cannot take the tag" in response.content.decode()
    assert not first.tags.exists() and not second.tags.exists()
