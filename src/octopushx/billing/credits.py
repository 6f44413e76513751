"""Credit notes: refunds and corrections of an issued invoice, which itself is never edited.

A credit note names the invoice, a reason and lines (amounts before tax) or credits everything
that is left. Tax is credited at the invoice's own rate and rule; together the credit notes of an
invoice never exceed it (before tax, tax and total). Numbers are gapless per issuer in a series of
their own (``CN-000001``). On an unpaid invoice a credit note lowers what is due, so dunning chases
only the net amount and a credit note that leaves nothing due ends it.

Who may issue one: the invoice's issuer (its owners and admins) and platform staff; never the
customer the invoice is addressed to.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum

from octopushx.billing import catalogue, clock, money
from octopushx.billing.models import (
    CreditNote,
    CreditNoteCounter,
    CreditNoteLine,
    Invoice,
    InvoiceStatus,
)
from octopushx.core import audit, events, jobs
from octopushx.core.context import Actor
from octopushx.tenancy.models import Membership, Organization
from octopushx.tenancy.roles import Role

NUMBER_PREFIX = "CN-"
MAX_LINES = 50
REASON_MAX = 500
EMAIL_JOB = "billing.credit_note_email"


@dataclass(frozen=True)
class Credited:
    """What the credit notes of one invoice add up to."""

    subtotal: Decimal
    tax: Decimal
    total: Decimal


def credited(invoice: Invoice) -> Credited:
    sums = CreditNote.objects.filter(invoice=invoice).aggregate(s=Sum("subtotal"), t=Sum("tax"), g=Sum("total"))
    zero = Decimal(0)
    return Credited(sums["s"] or zero, sums["t"] or zero, sums["g"] or zero)


def amount_due(invoice: Invoice) -> Decimal:
    """What the customer still owes on the invoice: nothing on a draft or a paid one, else total − credited."""
    if invoice.status != InvoiceStatus.ISSUED:
        return Decimal(0)
    return max(Decimal(0), invoice.total - credited(invoice).total)


def is_issuer_admin(actor: Actor, issuer_id) -> bool:
    return actor.user is not None and (
        Membership.objects.filter(user=actor.user, tenant_id=issuer_id, role__in=[Role.OWNER, Role.ADMIN]).exists()
    )


def can_credit(actor: Actor, invoice: Invoice) -> bool:
    """Platform staff and the issuer's owners and admins credit an invoice; its customer never does."""
    if actor.user is None:
        return actor.token is None and catalogue.is_platform_staff(actor)
    return catalogue.is_platform_staff(actor) or is_issuer_admin(actor, invoice.issuer_id)


def visible_credit_notes(tenant: Organization, actor: Actor):
    """Credit notes addressed to the caller's organisation, and those it issued (platform staff: all)."""
    if catalogue.is_platform_staff(actor) and actor.user is not None:
        return CreditNote.objects.all()
    return CreditNote.objects.filter(Q(tenant=tenant) | Q(issuer=tenant))


def find(tenant: Organization, actor: Actor, credit_note_id) -> CreditNote:
    from django.http import Http404

    try:
        found = visible_credit_notes(tenant, actor).filter(pk=credit_note_id).first()
    except (ValueError, ValidationError):
        found = None
    if found is None:
        raise Http404("No such credit note")
    return found


def _parse_lines(raw: Any, currency: str, errors: dict[str, list[str]]) -> list[tuple[str, Decimal]]:
    if not isinstance(raw, list) or not raw:
        errors["lines"] = ['Give at least one line {"description": ..., "amount": "10.00"}, or "full": true']
        return []
    if len(raw) > MAX_LINES:
        errors["lines"] = [f"At most {MAX_LINES} lines"]
        return []
    lines: list[tuple[str, Decimal]] = []
    for index, item in enumerate(raw):
        where = f"lines.{index}"
        description = str((item or {}).get("description") or "").strip() if isinstance(item, dict) else ""
        if not description or len(description) > 300:
            errors.setdefault(f"{where}.description", []).append("A description of 1 to 300 characters")
        try:
            amount = money.parse_price((item or {}).get("amount") if isinstance(item, dict) else None, currency)
            if amount <= 0:
                raise ValueError("An amount above zero")
        except ValueError as exc:
            errors.setdefault(f"{where}.amount", []).append(str(exc).replace("A price", "An amount"))
            continue
        lines.append((description, amount))
    return lines


def _next_number(issuer: Organization) -> tuple[int, str]:
    counter, _ = CreditNoteCounter.objects.get_or_create(issuer=issuer)
    counter = CreditNoteCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number, f"{NUMBER_PREFIX}{counter.last_number:06d}"


