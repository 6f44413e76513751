from octopushx.crm.models import Company

from .conftest import make_company, make_contact


def test_create_company_normalises_domain_and_phone(admin_api):
    response = admin_api.post(
        "/api/v1/companies", {"name": "Initech", "domain": "https://Initech.example/", "phone": "020 7946 0018"}
    )
    body = response.json()
    assert response.status_code == 201, body
    assert body["domain"] == "initech.example" and body["phone"] == "+442079460018"


def test_company_name_is_required(admin_api, org):
    response = admin_api.post("/api/v1/companies", {"domain": "x.example"})
    assert response.status_code == 422 and "name" in response.json()["errors"]
    assert not Company.objects.for_tenant(org).exists()


def test_contact_links_to_company_of_same_tenant_only(admin_api, org, other_org):
    foreign = make_company(other_org)
    response = admin_api.post("/api/v1/contacts", {"first_name": "A", "company_id": str(foreign.pk)})
    assert response.status_code == 422 and "company_id" in response.json()["errors"]
    mine = make_company(org)
    response = admin_api.post("/api/v1/contacts", {"first_name": "A", "company_id": str(mine.pk)})
    assert response.status_code == 201 and response.json()["company_id"] == str(mine.pk)


def test_search_and_filter_companies(admin_api, org):
    make_company(org, name="Initech", industry="Software")
    make_company(org, name="Globex", industry="Energy")
    assert [c["name"] for c in admin_api.get("/api/v1/companies?q=init").json()["items"]] == ["Initech"]
    assert [c["name"] for c in admin_api.get("/api/v1/companies?industry=energy").json()["items"]] == ["Globex"]


def test_deleting_company_keeps_its_contacts(admin_api, org):
    company = make_company(org)
    contact = make_contact(org, company_id=str(company.pk))
    assert admin_api.delete(f"/api/v1/companies/{company.pk}").status_code == 204
    contact.refresh_from_db()
    assert contact.company_id is None
