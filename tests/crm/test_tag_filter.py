"""The tag filter stays right through every way tags change (on PostgreSQL it reads ``tag_ids``, crm 0007)."""

from __future__ import annotations

import pytest

from octopushx.core.context import Actor
from octopushx.crm import dedupe, services
from octopushx.crm.models import Tag

from .conftest import make_contact


def _tagged(client, tag: str) -> list[str]:
    response = client.get("/api/v1/contacts", {"tag": tag})
    assert response.status_code == 200, response.content
    return sorted(c["first_name"] for c in response.json()["items"])


@pytest.mark.django_db
def test_tag_filter_follows_adding_removing_deleting_and_merging(admin_api, org):
    actor = Actor.system("test")
    ada = make_contact(org, first_name="Ada", tags=["vip", "beta"])
    grace = make_contact(org, first_name="Grace", tags=["beta"])
    assert _tagged(admin_api, "vip") == ["Ada"] and _tagged(admin_api, "BETA") == ["Ada", "Grace"]
    services.update_contact(org, actor, ada, {"tags": ["beta"]})
    assert _tagged(admin_api, "vip") == [] and _tagged(admin_api, "beta") == ["Ada", "Grace"]
    grace.tags.add(Tag.objects.get(tenant=org, name="vip"))
    assert _tagged(admin_api, "vip") == ["Grace"]
    dedupe.merge(org, actor, ada, grace)
    assert _tagged(admin_api, "vip") == ["Ada"]
    Tag.objects.get(tenant=org, name="vip").delete()
    assert _tagged(admin_api, "vip") == [] and _tagged(admin_api, "beta") == ["Ada"]


@pytest.mark.django_db
def test_custom_field_filter_matches_exact_values(admin_api, org):
    from octopushx.crm.models import CustomField, FieldType, ObjectType

    CustomField.objects.create(
        tenant=org,
        object_type=ObjectType.CONTACT,
        key="segment",
        label="Segment",
        field_type=FieldType.SELECT,
        options=["gold", "trial"],
    )
    CustomField.objects.create(
        tenant=org, object_type=ObjectType.CONTACT, key="vip", label="VIP", field_type=FieldType.BOOLEAN
    )
    make_contact(org, first_name="Ada", custom_fields={"segment": "gold", "vip": True})
    make_contact(org, first_name="Grace", custom_fields={"segment": "trial", "vip": False})
    names = [c["first_name"] for c in admin_api.get("/api/v1/contacts", {"cf.segment": "gold"}).json()["items"]]
    assert names == ["Ada"]
    names = [c["first_name"] for c in admin_api.get("/api/v1/contacts", {"cf.vip": "no"}).json()["items"]]
    assert names == ["Grace"]
    response = admin_api.get("/api/v1/contacts", {"cf.segment": "platinum"})
    assert response.status_code == 422 and "cf.segment" in response.json()["errors"]
