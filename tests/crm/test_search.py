from .conftest import make_company, make_contact, make_deal


def test_global_search_finds_every_kind(admin_api, org):
    make_contact(org, first_name="Zelda", last_name="Quark")
    make_company(org, name="Quark Industries")
    make_deal(org, name="Quark renewal")
    admin_api.post("/api/v1/notes", {"body": "Talked about quarks"})
    body = admin_api.get("/api/v1/search?q=quark").json()
    assert sorted(hit["type"] for hit in body["items"]) == ["company", "contact", "deal", "note"]
    assert all(hit["url"].startswith("/crm/") for hit in body["items"])


def test_global_search_respects_visibility(api_as, org):
    agent = api_as("agent")
    make_contact(org, first_name="Hidden", last_name="Quark")
    make_contact(org, first_name="Mine", last_name="Quark", owner=agent.membership)
    titles = [hit["title"] for hit in agent.get("/api/v1/search?q=quark").json()["items"]]
    assert titles == ["Mine Quark"]
