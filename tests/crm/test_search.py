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


def _names(client, **params) -> list[str]:
    response = client.get("/api/v1/contacts", params)
    assert response.status_code == 200, response.content
    return [c["first_name"] for c in response.json()["items"]]


def test_phone_search_in_any_format_including_partial_digits(admin_api, org):
    make_contact(org, first_name="Phoebe", phones=["+44 20 7946 0123", "07400 123456"])
    make_contact(org, first_name="Other", phone="+44 20 7946 0999")
    typed = ["020 7946 0123", "+44 20 7946 0123", "02079460123", "442079460123", "7946 0123", "460123"]
    for text in typed + ["07400 123 456", "+447400123456", "123456"]:
        assert _names(admin_api, q=text) == ["Phoebe"], text
    assert sorted(_names(admin_api, q="7946")) == ["Other", "Phoebe"]


def test_phone_and_email_search_respect_visibility(api_as, org):
    agent = api_as("agent")
    make_contact(org, first_name="Hidden", phone="+44 20 7946 0123", email="hidden.person@example.com")
    make_contact(
        org, first_name="Mine", phone="+44 20 7946 0124", email="mine.person@example.com", owner=agent.membership
    )
    assert _names(agent, q="020 7946 0123") == []
    assert _names(agent, q="7946012") == ["Mine"]
    assert _names(agent, q="person@example") == ["Mine"]
    assert _names(agent, q="hidden.person") == []
    assert _names(agent, q="hidden.person@example.com") == []


def test_search_by_any_email_and_name_terms(admin_api, org):
    make_contact(org, first_name="Ada", last_name="Lovelace", emails=["ada@work.example", "countess@home.example"])
    make_contact(org, first_name="Adam", last_name="Smith", email="adam@work.example")
    assert _names(admin_api, q="countess@home") == ["Ada"]
    assert _names(admin_api, q="home.example") == ["Ada"]
    assert _names(admin_api, q="ada home.example") == ["Ada"]
    assert _names(admin_api, q="love") == ["Ada"]
    assert sorted(_names(admin_api, q="ada")) == ["Ada", "Adam"]
    assert _names(admin_api, q="smi ad") == ["Adam"]


def test_tag_filter_lists_a_contact_once(admin_api, org):
    from octopushx.crm.models import Tag

    contact = make_contact(org, first_name="Twice")
    make_contact(org, first_name="Untagged")
    contact.tags.add(Tag.objects.create(tenant=org, name="vip"), Tag.objects.create(tenant=org, name="VIP"))
    assert _names(admin_api, tag="Vip") == ["Twice"]
    assert _names(admin_api, tag="other") == []


def test_deal_filter_by_contact(admin_api, org):
    contact = make_contact(org, first_name="Buyer")
    deal = make_deal(org, name="Renewal")
    make_deal(org, name="Unrelated")
    deal.contacts.add(contact)
    items = admin_api.get("/api/v1/deals", {"contact_id": str(contact.pk)}).json()["items"]
    assert [d["name"] for d in items] == ["Renewal"]


def test_cursor_pages_over_equal_names_return_every_contact_once(admin_api, org):
    created = {str(make_contact(org, first_name=f"P{n}", last_name="Same" if n % 2 else f"N{n}").pk) for n in range(7)}
    seen, cursor = [], None
    while True:
        params = {"ordering": "last_name", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = admin_api.get("/api/v1/contacts", params).json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert sorted(seen) == sorted(created) and len(seen) == 7


def test_name_with_a_number_searches_both_and_digits_in_an_email_are_not_a_phone(admin_api, org):
    make_contact(org, first_name="Ada", phone="+44 20 7946 0123", email="ada@one.example")
    make_contact(org, first_name="Bob", phone="+44 20 7946 0555", email="bob138591@two.example")
    make_contact(org, first_name="Cy", phone="+44 20 7913 8591")
    assert sorted(_names(admin_api, q="Bob 020 7946 0123")) == ["Ada"]
    assert _names(admin_api, q="bob138591") == ["Bob"]
    assert _names(admin_api, q="138591") == ["Cy"]
    assert _names(admin_api, q="bob138591@two") == ["Bob"]


def test_contact_search_ignores_accents_and_case(admin_api, org):
    make_contact(org, first_name="Jürgen", last_name="Müller")
    make_contact(org, first_name="Zoë", last_name="Ærø")
    make_contact(org, first_name="Hans", last_name="Straße")
    make_contact(org, first_name="Jose", last_name="Ortega")
    make_contact(org, first_name="Julia", last_name="Miller")
    for typed in ("muller", "MULLER", "Müller", "mül", "jurgen muller", "MÜLLER jürgen"):
        assert _names(admin_api, q=typed) == ["Jürgen"], typed
    assert _names(admin_api, q="zoe") == ["Zoë"]
    assert _names(admin_api, q="aero") == ["Zoë"]
    assert _names(admin_api, q="strasse") == ["Hans"]
    assert _names(admin_api, q="José") == ["Jose"]
    assert _names(admin_api, q="mu") == ["Jürgen"]  # shorter than a trigram: read row by row, folded too


def test_a_word_inside_any_email_address_finds_the_contact(admin_api, org):
    make_contact(org, first_name="Primary", emails=["jo.latin1@mail.example", "backup.kilo@home.example"])
    make_contact(org, first_name="Other", email="other@latin.example")
    assert _names(admin_api, q="latin1") == ["Primary"]
    assert _names(admin_api, q="LATIN1") == ["Primary"]
    assert _names(admin_api, q="kilo") == ["Primary"]
    assert sorted(_names(admin_api, q="latin")) == ["Other", "Primary"]
    assert _names(admin_api, q="kilo primary") == ["Primary"]


def test_company_search_ignores_accents_and_case(admin_api, org):
    make_company(org, name="Société Générale", domain="societe.example")
    make_company(org, name="Bücher GmbH", domain="buecher.example")
    make_company(org, name="Other Ltd", domain="other.example")

    def names(q: str) -> list[str]:
        return sorted(c["name"] for c in admin_api.get("/api/v1/companies", {"q": q}).json()["items"])

    assert names("generale") == ["Société Générale"]
    assert names("SOCIÉTÉ") == ["Société Générale"]
    assert names("bucher") == ["Bücher GmbH"]
    assert names("BUECHER.example") == ["Bücher GmbH"]


def test_deal_search_ignores_accents_in_its_name_and_its_companys(admin_api, org):
    company = make_company(org, name="Bücher GmbH")
    make_deal(org, name="Café rollout")
    make_deal(org, name="Renewal", company_id=str(company.pk))
    make_deal(org, name="Unrelated")

    def names(q: str) -> list[str]:
        return sorted(d["name"] for d in admin_api.get("/api/v1/deals", {"q": q}).json()["items"])

    assert names("cafe") == ["Café rollout"]
    assert names("CAFÉ") == ["Café rollout"]
    assert names("bucher") == ["Renewal"]


def test_global_search_ignores_accents(admin_api, org):
    make_contact(org, first_name="Jürgen", last_name="Müller")
    make_company(org, name="Müller Logistik")
    make_deal(org, name="Müller renewal")
    body = admin_api.get("/api/v1/search?q=muller").json()
    assert sorted(hit["type"] for hit in body["items"]) == ["company", "contact", "deal"]