def issue_credit_note(
    invoice: Invoice, actor: Actor, *, reason: str, lines: Any = None, full: bool = False
) -> CreditNote:
    """Credit ``lines`` (before tax) or everything left (``full``) of an issued or paid invoice.

    Raises ``PermissionDenied`` for anyone but the issuer and platform staff, and ``ValidationError``
    (nothing written) when the input is wrong or the credit would exceed what is left.
    """
    from octopushx.billing import dunning

    if not can_credit(actor, invoice):
        raise PermissionDenied("Only the invoice's issuer (its owners and admins) or platform staff issue credit notes")
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        currency = locked.currency
        errors: dict[str, list[str]] = {}
        text = str(reason or "").strip()
        if not text or len(text) > REASON_MAX:
            errors["reason"] = [f"Say why, in 1 to {REASON_MAX} characters"]
        if locked.status == InvoiceStatus.DRAFT:
            errors["invoice"] = ["A draft is not credited: it is recomputed until it is issued"]
        if full and lines:
            errors["full"] = ['Either lines or "full": true, not both']
        before = credited(locked)
        left_subtotal = locked.subtotal - before.subtotal
        left_tax = locked.tax - before.tax
        parsed: list[tuple[str, Decimal]] = []
        if full and not lines:
            if left_subtotal <= 0 and left_tax <= 0:
                errors.setdefault("full", []).append(f"Nothing is left to credit on invoice {locked.number}")
            parsed = [(f"Full credit of invoice {locked.number}", left_subtotal)]
        elif not full:
            parsed = _parse_lines(lines, currency, errors)
        subtotal = sum((amount for _, amount in parsed), Decimal(0))
        if parsed and "lines" not in errors and subtotal > left_subtotal:
            errors["lines"] = [
                f"At most {money.format_amount(max(left_subtotal, Decimal(0)), currency)} {currency} before tax is "
                f"left to credit on invoice {locked.number} (asked {money.format_amount(subtotal, currency)})"
            ]
        if errors:
            raise ValidationError(errors)
        if subtotal == left_subtotal:
            tax = left_tax  # the last credit takes the invoice's tax exactly (no penny from rounding)
        else:
            tax = (subtotal * locked.tax_rate / 100).quantize(money.minor_unit(currency), rounding=ROUND_HALF_UP)
            tax = min(tax, left_tax)
        sequence, number = _next_number(locked.issuer)
        note = CreditNote.objects.create(
            tenant=locked.tenant,
            invoice=locked,
            issuer=locked.issuer,
            number=number,
            sequence=sequence,
            currency=currency,
            reason=text,
            subtotal=subtotal,
            tax=tax,
            tax_rate=locked.tax_rate,
            tax_rule=locked.tax_rule,
            total=subtotal + tax,
            issued_at=clock.now(),
            issued_by=actor.label[:254],
            created_at=clock.now(),
        )
        CreditNoteLine.objects.bulk_create(
            [
                CreditNoteLine(tenant=locked.tenant, credit_note=note, position=i, description=d[:300], amount=a)
                for i, (d, a) in enumerate(parsed)
            ]
        )
        changes = {
            "number": [None, number],
            "invoice": [None, locked.number],
            "total": [None, money.format_amount(note.total, currency)],
            "reason": [None, text],
        }
        audit.record(locked.tenant, actor, "credit_note.issued", obj=note, object_type="credit_note", changes=changes)
        if locked.issuer_id != locked.tenant_id:
            audit.record(
                locked.issuer, actor, "credit_note.issued", obj=note, object_type="credit_note", changes=changes
            )
        events.emit(
            locked.tenant,
            "credit_note.issued",
            {
                "credit_note_id": str(note.pk),
                "number": number,
                "invoice_id": str(locked.pk),
                "total": money.format_amount(note.total, currency),
            },
        )
        dunning.settle(locked.subscription, actor)  # nothing left due: back to active, reinstated
        jobs.submit(EMAIL_JOB, payload={"credit_note_id": str(note.pk)}, dedupe_key=f"{EMAIL_JOB}:{note.pk}")
    return note


@jobs.handler(EMAIL_JOB)
def send_credit_note_email(job) -> dict:
    """Email a credit note with its PDF to the billing contact (once: the job is deduplicated per note)."""
    from octopushx.billing import emails

    note = CreditNote.objects.select_related("invoice", "tenant").filter(pk=job.payload["credit_note_id"]).first()
    if note is None:
        return {"sent": 0}
    return {"sent": len(emails.send_credit_note(note))}
