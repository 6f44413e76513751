"""TOTP two-factor: enrolment, sign-in with a code, removal, and the owner's mandatory policy."""

from __future__ import annotations

from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from octopushx.accounts import services
from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from tests.conftest import PASSWORD, make_member


def code(device, step_offset: int = 0) -> str:
    """The device's current code; ``step_offset=1`` is the next one (each code works once)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, step_offset):06d}"


def enrol(user, tenants=()) -> TOTPDevice:
    device = services.pending_device(user)
    return services.confirm_2fa(user, code(device), Actor(user=user), list(tenants))


def test_security_page_shows_a_secret_and_qr_code(org, client):
    member = make_member(org, Role.AGENT)
    client.force_login(member.user)
    response = client.get(reverse("accounts:security"))
    assert response.status_code == 200
    assert b"<svg" in response.content and b"totp-secret" in response.content
    assert not TOTPDevice.objects.filter(user=member.user, confirmed=True).exists()


def test_enrolment_with_the_right_code_turns_2fa_on(org, client):
    member = make_member(org, Role.AGENT)
    client.force_login(member.user)
    client.get(reverse("accounts:security"))
    device = TOTPDevice.objects.get(user=member.user, confirmed=False)
    response = client.post(reverse("accounts:security"), {"code": code(device)})
    assert response.status_code == 302
    assert services.has_2fa(member.user)
    assert AuditEntry.objects.filter(tenant=org, action="2fa.enabled").exists()


def test_enrolment_with_a_wrong_code_changes_nothing(org, client):
    member = make_member(org, Role.AGENT)
    client.force_login(member.user)
    client.get(reverse("accounts:security"))
    device = TOTPDevice.objects.get(user=member.user, confirmed=False)
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("accounts:security"), {"code": wrong})
    assert response.status_code == 200 and b"not right" in response.content
    assert not services.has_2fa(member.user)


def test_sign_in_with_2fa_asks_for_a_code(org, client):
    member = make_member(org, Role.AGENT)
    device = enrol(member.user)
    response = client.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})
    assert response["Location"] == reverse("accounts:verify")
    assert "_auth_user_id" not in client.session  # not signed in before the code
    assert client.get("/").status_code == 302
    response = client.post(reverse("accounts:verify"), {"code": code(device, 1)})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert AuditEntry.objects.filter(tenant=org, action="auth.sign_in").exists()
    assert "pending_2fa_user" not in client.session  # the half-way state is gone


def test_wrong_code_does_not_sign_in_and_is_audited(org, client):
    member = make_member(org, Role.AGENT)
    device = enrol(member.user)
    client.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})
    wrong = f"{(int(code(device, 1)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("accounts:verify"), {"code": wrong})
    assert response.status_code == 200 and b"not right" in response.content
    assert "_auth_user_id" not in client.session
    jobs.drain()
    assert AuditEntry.objects.filter(tenant=org, action="auth.sign_in_failed").exists()


def test_a_code_works_only_once(org, client):
    member = make_member(org, Role.AGENT)
    device = enrol(member.user)  # used the current code
    client.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})
    response = client.post(reverse("accounts:verify"), {"code": code(device)})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_verify_without_a_password_first_goes_to_sign_in(db, client):
    response = client.get(reverse("accounts:verify"))
    assert response["Location"] == reverse("accounts:login")


def later(device) -> TOTPDevice:
    """The device as it is a minute later: earlier codes no longer count as used, no throttling."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    device.refresh_from_db()
    return device


def signed_in_with_2fa(client, member) -> TOTPDevice:
    device = enrol(member.user)
    client.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})
    client.post(reverse("accounts:verify"), {"code": code(device, 1)})
    return device


def test_turning_2fa_off_needs_a_current_code(org, client):
    member = make_member(org, Role.AGENT)
    device = signed_in_with_2fa(client, member)
    response = client.post(reverse("accounts:security"), {"action": "disable"})
    assert response.status_code == 200 and services.has_2fa(member.user)
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"
    client.post(reverse("accounts:security"), {"action": "disable", "code": wrong})
    assert services.has_2fa(member.user)
    later(device)
    response = client.post(reverse("accounts:security"), {"action": "disable", "code": code(device)})
    assert response.status_code == 302
    assert not services.has_2fa(member.user)
    assert AuditEntry.objects.filter(tenant=org, action="2fa.disabled").exists()


def test_2fa_cannot_be_turned_off_where_it_is_mandatory(org, client):
    member = make_member(org, Role.AGENT)
    device = signed_in_with_2fa(client, member)
    org.require_2fa = True
    org.save()
    later(device)
    response = client.post(reverse("accounts:security"), {"action": "disable", "code": code(device)})
    assert response.status_code == 302
    assert services.has_2fa(member.user)


def test_a_browser_signed_in_before_2fa_confirms_with_a_code_when_mandatory(org, client):
    member = make_member(org, Role.AGENT)
    client.force_login(member.user)  # signed in without a second factor
    device = enrol(member.user)  # set up in another browser
    org.require_2fa = True
    org.save()
    assert client.get(reverse("tenancy:members"))["Location"] == reverse("accounts:two_factor") + "?required=1"
    page = client.get(reverse("accounts:two_factor") + "?required=1")
    assert b"confirm this browser" in page.content
    response = client.post(reverse("accounts:security"), {"action": "verify", "code": code(device, 1)})
    assert response.status_code == 302
    assert client.get(reverse("tenancy:members")).status_code == 200


def test_owner_makes_2fa_mandatory(org, client):
    owner = make_member(org, Role.OWNER)
    client.force_login(owner.user)
    response = client.post(reverse("tenancy:settings"), {"name": org.name, "default_region": "GB", "require_2fa": "on"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.require_2fa
    entry = AuditEntry.objects.get(tenant=org, action="organization.updated")
    assert entry.personal.changes == {"require_2fa": [False, True]}


def test_admin_cannot_change_the_2fa_policy(org, client, api_as):
    admin = make_member(org, Role.ADMIN, email="web-admin@example.test")
    client.force_login(admin.user)
    client.post(reverse("tenancy:settings"), {"name": org.name, "default_region": "GB", "require_2fa": "on"})
    response = api_as(Role.ADMIN).patch("/api/v1/organization", {"require_2fa": True})
    assert response.status_code == 403
    org.refresh_from_db()
    assert not org.require_2fa


def test_member_without_2fa_is_sent_to_enrolment_when_mandatory(org, client):
    org.require_2fa = True
    org.save()
    member = make_member(org, Role.AGENT)
    client.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})
    for page in ("/", reverse("tenancy:members"), reverse("tenancy:settings")):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:two_factor") + "?required=1"
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"requires two-factor" in page.content
    device = TOTPDevice.objects.get(user=member.user, confirmed=False)
    client.post(reverse("accounts:security"), {"code": code(device)})
    assert client.get(reverse("tenancy:members")).status_code == 200


def test_member_with_2fa_signs_in_normally_when_mandatory(org, client):
    org.require_2fa = True
    org.save()
    member = make_member(org, Role.AGENT)
    device = enrol(member.user)
    client.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})
    client.post(reverse("accounts:verify"), {"code": code(device, 1)})
    assert client.get(reverse("tenancy:members")).status_code == 200


def test_mandatory_2fa_keeps_the_tokens_of_enrolled_members_working(org, api_as):
    org.require_2fa = True
    org.save()
    api = api_as(Role.AGENT)
    enrol(api.membership.user)
    assert api.get("/api/v1/me").status_code == 200
