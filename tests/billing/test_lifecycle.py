"""One customer's life on the injected clock, with the invoice expected at every step.

trial → paid → mid-period upgrade → downgrade at period end → failed payment (invoice unpaid)
→ dunning reminders → suspension (reason non-payment) → payment → reinstatement.

Billed Ltd is created on 2 March 2026 (DAY_ONE) and picks Team with two seats during its 14-day
trial. Periods then run from the 16th: 16 March – 15 April, 16 April – 15 May, 16 May – 15 June.
Every run issues what ended more than 3 grace days ago; an invoice is due 14 days after issue.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core import mail

from octopushx.billing import clock, invoices, services
from octopushx.billing.models import Invoice, InvoiceNotice, InvoiceStatus, NoticeKind, Status, Subscription
from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.tenancy.roles import Role
from tests.conftest import make_member

STAFF = Actor.system("bank transfer")


def _run(day: date) -> dict[str, int]:
    """The day's billing run, then the jobs it queued (the billing emails)."""
    with clock.frozen(day):
        counts = invoices.run()
        jobs.drain()
    return counts


def _invoice(customer, number: str) -> Invoice:
    return Invoice.objects.get(tenant=customer, number=number)


def _lines(invoice: Invoice) -> list[tuple[str, str, Decimal]]:
    return [(line.kind, line.description.split(" from ")[0], line.amount) for line in invoice.lines.all()]


def _totals(invoice: Invoice) -> tuple[Decimal, Decimal, Decimal]:
    return invoice.subtotal, invoice.tax, invoice.total


def _state(customer) -> tuple[str, str, int, str]:
    subscription = Subscription.objects.select_related("plan").get(tenant=customer)
    customer.refresh_from_db()
    return subscription.status, subscription.plan.slug, subscription.seats, customer.suspension_reason


def _notices(invoice: Invoice) -> list[str]:
    return list(InvoiceNotice.objects.filter(invoice=invoice).order_by("sent_at").values_list("kind", flat=True))


