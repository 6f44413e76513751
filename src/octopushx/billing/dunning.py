"""Dunning: chase issued invoices that are not paid, suspend for non-payment, reinstate on payment.

Part of the daily billing run, on the billing clock, idempotent (each email is decided once per
invoice in ``InvoiceNotice`` and sent by a ``billing.email`` job):

- an issued invoice is due ``OCTOPUSHX_BILLING_PAYMENT_TERMS_DAYS`` (default 14) after it was issued,
  and is emailed to the billing contact with its PDF;
- the day after its due date with an amount still due (total − credit notes), the subscription
  becomes ``past_due``; reminders go out 1, 7 and 14 days after the due date (a run that missed
  days sends only the latest reminder due, never a burst);
- ``OCTOPUSHX_BILLING_SUSPEND_AFTER_DAYS`` (default 21) after the due date the organisation is
  suspended through Shield with reason ``non_payment`` (data kept; sign-in says why and how to pay).
  Once per invoice: if staff reinstate by hand before payment, the run does not suspend again for it;
- payment (``invoices.mark_paid``) or a credit note that leaves nothing overdue ends it at once:
  the subscription is active again and a non-payment suspension is lifted.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from octopushx.billing import clock, credits, emails, money, services
from octopushx.billing.models import (
    ChangeKind,
    Invoice,
    InvoiceNotice,
    InvoiceStatus,
    NoticeKind,
    Status,
    Subscription,
)
from octopushx.core import audit, events, jobs
from octopushx.core.context import Actor
from octopushx.core.models import Job
from octopushx.tenancy.models import Organization

EMAIL_JOB = "billing.email"
NOTICE_BATCH = 500

NON_PAYMENT = "non_payment"  # Shield's reason code (tenancy.suspension.REASONS)
REMINDERS = ((14, NoticeKind.REMINDER_14), (7, NoticeKind.REMINDER_7), (1, NoticeKind.REMINDER_1))
SYSTEM = Actor.system("billing")


def payment_terms_days() -> int:
    return int(getattr(settings, "BILLING_PAYMENT_TERMS_DAYS", 14))


def suspend_after_days() -> int:
    return int(getattr(settings, "BILLING_SUSPEND_AFTER_DAYS", 21))


def due_date(invoice: Invoice) -> date | None:
    """The invoice's due date (invoices issued before due dates existed: issue date + terms)."""
    if invoice.due_on is not None:
        return invoice.due_on
    if invoice.issued_at is None:
        return None
    return invoice.issued_at.date() + timedelta(days=payment_terms_days())


def overdue(tenant: Organization, at: date | None = None) -> list[tuple[Invoice, object]]:
    """The tenant's issued invoices past their due date with an amount still due: (invoice, amount due)."""
    at = at or clock.today()
    found = []
    for invoice in Invoice.objects.filter(tenant=tenant, status=InvoiceStatus.ISSUED).order_by("period_start"):
        due_on = due_date(invoice)
        if due_on is not None and due_on < at:
            due = credits.amount_due(invoice)
            if due > 0:
                found.append((invoice, due))
    return found


def _set_status(subscription: Subscription, status: str, action: str, actor: Actor) -> Subscription:
    locked = Subscription.objects.select_for_update().select_related("plan", "version").get(pk=subscription.pk)
    if locked.status == status:
        return locked
    old = services.state_of(locked)
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    kind = ChangeKind.PAID_UP if status == Status.ACTIVE else ChangeKind.DUNNING
    services._record_change(locked, kind, clock.today())
    audit.record(locked.tenant, actor, action, obj=locked, changes=audit.diff(old, services.state_of(locked)))
    events.emit(
        locked.tenant,
        "subscription.changed",
        {"subscription_id": str(locked.pk), "plan": locked.plan.slug, "status": status},
    )
    return locked


