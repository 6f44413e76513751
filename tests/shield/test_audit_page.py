"""The audit page and its CSV export: owners, admins and auditors; filters; the export is audited."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from octopushx.core import audit
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role


def write(org, action, actor="alice@example.test", object_id="1", **changes):
    return audit.record(
        org,
        Actor(label_override=actor, ip="10.1.2.3"),
        action,
        object_type="thing",
        object_id=object_id,
        changes=changes,
    )


def row(entry) -> str:
    """The marker of an entry's row on the page (ids are not shown to people)."""
    return f'data-seq="{entry.seq}"'


def csv_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.AUDITOR])
def test_audit_page_and_export_for_trail_readers(org, web_as, role):
    write(org, "thing.created")
    client = web_as(role)
    assert client.get(reverse("shield:audit")).status_code == 200
    assert client.get(reverse("shield:audit_csv")).status_code == 200


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT])
def test_audit_page_and_export_refused_to_others(org, web_as, role):
    client = web_as(role)
    assert client.get(reverse("shield:audit")).status_code == 403
    assert client.get(reverse("shield:audit_csv")).status_code == 403
    assert not AuditEntry.objects.filter(tenant=org, action="audit.exported").exists()


def test_page_lists_entries_newest_first(org, web_as):
    first = write(org, "thing.created", object_id="first")
    second = write(org, "thing.updated", object_id="second")
    page = web_as(Role.AUDITOR).get(reverse("shield:audit")).content.decode()
    assert page.index(row(second)) < page.index(row(first))


def test_page_filters_by_action_prefix_actor_and_text(org, web_as):
    entries = {
        "obj-a": write(org, "thing.created", actor="alice@example.test", object_id="obj-a"),
        "obj-b": write(org, "widget.created", actor="bob@example.test", object_id="obj-b"),
    }
    client = web_as(Role.AUDITOR)

    def shown(**query) -> set[str]:
        page = client.get(reverse("shield:audit"), query).content.decode()
        return {o for o, entry in entries.items() if row(entry) in page}

    assert shown() == {"obj-a", "obj-b"}
    assert shown(action="thing.") == {"obj-a"}
    assert shown(actor="bob") == {"obj-b"}
    assert shown(q="obj-a") == {"obj-a"}


def test_page_filters_by_date(org, web_as):
    old = write(org, "thing.created", object_id="obj-old")
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))
    new = write(org, "thing.created", object_id="obj-new")
    client = web_as(Role.AUDITOR)
    today = timezone.now().date()
    recent = client.get(reverse("shield:audit"), {"since": (today - timedelta(days=1)).isoformat()}).content.decode()
    assert row(new) in recent and row(old) not in recent
    older = client.get(reverse("shield:audit"), {"until": (today - timedelta(days=5)).isoformat()}).content.decode()
    assert row(old) in older and row(new) not in older


def test_page_offers_action_filters_for_actions_in_the_trail(org, web_as):
    write(org, "widget.created")
    page = web_as(Role.AUDITOR).get(reverse("shield:audit")).content.decode()
    assert 'value="widget."' in page


def test_bad_filter_values_are_ignored_with_a_warning(org, web_as):
    entry = write(org, "thing.created", object_id="obj-a")
    response = web_as(Role.AUDITOR).get(reverse("shield:audit"), {"since": "last tuesday"})
    assert response.status_code == 200
    assert "Some filters were ignored" in response.content.decode() and row(entry) in response.content.decode()


def test_page_is_paginated(org, web_as):
    for i in range(55):
        write(org, "thing.created", object_id=f"n{i}")
    client = web_as(Role.AUDITOR)
    first = client.get(reverse("shield:audit")).content.decode()
    assert "Page 1 of 2" in first
    second = client.get(reverse("shield:audit"), {"page": 2}).content.decode()
    assert "Page 2 of 2" in second


def test_csv_has_every_column_and_the_filtered_rows(org, web_as):
    write(org, "thing.created", object_id="obj-a", name=[None, "A"], password=["x", "y"])
    write(org, "widget.created", object_id="obj-b")
    client = web_as(Role.ADMIN)
    response = client.get(reverse("shield:audit_csv"), {"action": "thing."})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [r["object_id"] for r in rows] == ["obj-a"]
    row = rows[0]
    assert set(row) == {
        "seq",
        "time",
        "actor",
        "action",
        "object_type",
        "object_id",
        "changes",
        "ip",
        "user_agent",
        "hash",
    }
    assert row["actor"] == "alice@example.test" and row["ip"] == "10.1.2.3"
    assert '"name":[null,"A"]' in row["changes"] and "x" not in row["changes"].replace(audit.MASK, "")
    assert row["hash"] == AuditEntry.objects.get(tenant=org, object_id="obj-a").hash


def test_csv_export_is_itself_audited(org, web_as):
    client = web_as(Role.OWNER)
    before = AuditEntry.objects.filter(tenant=org, action="audit.exported").count()
    b"".join(client.get(reverse("shield:audit_csv")).streaming_content)
    assert AuditEntry.objects.filter(tenant=org, action="audit.exported").count() == before + 1


def test_csv_holds_only_this_tenants_entries(org, other_org, web_as):
    write(other_org, "thing.created", object_id="theirs")
    write(org, "thing.created", object_id="ours")
    rows = csv_rows(web_as(Role.AUDITOR).get(reverse("shield:audit_csv")))
    assert "ours" in {r["object_id"] for r in rows} and "theirs" not in {r["object_id"] for r in rows}


def test_verify_page(org, web_as):
    write(org, "thing.created")
    client = web_as(Role.AUDITOR)
    response = client.get(reverse("shield:audit_verify"))
    assert response.status_code == 200 and b"link correctly" in response.content
    AuditEntry.objects.filter(tenant=org).order_by("seq").filter(seq=1).update(action="forged")
    assert b"Broken at entry 1" in client.get(reverse("shield:audit_verify")).content


def test_csv_defuses_spreadsheet_formulas(org, web_as):
    write(org, "thing.created", actor='=HYPERLINK("http://evil.example")', object_id="+1-555")
    rows = csv_rows(web_as(Role.AUDITOR).get(reverse("shield:audit_csv"), {"action": "thing."}))
    assert rows[0]["actor"] == '\'=HYPERLINK("http://evil.example")'
    assert rows[0]["object_id"] == "'+1-555"


def test_until_includes_the_whole_day(org, web_as):
    entry = write(org, "thing.created", object_id="obj-late")
    day = timezone.now().date()
    AuditEntry.objects.filter(pk=entry.pk).update(at=timezone.make_aware(datetime.combine(day, time(23, 59, 30))))
    page = web_as(Role.AUDITOR).get(reverse("shield:audit"), {"until": day.isoformat()}).content.decode()
    assert row(entry) in page


@pytest.mark.django_db
def test_the_shield_address_opens_the_audit_trail(web_as):
    response = web_as("auditor").get("/shield/")
    assert response.status_code == 302 and response["Location"] == reverse("shield:audit")
