"""Statements and margins through the API, and the reseller identity: retail − wholesale = margin."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime
from decimal import Decimal

from octopushx.billing import clock, invoices, ledger, resellers, services
from octopushx.billing.models import Invoice, Statement
from octopushx.core.context import Actor
from octopushx.tenancy.models import OrgKind
from tests.conftest import ApiClient, make_member, make_org

ADMIN = Actor.system("test")


def _run(day: date) -> dict[str, int]:
    with clock.frozen(day):
        return invoices.run()


def _billed_month(reseller, customers: int = 2) -> list:
    resellers.set_price_book(reseller, ADMIN, plans={"team": {"month": "45.00"}})
    made = [make_org(f"Customer {n:02d}", kind=OrgKind.CUSTOMER, parent=reseller) for n in range(customers)]
    _run(date(2026, 4, 19))
    _run(date(2026, 5, 1))
    return made


def test_statements_list_and_detail(reseller, reseller_admin):
    _billed_month(reseller)
    items = reseller_admin.get("/api/v1/reseller/statements").json()["items"]
    assert [(s["month"], s["subtotal"], s["total"]) for s in items] == [("2026-04", "70.00", "84.00")]
    detail = reseller_admin.get(f"/api/v1/reseller/statements/{items[0]['id']}").json()
    assert [line["amount"] for line in detail["lines"]] == ["35.00", "35.00"]
    assert detail["lines"][0]["invoices"] == ["INV-000001"]


def test_statement_pdf(reseller, reseller_admin):
    _billed_month(reseller)
    statement = Statement.objects.get()
    response = reseller_admin.get(f"/api/v1/reseller/statements/{statement.pk}/pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert statement.number in response["Content-Disposition"]


def test_another_reseller_and_customers_get_404(reseller, reseller_admin, other_reseller_admin):
    made = _billed_month(reseller)
    statement = Statement.objects.get()
    assert other_reseller_admin.get("/api/v1/reseller/statements").json()["items"] == []
    assert other_reseller_admin.get(f"/api/v1/reseller/statements/{statement.pk}").status_code == 404
    assert other_reseller_admin.get("/api/v1/reseller/margins").json()["items"] == []
    owner = ApiClient(make_member(made[0], "owner"))
    for path in ("/api/v1/reseller/statements", f"/api/v1/reseller/statements/{statement.pk}",
                 "/api/v1/reseller/margins", "/api/v1/reseller/margins.csv"):  # fmt: skip
        assert owner.get(path).status_code == 404, path
    # The customer's own invoice never shows the wholesale price.
    own = owner.get("/api/v1/billing/invoices").json()["items"][0]
    assert "wholesale" not in str(own) and own["subtotal"] == "45.00"


def test_platform_staff_read_any_statement(reseller, staff):
    _billed_month(reseller)
    statement = Statement.objects.get()
    assert staff.get(f"/api/v1/reseller/statements/{statement.pk}").status_code == 200
    assert staff.get(f"/api/v1/reseller/statements?reseller={reseller.pk}").json()["items"][0]["id"] == str(
        statement.pk
    )


def test_margins_per_month_and_customer_and_as_csv(reseller, reseller_admin):
    _billed_month(reseller)
    body = reseller_admin.get("/api/v1/reseller/margins?month=2026-04").json()
    assert [(r["customer"], r["revenue"], r["wholesale_cost"], r["margin"]) for r in body["items"]] == [
        ("Customer 00", "45.00", "35.00", "10.00"),
        ("Customer 01", "45.00", "35.00", "10.00"),
    ]
    assert body["totals"] == [{"currency": "GBP", "revenue": "90.00", "wholesale_cost": "70.00", "margin": "20.00"}]
    response = reseller_admin.get("/api/v1/reseller/margins.csv?month=2026-04")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["month", "customer", "currency", "invoices", "revenue", "wholesale_cost", "margin"]
    assert rows[1] == ["2026-04", "Customer 00", "GBP", "1", "45.00", "35.00", "10.00"]
    assert reseller_admin.get("/api/v1/reseller/margins?month=April").status_code == 422


def test_csv_never_carries_a_formula(reseller):
    resellers.set_price_book(reseller, ADMIN, plans={"team": {"month": "45.00"}})
    make_org("=HYPERLINK(1)", kind=OrgKind.CUSTOMER, parent=reseller)
    _run(date(2026, 4, 19))
    assert "\n2026-04,'=HYPERLINK(1)," in resellers.margin_csv(reseller)


def test_retail_minus_wholesale_equals_the_margin_report_to_the_penny(reseller):
    """30 customers on different plans, seats, add-ons, mid-period upgrades and usage."""
    rng = random.Random(15)
    resellers.set_price_book(
        reseller,
        ADMIN,
        plans={"starter": {"month": "19.99"}, "team": {"month": "41.37"}, "enterprise": {"month": "71.13"}},
        addons={"minutes_1000": {"month": "23.33"}, "studio": {"month": "12.49"}},
    )
    customers = []
    for n in range(30):
        customer = make_org(f"Customer {n:02d}", kind=OrgKind.CUSTOMER, parent=reseller)
        owner = Actor(role="owner", label_override="test")
        plan = rng.choice(["starter", "team", "enterprise"])
        services.change_subscription(customer, owner, plan=plan, seats=rng.randint(1, 9))
        customers.append((customer, owner))
    with clock.frozen(date(2026, 4, 3)):
        for customer, owner in customers[::3]:
            services.change_subscription(customer, owner, seats=services.subscription_of(customer).seats + 3,
                                         addons=[{"slug": "minutes_1000", "quantity": rng.randint(1, 3)}])  # fmt: skip
        for n, (customer, _) in enumerate(customers):
            for k in range(rng.randint(0, 4)):
                minutes = Decimal(rng.randint(1, 4000)) / 7
                ledger.record(customer, "transcription_minutes", f"{n}-{k}", minutes.quantize(Decimal("0.0001")),
                              datetime(2026, 4, 3, tzinfo=UTC))  # fmt: skip
    _run(date(2026, 4, 19))
    _run(date(2026, 5, 1))
    retail = sum(Invoice.objects.filter(issuer=reseller).values_list("subtotal", flat=True), Decimal(0))
    statement = Statement.objects.get(tenant=reseller)
    report = resellers.margin_report(reseller, date(2026, 4, 1))
    assert Invoice.objects.filter(issuer=reseller).count() == 30 and statement.lines.count() == 30
    assert retail - statement.subtotal == Decimal(report["totals"][0]["margin"])
    assert sum(Decimal(row["margin"]) for row in report["items"]) == Decimal(report["totals"][0]["margin"])
    assert statement.subtotal == sum(statement.lines.values_list("amount", flat=True), Decimal(0))
    assert Decimal(report["totals"][0]["margin"]) > 0


def test_only_platform_staff_mark_a_statement_paid(reseller, reseller_admin, other_reseller_admin, staff):
    _billed_month(reseller)
    statement = Statement.objects.get()
    path = f"/api/v1/reseller/statements/{statement.pk}/mark-paid"
    assert reseller_admin.post(path).status_code == 403
    assert other_reseller_admin.post(path).status_code == 404
    statement.refresh_from_db()
    assert statement.status == "issued"
    paid = staff.post(path)
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    again = staff.post(path)
    assert again.status_code == 422
