"""What a scheduled send emails: a fresh copy per recipient, rendered for their role; removed
members dropped and the owner told; a schedule whose target is gone turned off."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core import mail
from pypdf import PdfReader

from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.crm.models import Deal
from octopushx.reports import schedules
from octopushx.reports.models import Report
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Role
from tests.conftest import make_member
from tests.crm.conftest import make_deal

pytestmark = pytest.mark.django_db

CREATED = datetime(2026, 12, 6, 12, tzinfo=UTC)
DUE = datetime(2026, 12, 7, 8, 1, tzinfo=UTC)


@pytest.fixture
def team(org):
    admin = make_member(org, Role.ADMIN, email="boss@example.test")
    agent = make_member(org, Role.AGENT, email="rep@example.test")
    for _ in range(2):
        make_deal(org, owner=agent, value="100")
    for _ in range(5):
        make_deal(org, owner=admin, value="100")
    return admin, agent


def schedule(owner, *recipients, **data):
    payload = {
        "dashboard": "sales",
        "period": "this_year",
        "frequency": "daily",
        "time": "08:00",
        "recipient_ids": [str(m.user_id) for m in recipients],
    }
    payload.update(data)
    return schedules.create_schedule(owner.tenant, Actor.system("test"), owner, payload, now=CREATED)


def send_due(now=DUE) -> None:
    schedules.fire_due(now=now)
    jobs.drain()


def csv_text(message) -> str:
    body = message.attachments[0][1]
    return (body.decode("utf-8") if isinstance(body, bytes) else body).lstrip("\ufeff")


def attachment_text(message) -> str:
    [(_name, body, _type)] = message.attachments
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages).replace("\n\n", "\n")


def test_each_recipient_gets_a_pdf_for_their_role(team, org):
    admin, agent = team
    schedule(admin, admin, agent)
    send_due()
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"boss@example.test", "rep@example.test"}
    assert "Deals created\n7" in attachment_text(by_address["boss@example.test"])
    assert "Deals created\n2" in attachment_text(by_address["rep@example.test"])  # the agent's own deals only
    rep = by_address["rep@example.test"]
    assert rep.attachments[0][0].endswith(".pdf") and rep.attachments[0][2] == "application/pdf"
    assert "Period: This year, 1 Jan 2026" in rep.body and "Generated: " in rep.body
    assert "as Agent (only your own records)" in rep.body
    assert AuditEntry.objects.filter(tenant=org, action="report_schedule.sent").count() == 2


def test_csv_of_a_saved_report_states_its_header(team, org):
    admin, _ = team
    report = Report.objects.create(
        tenant=org, name="Deal count", owner=admin.user, spec={"dataset": "deals", "measures": [{"agg": "count"}]}
    )
    schedule(admin, admin, dashboard=None, report_id=str(report.pk), format="csv")
    send_due()
    [message] = mail.outbox
    name, _body, content_type = message.attachments[0]
    text = csv_text(message)
    assert name.endswith(".csv") and content_type.startswith("text/csv")
    for label in ("Report,Deal count", "Filters", "Period", "Time zone", "Generated at"):
        assert label in text


def test_dashboard_csv_lists_each_widget(team):
    admin, _ = team
    schedule(admin, admin, format="csv")
    send_due()
    text = csv_text(mail.outbox[0])
    assert "Dashboard,Sales" in text and "Deals created" in text and "Open pipeline by stage" in text


def test_erased_data_never_appears_in_a_later_send(team, org):
    admin, _ = team
    make_deal(org, owner=admin, name="Soon erased", value="5")
    report = Report.objects.create(
        tenant=org,
        name="Deals",
        owner=admin.user,
        spec={"dataset": "deals", "measures": [{"agg": "count"}], "group_by": [{"field": "status"}]},
    )
    schedule(admin, admin, dashboard=None, report_id=str(report.pk), format="csv")
    send_due()
    assert "Open,8" in csv_text(mail.outbox[0])
    Deal.objects.filter(tenant=org, name="Soon erased").delete()
    send_due(datetime(2026, 12, 8, 8, 1, tzinfo=UTC))
    assert "Open,7" in csv_text(mail.outbox[1])


def test_a_removed_member_is_dropped_and_the_owner_told(team, org):
    admin, agent = team
    created = schedule(admin, admin, agent)
    Membership.objects.filter(pk=agent.pk).delete()
    send_due()
    assert list(created.recipients.values_list("user__email", flat=True)) == ["boss@example.test"]
    subjects = {m.subject: m.to for m in mail.outbox}
    assert any(s.startswith("Scheduled report changed") and to == ["boss@example.test"] for s, to in subjects.items())
    assert [m.to for m in mail.outbox if m.attachments] == [["boss@example.test"]]
    assert AuditEntry.objects.filter(tenant=org, action="report_schedule.recipient_dropped").exists()


def test_a_schedule_with_nobody_left_is_turned_off(team, org):
    admin, agent = team
    created = schedule(admin, agent)
    Membership.objects.filter(pk=agent.pk).delete()
    send_due()
    created.refresh_from_db()
    assert created.enabled is False and "No recipients left" in created.last_error
    [notice] = mail.outbox
    assert notice.to == ["boss@example.test"] and "turned off" in notice.body
    assert AuditEntry.objects.filter(tenant=org, action="report_schedule.disabled").exists()


def test_a_deleted_report_turns_the_schedule_off(team, org):
    admin, _ = team
    report = Report.objects.create(tenant=org, name="Gone soon", owner=admin.user, spec={"dataset": "deals"})
    created = schedule(admin, admin, dashboard=None, report_id=str(report.pk))
    report.delete()
    send_due()
    created.refresh_from_db()
    assert created.enabled is False
    assert [m.subject for m in mail.outbox] == ["Scheduled report turned off: Removed report"]


def test_a_recipient_whose_role_no_longer_opens_the_dashboard_is_dropped(team, org):
    admin, _ = team
    auditor = make_member(org, Role.AUDITOR, email="aud@example.test")
    created = schedule(admin, admin, auditor, dashboard="compliance")
    Membership.objects.filter(pk=auditor.pk).update(role=Role.AGENT)
    send_due()
    assert list(created.recipients.values_list("user__email", flat=True)) == ["boss@example.test"]