def _notify(invoice: Invoice, kind: str, *, days: int = 0) -> bool:
    """Decide one email (once per invoice and kind) and hand it to a job that sends it.

    The job is not the tenant's (a suspended tenant's jobs wait, and the suspension notice must go
    out); it retries with back-off when the mail server fails, and the row says whether it went.
    """
    if InvoiceNotice.objects.filter(invoice=invoice, kind=kind).exists():
        return False
    try:
        with transaction.atomic():
            notice = InvoiceNotice.objects.create(
                tenant=invoice.tenant, invoice=invoice, kind=kind, days_overdue=days, created_at=clock.now()
            )
            jobs.submit(EMAIL_JOB, payload={"notice_id": str(notice.pk)}, dedupe_key=f"{EMAIL_JOB}:{notice.pk}")
    except IntegrityError:  # another run decided it first
        return False
    return True


def _notify_issued(found: list[Invoice]) -> int:
    """Decide the "invoice sent" email of many newly issued invoices at once: notice and job rows in
    bulk, the jobs enqueued in batches after commit (a month-end run issues one per customer)."""
    decided = 0
    for start in range(0, len(found), NOTICE_BATCH):
        chunk = found[start : start + NOTICE_BATCH]
        now = clock.now()
        notices = [
            InvoiceNotice(tenant_id=i.tenant_id, invoice_id=i.pk, kind=NoticeKind.ISSUED, created_at=now) for i in chunk
        ]
        with transaction.atomic():
            InvoiceNotice.objects.bulk_create(notices, ignore_conflicts=True)  # a concurrent run's stay theirs
            written = set(InvoiceNotice.objects.filter(pk__in=[n.pk for n in notices]).values_list("pk", flat=True))
            rows = [
                Job(
                    kind=EMAIL_JOB,
                    payload={"notice_id": str(pk)},
                    dedupe_key=f"{EMAIL_JOB}:{pk}",
                    max_attempts=settings.JOB_MAX_ATTEMPTS,
                )
                for pk in written
            ]
            Job.objects.bulk_create(rows)
            ids = [row.pk for row in rows]
            transaction.on_commit(lambda ids=ids: jobs.enqueue_many(ids))
        decided += len(written)
    return decided


@jobs.handler(EMAIL_JOB)
def send_notice(job) -> dict:
    """Send one decided billing email with the invoice PDF (idempotent: a sent notice is not sent again)."""
    notice = InvoiceNotice.objects.select_related("invoice", "invoice__tenant").filter(pk=job.payload["notice_id"])
    notice = notice.first()
    if notice is None or notice.sent_at is not None:
        return {"sent": 0}
    invoice = notice.invoice
    if notice.kind == NoticeKind.ISSUED:
        due = invoice.total - credits.credited(invoice).total
    else:
        due = credits.amount_due(invoice)
        if due <= 0:  # paid or credited since the run decided it: nothing to remind of
            InvoiceNotice.objects.filter(pk=notice.pk).update(sent_at=clock.now(), recipients=[])
            return {"sent": 0}
    recipients = emails.send(invoice, notice.kind, due=due, due_on=due_date(invoice), days=notice.days_overdue)
    InvoiceNotice.objects.filter(pk=notice.pk).update(sent_at=clock.now(), recipients=recipients)
    return {"sent": len(recipients), "kind": notice.kind}


def _suspend(invoice: Invoice, due, days: int) -> bool:
    from octopushx.shield.suspension.services import suspend_tenant

    tenant = Organization.objects.get(pk=invoice.tenant_id)
    if tenant.suspended_at is not None:
        return False  # already suspended (for this or another reason): nothing to add
    if InvoiceNotice.objects.filter(invoice=invoice, kind=NoticeKind.SUSPENDED).exists():
        return False  # suspended for this invoice before and reinstated by hand: not again
    note = (
        f"Invoice {invoice.number} unpaid: {money.format_amount(due, invoice.currency)} {invoice.currency} "
        f"due on {due_date(invoice).isoformat()}, {days} days overdue"
    )
    with transaction.atomic():
        suspend_tenant(tenant, SYSTEM, reason=NON_PAYMENT, note=note)
        _set_status(invoice.subscription, Status.SUSPENDED, "subscription.suspended", SYSTEM)
    _notify(invoice, NoticeKind.SUSPENDED, days=days)
    return True


