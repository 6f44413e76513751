"""Billing emails: the invoice when it is issued, payment reminders and the suspension notice.

Each goes to the organisation's billing contact (the billing profile's email when set, else its
owners) with the invoice PDF attached, in the brand the customer works under: sender, product
name and support contact are the brand's, so a reseller's customer never reads the platform's name.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.mail import EmailMessage

from octopushx.billing import documents, money
from octopushx.billing.models import BillingProfile, Invoice, NoticeKind
from octopushx.tenancy import branding
from octopushx.tenancy.models import Membership, Organization
from octopushx.tenancy.roles import Role


def recipients(tenant: Organization) -> list[str]:
    """The billing contact: the billing profile's email, else every owner's."""
    profile = BillingProfile.objects.for_tenant(tenant).first()
    if profile is not None and profile.email:
        return [profile.email]
    owners = Membership.objects.filter(tenant=tenant, role=Role.OWNER, user__is_active=True).select_related("user")
    return sorted({m.user.email for m in owners if m.user.email})


def long_date(day) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def how_to_pay(invoice: Invoice, due: Decimal, brand: branding.ResolvedBrand) -> str:
    """The paragraph every billing email (and the suspension notice) ends with."""
    amount = f"{money.format_amount(due, invoice.currency)} {invoice.currency}"
    lines = [
        f"How to pay: transfer {amount} quoting {invoice.number} as the reference. "
        "Owners and admins find every invoice and its PDF under Settings → Billing.",
        "Once payment is recorded, the organisation is reinstated at once.",
    ]
    contact = brand.support_email or brand.support_url
    if contact:
        lines.append(f"Questions about this invoice: {contact}")
    return "\n".join(lines)


def _subject_and_body(
    invoice: Invoice, kind: str, due: Decimal, due_on, brand: branding.ResolvedBrand, days: int
) -> tuple[str, str]:
    product = brand.product_name
    amount = f"{money.format_amount(due, invoice.currency)} {invoice.currency}"
    name = (invoice.customer or {}).get("name") or invoice.tenant.name
    period = f"{long_date(invoice.period_start)} – {long_date(invoice.period_end)}"
    if kind == NoticeKind.ISSUED:
        subject = f"{product} invoice {invoice.number}: {amount} due {long_date(due_on)}"
        opening = (
            f"Hello,\n\nyour {product} invoice {invoice.number} for {name} ({period}) is attached.\n"
            f"Total: {money.format_amount(invoice.total, invoice.currency)} {invoice.currency}, "
            f"due on {long_date(due_on)}."
        )
    elif kind == NoticeKind.SUSPENDED:
        subject = f"{product}: {name} is suspended for non-payment of invoice {invoice.number}"
        opening = (
            f"Hello,\n\ninvoice {invoice.number} ({amount} due on {long_date(due_on)}) is still unpaid "
            f"{days} days after its due date, so {name} is suspended for non-payment. Nothing has been "
            "deleted: members cannot sign in until the invoice is paid."
        )
    else:
        subject = f"Reminder: {product} invoice {invoice.number} is overdue ({amount})"
        opening = (
            f"Hello,\n\ninvoice {invoice.number} for {name} ({period}) was due on {long_date(due_on)} "
            f"and {amount} is still unpaid ({days} day{'s' if days != 1 else ''} overdue). It is attached again."
        )
    body = f"{opening}\n\n{how_to_pay(invoice, due, brand)}\n\n— {brand.sender_name or product}\n"
    return subject, body


def send(invoice: Invoice, kind: str, *, due: Decimal, due_on, days: int = 0) -> list[str]:
    """Send one billing email about ``invoice`` with its PDF; returns who it went to (none: not sent)."""
    to = recipients(invoice.tenant)
    if not to:
        return []
    brand = branding.for_organization(invoice.tenant)
    subject, body = _subject_and_body(invoice, kind, due, due_on, brand, days)
    message = EmailMessage(subject[:200], body, brand.from_email, to)
    message.attach(documents.filename(invoice), documents.invoice_pdf(invoice), "application/pdf")
    message.send()
    return to


def send_credit_note(note) -> list[str]:
    """Send a credit note, with its PDF, to the billing contact of the organisation it credits."""
    to = recipients(note.tenant)
    if not to:
        return []
    invoice = note.invoice
    brand = branding.for_organization(note.tenant)
    product = brand.product_name
    total = f"{money.format_amount(note.total, note.currency)} {note.currency}"
    subject = f"{product} credit note {note.number} for invoice {invoice.number}: {total}"
    body = (
        f"Hello,\n\ncredit note {note.number} credits {total} (tax at the invoice's rule) on invoice "
        f"{invoice.number}. Reason: {note.reason}\nIt is attached; Settings → Billing lists it with the invoice.\n"
    )
    from octopushx.billing import credits

    due = credits.amount_due(invoice)
    if invoice.status == "issued":
        body += f"\nStill due on invoice {invoice.number}: {money.format_amount(due, invoice.currency)} {invoice.currency}.\n"
    contact = brand.support_email or brand.support_url
    if contact:
        body += f"\nQuestions: {contact}\n"
    body += f"\n— {brand.sender_name or product}\n"
    message = EmailMessage(subject[:200], body, brand.from_email, to)
    message.attach(documents.credit_note_filename(note), documents.credit_note_pdf(note), "application/pdf")
    message.send()
    return to
