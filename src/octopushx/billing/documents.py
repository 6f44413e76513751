"""The invoice PDF, drawn by the platform's one renderer (``core.pdf``)."""

from __future__ import annotations

from octopushx.billing import money
from octopushx.billing.models import CreditNote, Invoice
from octopushx.core import pdf
from octopushx.tenancy import branding


def filename(invoice: Invoice) -> str:
    return f"invoice-{invoice.number or 'draft-' + invoice.period_start.isoformat()}.pdf"


def _long(day) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def invoice_pdf(invoice: Invoice) -> bytes:
    """Issuer, customer, period, the lines, subtotal, tax (with the rule that applied) and total."""
    # in the brand the customer works under: a reseller's customer never sees the platform's name
    brand = branding.for_organization(invoice.tenant)
    currency = invoice.currency
    customer = invoice.customer or {}
    facts = [
        ("Number", invoice.number or "Draft (numbered when issued)"),
        ("Status", invoice.get_status_display()),
        ("Period", f"{_long(invoice.period_start)} – {_long(invoice.period_end)}"),
        ("Customer", customer.get("name") or invoice.tenant.name),
        ("Country", customer.get("country", "")),
    ]
    if customer.get("vat_number"):
        facts.append(("VAT number", customer["vat_number"]))
    if invoice.issued_at:
        facts.append(("Issued", _long(invoice.issued_at.date())))
    from octopushx.billing import credits, dunning

    due_on = dunning.due_date(invoice)
    if due_on and invoice.status == "issued":
        facts.append(("Due", _long(due_on)))
    if invoice.paid_at:
        facts.append(("Paid", _long(invoice.paid_at.date())))
    header = pdf.Header(
        title=f"Invoice {invoice.number}" if invoice.number else "Draft invoice",
        organisation=brand.product_name,
        brand=brand.product_name,
        accent=brand.primary_color or None,
        facts=facts,
        footer=f"{brand.product_name} · amounts in {currency}",
    )

    def amount(value) -> str:
        return money.format_amount(value, currency)

    def build(styles: pdf.Styles) -> list:
        rows = [
            [line.description, format(line.quantity.normalize(), "f"), format(line.unit_price.normalize(), "f"),
             amount(line.amount)]
            for line in invoice.lines.all()
        ]  # fmt: skip
        rows += [
            ["Subtotal", "", "", amount(invoice.subtotal)],
            [invoice.tax_rule, "", "", amount(invoice.tax)],
            [f"Total ({currency})", "", "", amount(invoice.total)],
        ]
        notes = list(invoice.credit_notes.order_by("sequence"))
        rows += [[f"Credit note {note.number}: {note.reason}", "", "", amount(-note.total)] for note in notes]
        if notes and invoice.status == "issued":
            rows.append([f"Amount due ({currency})", "", "", amount(credits.amount_due(invoice))])
        return pdf.data_table(
            styles, ["Description", "Quantity", "Unit price", "Amount"], rows, numeric=(1, 2, 3), emphasis_last=True
        )

    return pdf.render(header, build=build)


def credit_note_filename(note: CreditNote) -> str:
    return f"credit-note-{note.number}.pdf"


def credit_note_pdf(note: CreditNote) -> bytes:
    """The credit note: the invoice it credits, the reason, the lines, tax at the invoice's rule, total."""
    brand = branding.for_organization(note.tenant)
    currency = note.currency
    invoice = note.invoice
    customer = invoice.customer or {}
    facts = [
        ("Number", note.number),
        ("Credits invoice", invoice.number),
        ("Issued", _long(note.issued_at.date())),
        ("Customer", customer.get("name") or note.tenant.name),
        ("Reason", note.reason),
    ]
    header = pdf.Header(
        title=f"Credit note {note.number}",
        organisation=brand.product_name,
        brand=brand.product_name,
        accent=brand.primary_color or None,
        facts=facts,
        footer=f"{brand.product_name} · amounts in {currency}",
    )

    def amount(value) -> str:
        return money.format_amount(value, currency)

    def build(styles: pdf.Styles) -> list:
        rows = [[line.description, amount(line.amount)] for line in note.lines.all()]
        rows += [
            ["Subtotal", amount(note.subtotal)],
            [note.tax_rule, amount(note.tax)],
            [f"Total credited ({currency})", amount(note.total)],
        ]
        return pdf.data_table(styles, ["Description", "Amount"], rows, numeric=(1,), emphasis_last=True)

    return pdf.render(header, build=build)


def statement_filename(statement) -> str:
    return f"statement-{statement.number}.pdf"


def statement_pdf(statement) -> bytes:
    """The platform's wholesale statement to a reseller: a line per customer, subtotal, tax, total."""
    brand = branding.for_organization(statement.issuer)
    currency = statement.currency
    facts = [
        ("Number", statement.number),
        ("Month", statement.month.strftime("%B %Y")),
        ("Reseller", statement.tenant.name),
        ("Issued", _long(statement.issued_at.date())),
    ]
    if statement.paid_at:
        facts.append(("Paid", _long(statement.paid_at.date())))
    header = pdf.Header(
        title=f"Wholesale statement {statement.number}",
        organisation=brand.product_name,
        brand=brand.product_name,
        accent=brand.primary_color or None,
        facts=facts,
        footer=f"{brand.product_name} · amounts in {currency}",
    )

    def amount(value) -> str:
        return money.format_amount(value, currency)

    def build(styles: pdf.Styles) -> list:
        rows = [
            [line.customer.name, ", ".join(line.invoices), amount(line.retail_subtotal), amount(line.amount)]
            for line in statement.lines.select_related("customer")
        ]
        rows += [
            ["Subtotal", "", "", amount(statement.subtotal)],
            [statement.tax_rule, "", "", amount(statement.tax)],
            [f"Total ({currency})", "", "", amount(statement.total)],
        ]
        return pdf.data_table(
            styles,
            ["Customer", "Their invoices", "You invoiced", "Wholesale"],
            rows,
            numeric=(2, 3),
            emphasis_last=True,
        )

    return pdf.render(header, build=build)
