"""API: /api/v1/audit (filters, cursor pages) and /api/v1/audit/verify, for trail readers only."""

from __future__ import annotations

import pytest

from octopushx.core import audit
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, AuditPersonal
from octopushx.tenancy.roles import Role


def write(org, action="thing.updated", object_id="1", **changes):
    return audit.record(
        org,
        Actor(label_override="tester", ip="10.0.0.9"),
        action,
        object_type="thing",
        object_id=object_id,
        changes=changes,
    )


def test_list_returns_entries_with_personal_fields(org, api_as):
    write(org, object_id="obj-1", name=["a", "b"])
    api = api_as(Role.AUDITOR)
    items = api.get("/api/v1/audit", {"object_id": "obj-1"}).json()["items"]
    assert len(items) == 1
    item = items[0]
    assert item["action"] == "thing.updated" and item["actor"] == "tester" and item["ip"] == "10.0.0.9"
    assert item["changes"] == {"name": ["a", "b"]}


def test_list_pages_with_a_cursor(org, api_as):
    for i in range(5):
        write(org, object_id=f"p{i}")
    api = api_as(Role.AUDITOR)
    seen, cursor = [], None
    while True:
        query = {"action": "thing.", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/audit", query).json()
        seen += [i["object_id"] for i in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == [f"p{i}" for i in reversed(range(5))]


def test_list_filters(org, api_as):
    write(org, "thing.created", object_id="a")
    write(org, "widget.created", object_id="b")
    api = api_as(Role.ADMIN)
    assert {i["object_id"] for i in api.get("/api/v1/audit", {"action": "widget."}).json()["items"]} == {"b"}
    assert {i["object_id"] for i in api.get("/api/v1/audit", {"q": "a", "object_type": "thing"}).json()["items"]} >= {
        "a"
    }


@pytest.mark.parametrize(
    "query, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"since": "yesterday"}, "since"),
    ],
)
def test_list_bad_query_is_422(org, api_as, query, field):
    response = api_as(Role.AUDITOR).get("/api/v1/audit", query)
    assert response.status_code == 422
    assert field in response.json()["errors"]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT])
def test_list_and_verify_refused_to_other_roles(org, api_as, role):
    api = api_as(role)
    assert api.get("/api/v1/audit").status_code == 403
    assert api.get("/api/v1/audit/verify").status_code == 403


def test_list_never_shows_another_tenants_entries(org, other_org, api_as):
    write(other_org, object_id="theirs")
    items = api_as(Role.OWNER).get("/api/v1/audit", {"limit": 200}).json()["items"]
    assert "theirs" not in {i["object_id"] for i in items}


def test_verify_reports_an_intact_chain(org, api_as):
    write(org)
    body = api_as(Role.AUDITOR).get("/api/v1/audit/verify").json()
    assert body["ok"] is True and body["broken_seq"] is None
    assert body["checked"] == AuditEntry.objects.filter(tenant=org).count()


def test_verify_reports_the_first_edited_entry(org, api_as):
    api = api_as(Role.AUDITOR)
    entries = [write(org, object_id=str(i)) for i in range(3)]
    AuditEntry.objects.filter(pk=entries[1].pk).update(object_id="forged")
    body = api.get("/api/v1/audit/verify").json()
    assert body["ok"] is False and body["broken_seq"] == entries[1].seq and body["reason"]


def test_verify_reports_an_edited_personal_part(org, api_as):
    api = api_as(Role.AUDITOR)
    entry = write(org)
    AuditPersonal.objects.filter(entry=entry).update(ip="192.0.2.1")
    body = api.get("/api/v1/audit/verify").json()
    assert body["ok"] is False and body["broken_seq"] == entry.seq


def test_verify_reports_a_deleted_entry(org, api_as):
    api = api_as(Role.AUDITOR)
    entries = [write(org, object_id=str(i)) for i in range(3)]
    AuditEntry.objects.filter(pk=entries[1].pk).delete()
    body = api.get("/api/v1/audit/verify").json()
    assert body["ok"] is False and body["broken_seq"] == entries[1].seq


def test_verify_checks_only_the_callers_tenant(org, other_org, api_as):
    api = api_as(Role.AUDITOR)
    broken = write(other_org)
    AuditEntry.objects.filter(pk=broken.pk).update(action="forged")
    assert api.get("/api/v1/audit/verify").json()["ok"] is True
