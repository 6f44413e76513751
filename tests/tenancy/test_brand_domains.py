"""Custom brand domains: claim, prove with a DNS TXT record (fake resolver, never the internet), remove."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from octopushx import cli
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy import branding
from octopushx.tenancy.models import BrandDomain
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member, make_org
from tests.tenancy.branding_helpers import SYSTEM, FakeResolver, PublishedResolver, make_reseller


@pytest.fixture
def dns(monkeypatch):
    resolver = FakeResolver()
    monkeypatch.setattr(branding, "make_resolver", lambda: resolver)
    return resolver


@pytest.fixture
def reseller(db):
    return make_reseller()


@pytest.fixture
def api(reseller):
    return ApiClient(make_member(reseller, Role.ADMIN))


def domains() -> list[tuple]:
    return sorted(BrandDomain.objects.values_list("domain", "tenant_id", "verified_at"))


def test_adding_a_domain_answers_the_txt_record_to_create(api, reseller):
    response = api.post("/api/v1/branding/domains", {"domain": " CRM.Northwind.Example. "})
    assert response.status_code == 201, response.content
    body = response.json()
    record = BrandDomain.objects.get(tenant=reseller)
    assert body["domain"] == "crm.northwind.example" and body["verified"] is False
    assert body["txt_record"] == {
        "type": "TXT",
        "name": "_brand-verify.crm.northwind.example",
        "value": f"brand-verify={record.token}",
    }
    assert AuditEntry.objects.filter(tenant=reseller, action="brand.domain_added").exists()
    assert [d["domain"] for d in api.get("/api/v1/branding/domains").json()] == ["crm.northwind.example"]


def test_verify_checks_the_txt_record(api, reseller, dns):
    domain_id = api.post("/api/v1/branding/domains", {"domain": "crm.northwind.example"}).json()["id"]
    record = BrandDomain.objects.get(pk=domain_id)
    dns.records[record.record_name] = ["v=spf1 -all", record.record_value]
    response = api.post(f"/api/v1/branding/domains/{domain_id}/verify")
    assert response.status_code == 200, response.content
    assert response.json()["verified"] is True
    assert dns.asked == ["_brand-verify.crm.northwind.example"]
    entry = AuditEntry.objects.get(tenant=reseller, action="brand.domain_verified")
    assert entry.personal.changes["method"] == [None, "dns"]
    assert branding.owner_for_host("crm.northwind.example:443") == str(reseller.pk)


def test_verify_without_the_record_is_422_naming_the_record(api, dns):
    domain_id = api.post("/api/v1/branding/domains", {"domain": "crm.northwind.example"}).json()["id"]
    dns.records["_brand-verify.crm.northwind.example"] = ["brand-verify=somebody-elses-token"]
    before = domains()
    response = api.post(f"/api/v1/branding/domains/{domain_id}/verify")
    assert response.status_code == 422
    message = response.json()["errors"]["domain"][0]
    assert "_brand-verify.crm.northwind.example" in message and "somebody-elses-token" in message
    assert domains() == before
    assert branding.owner_for_host("crm.northwind.example") is None


def test_a_domain_claimed_by_another_brand_is_refused(api, reseller):
    rival = make_reseller("Southwind", "Southwind Talk")
    branding.add_domain(rival, SYSTEM, "crm.shared.example")
    before = domains()
    response = api.post("/api/v1/branding/domains", {"domain": "crm.shared.example"})
    assert response.status_code == 422
    assert response.json()["errors"]["domain"] == ["crm.shared.example is already claimed by another brand"]
    assert domains() == before


@pytest.mark.parametrize(
    "domain",
    [
        "",
        "localhost",
        "https://crm.example.com",
        "crm.example.com/path",
        "crm.example.com:8443",
        "10.0.0.1",
        "a..b",
        "-x.example",
    ],
)
def test_bad_domain_is_422_and_changes_nothing(api, domain):
    response = api.post("/api/v1/branding/domains", {"domain": domain})
    assert response.status_code == 422, response.content
    assert response.json()["errors"]["domain"]
    assert domains() == []


def test_the_platforms_own_host_cannot_be_claimed(api, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "app.platform.example"]
    response = api.post("/api/v1/branding/domains", {"domain": "app.platform.example"})
    assert response.status_code == 422 and domains() == []


def test_removing_a_domain_stops_serving_the_brand(api, reseller, dns):
    record = branding.add_domain(reseller, SYSTEM, "crm.northwind.example")
    branding.verify_domain(record, SYSTEM, resolver=PublishedResolver())
    assert branding.owner_for_host("crm.northwind.example") == str(reseller.pk)
    response = api.delete(f"/api/v1/branding/domains/{record.pk}")
    assert response.status_code == 204
    assert domains() == []
    assert branding.owner_for_host("crm.northwind.example") is None  # the cache was cleared
    assert AuditEntry.objects.filter(tenant=reseller, action="brand.domain_removed").exists()


def test_another_resellers_domain_is_404(api):
    rival = make_reseller("Southwind", "Southwind Talk")
    record = branding.add_domain(rival, SYSTEM, "crm.southwind.example")
    before = domains()
    assert api.post(f"/api/v1/branding/domains/{record.pk}/verify").status_code == 404
    assert api.delete(f"/api/v1/branding/domains/{record.pk}").status_code == 404
    assert domains() == before
    assert api.get("/api/v1/branding/domains").json() == []


def test_customers_have_no_domains_to_add(reseller):
    customer = make_org("Their customer", parent=reseller)
    owner = ApiClient(make_member(customer, Role.OWNER))
    assert owner.get("/api/v1/branding/domains").json() == []
    assert owner.post("/api/v1/branding/domains", {"domain": "crm.customer.example"}).status_code == 403
    assert domains() == []


def test_platform_staff_reach_every_brands_domains(reseller, dns):
    from octopushx.tenancy.services import platform_org

    record = branding.add_domain(reseller, SYSTEM, "crm.northwind.example")
    staff = ApiClient(make_member(platform_org(), Role.ADMIN))
    assert [d["domain"] for d in staff.get("/api/v1/branding/domains").json()] == ["crm.northwind.example"]
    dns.records[record.record_name] = [record.record_value]
    assert staff.post(f"/api/v1/branding/domains/{record.pk}/verify").status_code == 200


# --- octopushx brand verify DOMAIN --skip-dns ----------------------------------------------


def test_cli_marks_a_domain_verified_without_dns(reseller, capsys, dns):
    branding.add_domain(reseller, SYSTEM, "crm.northwind.example")
    assert cli.main(["brand", "verify", "crm.northwind.example", "--skip-dns"]) == 0
    assert "crm.northwind.example is verified for Northwind Telecom" in capsys.readouterr().out
    assert BrandDomain.objects.get().verified_at is not None
    assert dns.asked == []
    entry = AuditEntry.objects.get(tenant=reseller, action="brand.domain_verified")
    assert entry.personal.changes["method"] == [None, "operator, without DNS"]
    assert entry.personal.actor_label == "cli"


def test_cli_refuses_an_unclaimed_domain(db, capsys):
    assert cli.main(["brand", "verify", "nobody.example", "--skip-dns"]) == 1
    assert "No brand has claimed nobody.example" in capsys.readouterr().err


def test_cli_without_skip_dns_checks_the_record(reseller, capsys, dns):
    branding.add_domain(reseller, SYSTEM, "crm.northwind.example")
    assert cli.main(["brand", "verify", "crm.northwind.example"]) == 1
    assert "Create a TXT record named _brand-verify.crm.northwind.example" in capsys.readouterr().err
    assert BrandDomain.objects.get().verified_at is None


def test_only_platform_staff_skip_dns(reseller):
    branding.add_domain(reseller, SYSTEM, "crm.northwind.example")
    reseller_owner = make_member(reseller, Role.OWNER).user
    with pytest.raises(PermissionDenied):
        branding.verify_without_dns("crm.northwind.example", Actor(user=reseller_owner, role=Role.OWNER))
    assert BrandDomain.objects.get().verified_at is None