def settle(subscription: Subscription, actor: Actor | None = None) -> bool:
    """Nothing overdue left: the subscription is active again and a non-payment suspension is lifted.

    Called when an invoice is paid or credited (and by every run); returns whether anything changed.
    """
    from octopushx.shield.suspension.services import reinstate_tenant

    tenant = Organization.objects.get(pk=subscription.tenant_id)
    if overdue(tenant):
        return False
    changed = False
    with transaction.atomic():
        subscription = Subscription.objects.get(pk=subscription.pk)
        if subscription.status in (Status.PAST_DUE, Status.SUSPENDED):
            _set_status(subscription, Status.ACTIVE, "subscription.paid_up", actor or SYSTEM)
            changed = True
        if tenant.suspended_at is not None and tenant.suspension_reason == NON_PAYMENT:
            who = f" (recorded by {actor.label})" if actor is not None else ""
            reinstate_tenant(tenant, SYSTEM, note=f"No overdue invoice left{who}")
            changed = True
    return changed


def run(at: date | None = None) -> dict[str, int]:
    """Email newly issued invoices, remind, mark past due, suspend, and settle what was paid, as of ``at``."""
    at = at or clock.today()
    counts = {"emailed": 0, "reminded": 0, "past_due": 0, "suspended": 0, "settled": 0}
    if not services.enabled():
        return counts
    unsent = (
        Invoice.objects.filter(
            status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PAID], due_on__isnull=False, tenant__deleted_at__isnull=True
        )
        .exclude(notices__kind=NoticeKind.ISSUED)
        .order_by("issued_at")
    )
    counts["emailed"] = _notify_issued(list(unsent.only("pk", "tenant_id")))

    chased: set = set()
    # Only what may be overdue (invoices issued before due dates existed have none: judged by issue date).
    issued = Invoice.objects.filter(
        Q(due_on__lt=at) | Q(due_on__isnull=True), status=InvoiceStatus.ISSUED
    ).select_related("tenant")
    for invoice in issued.order_by("period_start"):
        due_on = due_date(invoice)
        if due_on is None or due_on >= at or invoice.tenant.deleted_at is not None:
            continue
        due = credits.amount_due(invoice)
        if due <= 0:
            continue
        days = (at - due_on).days
        subscription = Subscription.objects.get(pk=invoice.subscription_id)
        chased.add(subscription.pk)
        if subscription.status == Status.ACTIVE:  # a trial (or a cancelled one) keeps its status
            with transaction.atomic():
                _set_status(subscription, Status.PAST_DUE, "subscription.past_due", SYSTEM)
            counts["past_due"] += 1
        stage = next((kind for after, kind in REMINDERS if days >= after), None)
        if stage is not None:
            counts["reminded"] += _notify(invoice, stage, days=days)
        if days >= suspend_after_days():
            counts["suspended"] += _suspend(invoice, due, days)

    # Paid or credited by any path (mark-paid, a card payment, a credit note): settle what was chased.
    waiting = Subscription.objects.filter(status__in=[Status.PAST_DUE, Status.SUSPENDED]).exclude(pk__in=chased)
    for subscription in waiting:
        counts["settled"] += settle(subscription)
    return counts


def explain_suspension(org: Organization) -> str:
    """What members of an organisation suspended for non-payment read at sign-in: what is owed and how to pay."""
    from octopushx.tenancy import branding

    unpaid_invoices = Invoice.objects.filter(tenant=org, status=InvoiceStatus.ISSUED).order_by("period_start")
    found = [(invoice, due) for invoice in unpaid_invoices if (due := credits.amount_due(invoice)) > 0]
    if not found:
        return ""
    unpaid = "; ".join(
        f"invoice {invoice.number}, {money.format_amount(due, invoice.currency)} {invoice.currency} "
        f"due on {emails.long_date(due_date(invoice))}"
        for invoice, due in found
    )
    brand = branding.for_organization(org)
    contact = brand.support_email or brand.support_url
    text = (
        f"Unpaid: {unpaid}. To pay, an owner transfers the amount quoting the invoice number as the reference "
        "(the invoice and its reminders were emailed to the billing contact); once payment is recorded the "
        "organisation is reinstated at once."
    )
    return f"{text} Questions: {contact}" if contact else text
