"""Cursor pages: every row exactly once, in order, through ties on the sort fields, both ways."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from octopushx.api.pagination import _encode, paginate
from octopushx.crm.models import Contact
from tests.crm.conftest import make_contact

NAMES = [("Ada", "Byron"), ("Ada", "Byron"), ("Bea", "Byron"), ("Ada", "Cole"), ("Cy", "Abel"), ("Ada", "Byron")]


def walk(qs, **order) -> list:
    seen, cursor = [], None
    while True:
        rows, cursor = paginate(qs, cursor=cursor, limit=2, **order)
        seen += [row.pk for row in rows]
        if cursor is None:
            return seen


@pytest.fixture
def contacts(org):
    made = [make_contact(org, first_name=first, last_name=last) for first, last in NAMES]
    Contact.objects.filter(pk__in=[c.pk for c in made[:4]]).update(created_at=timezone.now())  # a tie
    return Contact.objects.filter(tenant=org)


def test_pages_by_surname_then_first_name_then_id(contacts):
    expected = list(contacts.order_by("last_name", "first_name", "pk").values_list("pk", flat=True))
    assert walk(contacts, field="last_name", descending=False, then=("first_name",)) == expected


def test_pages_newest_first_through_rows_made_at_the_same_moment(contacts):
    expected = list(contacts.order_by("-created_at", "-pk").values_list("pk", flat=True))
    assert walk(contacts) == expected


def test_a_cursor_with_a_value_of_the_wrong_kind_is_a_validation_error(contacts):
    with pytest.raises(ValidationError):
        paginate(contacts, cursor=_encode(["not a date", "not an id"]), limit=2)
