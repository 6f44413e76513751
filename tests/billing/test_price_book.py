"""The reseller's price book: retail prices beside wholesale, warnings and refusals, isolation."""

from __future__ import annotations

from octopushx.billing.models import PriceBook
from octopushx.core.models import AuditEntry
from tests.conftest import ApiClient, make_member

URL = "/api/v1/billing/price-book"


def test_an_empty_book_lists_every_item_at_list_price(reseller_admin):
    body = reseller_admin.get(URL).json()
    team = next(i for i in body["items"] if i["slug"] == "team" and i["interval"] == "month")
    assert body["currency"] == "GBP" and body["revision"] == 0
    assert team == {"kind": "plan", "slug": "team", "name": "Team", "interval": "month",
                    "wholesale": "35.00", "retail": None, "margin": "0.00"}  # fmt: skip
    assert not any(i["slug"] == "extra_seats" for i in body["items"])  # follows the plan's seat price


def test_put_saves_a_revision_with_margins_and_audit(reseller, reseller_admin):
    response = reseller_admin.put(URL, {"plans": {"team": {"month": "45.00"}}, "addons": {"studio": {"month": "12"}}})
    assert response.status_code == 200, response.content
    body = response.json()
    team = next(i for i in body["items"] if i["slug"] == "team" and i["interval"] == "month")
    assert (team["retail"], team["margin"], body["revision"], body["warnings"]) == ("45.00", "10.00", 1, [])
    assert body["addons"] == {"studio": {"month": "12.00"}}
    assert AuditEntry.objects.filter(tenant=reseller, action="price_book.changed").count() == 1


def test_a_price_at_wholesale_is_saved_with_a_warning(reseller_admin):
    body = reseller_admin.put(URL, {"plans": {"team": {"month": "35.00"}}}).json()
    assert body["revision"] == 1 and "no margin" in body["warnings"][0]


def test_below_wholesale_is_refused_unless_confirmed(reseller_admin):
    response = reseller_admin.put(URL, {"plans": {"team": {"month": "30.00"}}})
    assert response.status_code == 422
    assert "below the wholesale price 35.00" in response.json()["errors"]["plans.team.month"][0]
    assert not PriceBook.objects.exists()
    confirmed = reseller_admin.put(URL, {"plans": {"team": {"month": "30.00"}}, "confirm": True})
    assert confirmed.status_code == 200 and "you lose 5.00 GBP" in confirmed.json()["warnings"][0]


def test_bad_prices_are_refused_and_nothing_changes(reseller_admin):
    cases = [
        ({"plans": {"team": {"month": "-1"}}, "confirm": True}, "plans.team.month", "negative"),
        ({"plans": {"platinum": {"month": "10"}}}, "plans.platinum", "Unknown plan"),
        ({"addons": {"extra_seats": {"month": "10"}}}, "addons.extra_seats", "plan's seat price"),
        ({"plans": {"team": {"week": "40"}}}, "plans.team.week", "month or year"),
        ({"plans": {"team": {"month": "40.001"}}}, "plans.team.month", "decimal place"),
        ({"plans": {"team": {"month": "lots"}}}, "plans.team.month", "not an amount"),
        ({"currency": "EUR", "plans": {"team": {"month": "40"}}}, "plans.team.month", "no monthly wholesale"),
    ]
    for body, field, message in cases:
        response = reseller_admin.put(URL, body)
        assert response.status_code == 422, body
        assert message in " ".join(response.json()["errors"][field]), response.json()
    assert reseller_admin.put(URL, {"currency": "XYZ"}).status_code == 422
    assert not PriceBook.objects.exists()


def test_customers_and_members_never_see_wholesale(reseller, customer, billing_on):
    owner = ApiClient(make_member(customer, "owner"))
    assert owner.get(URL).status_code == 404
    assert owner.put(URL, {"plans": {"team": {"month": "1"}}}).status_code == 404
    agent = ApiClient(make_member(reseller, "agent"))
    assert agent.get(URL).status_code == 403


def test_another_reseller_sees_only_its_own_book(reseller, reseller_admin, other_reseller_admin):
    reseller_admin.put(URL, {"plans": {"team": {"month": "45.00"}}})
    assert other_reseller_admin.get(URL).json()["revision"] == 0
    assert other_reseller_admin.get(f"{URL}?reseller={reseller.pk}").status_code == 404


def test_platform_staff_read_any_reseller_book(reseller, reseller_admin, staff):
    reseller_admin.put(URL, {"plans": {"team": {"month": "45.00"}}})
    assert staff.get(f"{URL}?reseller={reseller.pk}").json()["plans"] == {"team": {"month": "45.00"}}
