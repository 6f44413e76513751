"""Activity monitoring: the security page, its chart and filters, alerts and acknowledgement."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from octopushx.accounts.models import UserSession
from octopushx.core import audit, jobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.shield.monitoring import detectors, services
from octopushx.shield.monitoring.models import SecurityAlert
from octopushx.tenancy import services as tenancy_services
from octopushx.tenancy.roles import Role
from tests.conftest import PASSWORD, make_member


def alerts(org, kind):
    return SecurityAlert.objects.for_tenant(org).filter(kind=kind)


# --- the page -------------------------------------------------------------------------------


def test_auditor_sees_sign_ins_and_the_chart(web_as, org):
    agent = make_member(org, Role.AGENT)
    Client(REMOTE_ADDR="192.0.2.10").post("/accounts/login/", {"email": agent.user.email, "password": PASSWORD})
    response = web_as(Role.AUDITOR).get("/shield/security/")
    assert response.status_code == 200
    assert b'<span class="audit-action" title="auth.sign_in">Signed in</span>' in response.content
    assert b"192.0.2.10" in response.content
    assert b'data-chart="events-per-day"' in response.content
    chart = json.loads(
        response.content.split(b'<script id="events-per-day" type="application/json">')[1].split(b"</script>")[0]
    )
    assert chart["type"] == "bar" and sum(chart["values"]) >= 1 and len(chart["labels"]) == len(chart["values"])


def test_category_filter_narrows_the_entries(web_as, org):
    agent = make_member(org, Role.AGENT)
    Client().post("/accounts/login/", {"email": agent.user.email, "password": "wrong-password"})
    jobs.drain()  # failed sign-ins are audited by a job
    client = web_as(Role.ADMIN)
    content = client.get("/shield/security/?category=failures").content
    assert b"auth.sign_in_failed" in content and b"member.added" not in content
    content = client.get("/shield/security/?category=roles").content
    assert b"member.added" in content and b"auth.sign_in_failed" not in content


def test_actor_and_date_filters(web_as, org):
    client = web_as(Role.OWNER)
    today = timezone.now().date()
    content = client.get(f"/shield/security/?actor=nobody-matches&since={today}").content
    assert b"No activity matches." in content
    old = (today - timedelta(days=400)).isoformat()
    assert client.get(f"/shield/security/?until={old}").status_code == 200


def test_bad_filters_are_explained_not_500(web_as):
    response = web_as(Role.AUDITOR).get("/shield/security/?category=nonsense&since=yesterday")
    assert response.status_code == 200
    assert b"Choose one of" in response.content and b"Use a date like" in response.content


def test_agents_and_managers_cannot_see_it(web_as):
    assert web_as(Role.AGENT).get("/shield/security/").status_code == 403
    assert web_as(Role.MANAGER).get("/shield/security/").status_code == 403


def test_daily_counts_cover_every_day_of_the_range(org):
    filters, _ = services.ActivityFilter.from_query({"since": "2026-01-01", "until": "2026-01-10"})
    series = services.daily_counts(org, filters)
    assert len(series) == 10 and series[0][0].isoformat() == "2026-01-01"


def test_chart_data_has_one_bar_per_day(org):
    today = timezone.now().date()
    data = services.chart_data([(today, 5), (today + timedelta(days=1), 0)])
    assert data == {
        "type": "bar",
        "name": "Events",
        "labels": [today.isoformat(), (today + timedelta(days=1)).isoformat()],
        "values": [5, 0],
    }


# --- detectors ------------------------------------------------------------------------------


def test_failed_sign_in_burst_raises_an_alert_and_emails_auditors(org, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 0  # the per-account pause has its own notice and alert (tests/accounts)
    make_member(org, Role.AUDITOR)
    agent = make_member(org, Role.AGENT)
    for i in range(detectors.FAILED_THRESHOLD):
        Client(REMOTE_ADDR=f"203.0.113.{i + 1}").post(
            "/accounts/login/", {"email": agent.user.email, "password": f"wrong-{i}"}
        )
    jobs.drain()  # the failures are audited by a job; the alert's announcement is another
    raised = alerts(org, "failed_burst")
    assert raised.count() == 1 and raised.get().subject_user == agent.user
    assert AuditEntry.objects.filter(tenant=org, action="security.alert_raised").count() == 1
    assert len(mail.outbox) == 1 and "Burst of failed sign-ins" in mail.outbox[0].subject
    assert audit.verify(org).ok


def test_alert_email_goes_to_owners_admins_and_auditors(org):
    auditor = make_member(org, Role.AUDITOR)
    agent = make_member(org, Role.AGENT)
    services.raise_alert(org, kind="failed_burst", dedupe_key="k1", summary="s", details={})
    jobs.drain()
    jobs.drain()
    assert len(mail.outbox) == 1
    assert auditor.user.email in mail.outbox[0].to and agent.user.email not in mail.outbox[0].to


def test_same_alert_is_not_raised_twice(org):
    services.raise_alert(org, kind="failed_burst", dedupe_key="same", summary="s", details={})
    assert services.raise_alert(org, kind="failed_burst", dedupe_key="same", summary="s", details={}) is None
    assert SecurityAlert.objects.for_tenant(org).count() == 1


def test_sign_in_from_a_distant_network_while_active_elsewhere(org):
    agent = make_member(org, Role.AGENT)
    UserSession.objects.create(user=agent.user, session_key="other-device", ip="198.51.100.20")
    Client(REMOTE_ADDR="203.0.113.7").post("/accounts/login/", {"email": agent.user.email, "password": PASSWORD})
    alert = alerts(org, "concurrent_ips").get()
    assert "198.51.100.20" in alert.summary and alert.details["ip"] == "203.0.113.7"


def test_same_network_is_not_account_sharing(org):
    agent = make_member(org, Role.AGENT)
    UserSession.objects.create(user=agent.user, session_key="other-device", ip="203.0.7.20")
    Client(REMOTE_ADDR="203.0.113.7").post("/accounts/login/", {"email": agent.user.email, "password": PASSWORD})
    assert not alerts(org, "concurrent_ips").exists()


def test_stale_session_elsewhere_is_not_concurrent(org):
    agent = make_member(org, Role.AGENT)
    UserSession.objects.create(
        user=agent.user, session_key="old", ip="198.51.100.20", last_seen_at=timezone.now() - timedelta(hours=2)
    )
    Client(REMOTE_ADDR="203.0.113.7").post("/accounts/login/", {"email": agent.user.email, "password": PASSWORD})
    assert not alerts(org, "concurrent_ips").exists()


def test_role_escalation_raises_an_alert(org):
    owner = make_member(org, Role.OWNER)
    agent = make_member(org, Role.AGENT)
    tenancy_services.change_role(org, Actor(user=owner.user, role=Role.OWNER), agent, Role.ADMIN)
    alert = alerts(org, "role_escalation").get()
    assert agent.user.email in alert.summary and "agent to admin" in alert.summary


def test_lowering_a_role_is_not_an_escalation(org):
    owner = make_member(org, Role.OWNER)
    admin = make_member(org, Role.ADMIN)
    tenancy_services.change_role(org, Actor(user=owner.user, role=Role.OWNER), admin, Role.AGENT)
    assert not alerts(org, "role_escalation").exists()


def export(org, user, rows):
    audit.record(org, Actor(user=user), "contact.exported", object_type="export", changes={"rows": [None, rows]})


def test_export_far_above_the_users_usual_volume(org):
    manager = make_member(org, Role.MANAGER)
    for _ in range(3):
        export(org, manager.user, 50)
    export(org, manager.user, 400)
    alert = alerts(org, "large_export").get()
    assert alert.details == {"rows": 400, "usual_rows": 50, "action": "contact.exported"}


def test_usual_exports_raise_nothing(org):
    manager = make_member(org, Role.MANAGER)
    for rows in (120, 150, 200, 180):
        export(org, manager.user, rows)
    assert not alerts(org, "large_export").exists()


def test_first_export_alerts_only_when_huge(org):
    manager = make_member(org, Role.MANAGER)
    export(org, manager.user, 5000)
    assert not alerts(org, "large_export").exists()
    export(org, make_member(org, Role.ADMIN).user, detectors.EXPORT_FIRST_TIME_ROWS)
    assert alerts(org, "large_export").count() == 1


def test_a_failing_detector_never_breaks_the_audited_action(org, monkeypatch):
    def boom(entry, personal):
        raise RuntimeError("detector bug")

    monkeypatch.setattr(detectors, "detectors_for", lambda action: [boom])
    entry = audit.record(org, Actor.system("t"), "auth.sign_in", object_type="user", object_id="x")
    assert AuditEntry.objects.filter(pk=entry.pk).exists() and audit.verify(org).ok


def test_networks():
    assert detectors.network("203.0.113.7") == "203.0.0.0/16"
    assert detectors.network("2001:db8:1::1") == "2001:db8:1::/48"
    assert detectors.network("garbage") is None


# --- acknowledgement ------------------------------------------------------------------------


@pytest.fixture
def alert(org):
    return services.raise_alert(org, kind="failed_burst", dedupe_key="ack", summary="burst", details={})


def test_acknowledge_with_a_note_on_the_page(web_as, org, alert):
    client = web_as(Role.AUDITOR)
    assert b"1 open" in client.get("/shield/security/").content
    response = client.post(f"/shield/security/alerts/{alert.pk}/acknowledge/", {"note": "User mistyped; reset"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_at and alert.acknowledgement_note == "User mistyped; reset"
    assert AuditEntry.objects.filter(tenant=org, action="security.alert_acknowledged").exists()
    assert b"none open" in client.get("/shield/security/").content


def test_acknowledging_without_a_note_changes_nothing(web_as, alert):
    web_as(Role.ADMIN).post(f"/shield/security/alerts/{alert.pk}/acknowledge/", {"note": "  "})
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_api_lists_and_acknowledges(api_as, alert):
    api = api_as(Role.AUDITOR)
    items = api.get("/api/v1/security/alerts?open_only=true").json()["items"]
    assert [i["id"] for i in items] == [str(alert.pk)]
    response = api.post(f"/api/v1/security/alerts/{alert.pk}/acknowledge", {"note": "checked"})
    assert response.status_code == 200 and response.json()["acknowledgement_note"] == "checked"
    assert api.get("/api/v1/security/alerts?open_only=true").json()["items"] == []


def test_api_acknowledge_twice_or_without_note_is_422(api_as, alert):
    api = api_as(Role.ADMIN)
    response = api.post(f"/api/v1/security/alerts/{alert.pk}/acknowledge", {"note": ""})
    assert response.status_code == 422 and "note" in response.json()["errors"]
    api.post(f"/api/v1/security/alerts/{alert.pk}/acknowledge", {"note": "ok"})
    assert api.post(f"/api/v1/security/alerts/{alert.pk}/acknowledge", {"note": "again"}).status_code == 422


def test_api_alerts_need_audit_permission(api_as, alert):
    api = api_as(Role.AGENT)
    assert api.get("/api/v1/security/alerts").status_code == 403
    assert api.post(f"/api/v1/security/alerts/{alert.pk}/acknowledge", {"note": "x"}).status_code == 403


def test_another_tenants_alert_is_404(api_as, other_org):
    theirs = services.raise_alert(other_org, kind="failed_burst", dedupe_key="b", summary="s", details={})
    response = api_as(Role.OWNER).post(f"/api/v1/security/alerts/{theirs.pk}/acknowledge", {"note": "x"})
    assert response.status_code == 404


def test_sign_in_from_a_new_network_is_marked(web_as, org):
    agent = make_member(org, Role.AGENT)
    for ip in ("192.0.2.10", "192.0.2.11", "198.51.100.3"):
        Client(REMOTE_ADDR=ip).post("/accounts/login/", {"email": agent.user.email, "password": PASSWORD})
    entries = list(services.activity(org, services.ActivityFilter(category="sign_ins")))
    services.mark_first_seen(entries)
    by_ip = {e.personal.ip: e.first_seen for e in entries if e.action == "auth.sign_in"}
    assert by_ip == {"192.0.2.10": "network", "192.0.2.11": "", "198.51.100.3": "network"}
    assert b'data-testid="new-network"' in web_as(Role.AUDITOR).get("/shield/security/").content


def test_marking_a_page_of_sign_ins_reads_each_users_history_once(org, django_assert_num_queries):
    agent, manager = make_member(org, Role.AGENT), make_member(org, Role.MANAGER)
    for index in range(6):
        for member in (agent, manager):
            Client(REMOTE_ADDR=f"192.0.{index}.10").post(
                "/accounts/login/", {"email": member.user.email, "password": PASSWORD}
            )
    entries = list(services.activity(org, services.ActivityFilter(category="sign_ins")))
    with django_assert_num_queries(2):
        services.mark_first_seen(entries)
    # one network for all (192.0.x.x): each user's first sign-in only is new
    firsts = [e for e in entries if e.action == "auth.sign_in" and e.first_seen == "network"]
    assert sorted(e.actor_user_id for e in firsts) == sorted([agent.user_id, manager.user_id])


def test_sign_in_from_a_new_country_is_marked_with_the_country(web_as, org):
    agent = make_member(org, Role.AGENT)
    for ip in ("81.2.69.160", "81.2.70.1", "2.125.160.216", "8.8.8.8"):
        Client(REMOTE_ADDR=ip).post("/accounts/login/", {"email": agent.user.email, "password": PASSWORD})
    entries = list(services.activity(org, services.ActivityFilter(category="sign_ins")))
    services.mark_first_seen(entries)
    seen = {e.personal.ip: (e.country, e.first_seen) for e in entries if e.action == "auth.sign_in"}
    assert seen == {
        "81.2.69.160": ("GB", "network"),  # the first sign-in ever
        "81.2.70.1": ("GB", ""),  # same network
        "2.125.160.216": ("GB", "network"),  # another British network
        "8.8.8.8": ("US", "country"),
    }
    page = web_as(Role.AUDITOR).get("/shield/security/").content.decode()
    assert 'data-testid="new-country"' in page and '<td data-label="Country">US</td>' in page


def test_private_and_unknown_addresses_have_no_country():
    from octopushx.shield.monitoring.geo import country_of

    assert [country_of(ip) for ip in ("192.168.1.1", "127.0.0.1", "::1", "203.0.113.5", "not-an-ip", None)] == [""] * 6
    assert country_of("185.60.216.35") == "IE"


FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
)


def test_sign_in_from_a_new_device_is_marked(web_as, org):
    agent = make_member(org, Role.AGENT)
    for agent_string in (FIREFOX_WINDOWS, FIREFOX_WINDOWS.replace("133.0", "134.0"), CHROME_ANDROID):
        Client(REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT=agent_string).post(
            "/accounts/login/", {"email": agent.user.email, "password": PASSWORD}
        )
    entries = sorted(services.activity(org, services.ActivityFilter(category="sign_ins")), key=lambda e: e.seq)
    services.mark_first_seen(entries)
    seen = [(e.device, e.first_seen) for e in entries if e.action == "auth.sign_in"]
    # a browser update is not a new device; the first sign-in ever is new by its network
    assert seen == [("Firefox on Windows", "network"), ("Firefox on Windows", ""), ("Chrome on Android", "device")]
    page = web_as(Role.AUDITOR).get("/shield/security/").content.decode()
    assert 'data-testid="new-device"' in page and "Chrome on Android" in page


def test_device_names_are_coarse():
    from octopushx.accounts.devices import describe

    assert describe(FIREFOX_WINDOWS) == "Firefox on Windows"
    assert describe(CHROME_ANDROID) == "Chrome on Android"
    edge = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0"
    assert describe(edge) == "Edge on macOS"
    assert describe("") == "unknown device" and describe("curl/8.5") == "unknown device"