def test_trial_paid_upgrade_downgrade_dunning_suspension_payment_reinstatement(customer):
    owner = make_member(customer, Role.OWNER, email="owner@billed.example")
    owner_actor = Actor(user=owner.user, role=Role.OWNER)

    # Trial: every feature, nothing invoiced. The owner picks Team with two seats.
    with clock.frozen(date(2026, 3, 5)):
        services.change_subscription(customer, owner_actor, plan="team", seats=2)
    counts = _run(date(2026, 3, 15))
    assert (counts["issued"], counts["drafted"], counts["emailed"]) == (0, 0, 0)
    assert _state(customer) == (Status.TRIALING, "team", 2, "")
    assert not Invoice.objects.exists()

    # The trial ends on 16 March: Team, two seats, active; the first period closes on 15 April.
    _run(date(2026, 3, 16))
    assert _state(customer) == (Status.ACTIVE, "team", 2, "")
    assert _run(date(2026, 4, 16))["drafted"] == 1
    assert _run(date(2026, 4, 19))["issued"] == 1
    first = _invoice(customer, "INV-000001")
    assert (first.period_start, first.period_end, first.due_on) == (
        date(2026, 3, 16),
        date(2026, 4, 15),
        date(2026, 5, 3),
    )
    assert _lines(first) == [("plan", "Team plan, per seat", Decimal("70.00"))]
    assert _totals(first) == (Decimal("70.00"), Decimal("14.00"), Decimal("84.00"))
    assert _notices(first) == [NoticeKind.ISSUED]
    assert mail.outbox[-1].attachments[0][0] == "invoice-INV-000001.pdf"

    # Paid by bank transfer before it was due: nothing to chase.
    with clock.frozen(date(2026, 4, 25)):
        invoices.mark_paid(first, STAFF)
    assert _run(date(2026, 5, 4))["reminded"] == 0
    assert _state(customer)[0] == Status.ACTIVE

    # Mid-period upgrade on 1 May (day 16 of the 30-day period 16 April – 15 May): Enterprise at once,
    # the difference (2 × (60 − 35) = 50.00) charged for the 15 days left: 25.00.
    with clock.frozen(date(2026, 5, 1)):
        services.change_subscription(customer, owner_actor, plan="enterprise")
    assert _state(customer) == (Status.ACTIVE, "enterprise", 2, "")

    # Downgrade on 10 May to Team with one seat: no credit now; the next period starts lower.
    with clock.frozen(date(2026, 5, 10)):
        services.change_subscription(customer, owner_actor, plan="team", seats=1)

    assert _run(date(2026, 5, 19))["issued"] == 1
    second = _invoice(customer, "INV-000002")
    assert (second.period_start, second.period_end, second.due_on) == (
        date(2026, 4, 16),
        date(2026, 5, 15),
        date(2026, 6, 2),
    )
    assert _lines(second) == [
        ("plan", "Team plan, per seat", Decimal("70.00")),
        ("proration", "Enterprise plan, per seat × 2", Decimal("25.00")),
    ]
    assert "(15 of 30 days of 50.00 GBP)" in second.lines.get(kind="proration").description
    assert _totals(second) == (Decimal("95.00"), Decimal("19.00"), Decimal("114.00"))

    # Failed payment: INV-000002 stays unpaid past 2 June. Past due and the day-1 reminder on 3 June.
    counts = _run(date(2026, 6, 3))
    assert (counts["past_due"], counts["reminded"]) == (1, 1)
    assert _state(customer) == (Status.PAST_DUE, "team", 1, "")
    assert mail.outbox[-1].subject == "Reminder: OctopushX invoice INV-000002 is overdue (114.00 GBP)"

    # Reminders on days 7 and 14, each once however often the run goes.
    for day in (date(2026, 6, 4), date(2026, 6, 9), date(2026, 6, 9), date(2026, 6, 16), date(2026, 6, 17)):
        _run(day)
    assert _notices(second) == [NoticeKind.ISSUED, NoticeKind.REMINDER_1, NoticeKind.REMINDER_7, NoticeKind.REMINDER_14]

    # 21 days after the due date (23 June): suspended through Shield, reason non-payment, data kept.
    assert _run(date(2026, 6, 22))["suspended"] == 0
    # The downgraded period closed meanwhile: Team, one seat, issued by the 22 June run, due 6 July.
    third = _invoice(customer, "INV-000003")
    assert (third.period_start, third.period_end, third.due_on) == (
        date(2026, 5, 16),
        date(2026, 6, 15),
        date(2026, 7, 6),
    )
    assert _lines(third) == [("plan", "Team plan, per seat", Decimal("35.00"))]
    assert _totals(third) == (Decimal("35.00"), Decimal("7.00"), Decimal("42.00"))

    assert _run(date(2026, 6, 23))["suspended"] == 1
    assert _state(customer) == (Status.SUSPENDED, "team", 1, "non_payment")
    assert "INV-000002" in customer.suspension_note
    assert NoticeKind.SUSPENDED in _notices(second)
    assert _run(date(2026, 6, 24))["suspended"] == 0

    # Payment reinstates at once: INV-000003 is not yet due, so nothing overdue remains.
    with clock.frozen(date(2026, 6, 24)):
        invoices.mark_paid(second, STAFF)
    assert _state(customer) == (Status.ACTIVE, "team", 1, "")
    assert customer.suspended_at is None
    second.refresh_from_db()
    assert second.status == InvoiceStatus.PAID and _totals(second) == (
        Decimal("95.00"),
        Decimal("19.00"),
        Decimal("114.00"),
    )

    # The next runs change nothing that was issued, and chase only what is unpaid.
    assert _run(date(2026, 6, 25))["issued"] == 0
    assert [i.number for i in Invoice.objects.filter(tenant=customer, status=InvoiceStatus.ISSUED)] == ["INV-000003"]
