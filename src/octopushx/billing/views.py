"""The Billing page (Settings): the subscription at a glance and the form that changes it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from octopushx.billing import catalogue, credits, documents, dunning, invoices, ledger, money, payments, services
from octopushx.billing.models import CreditNote, Interval, Payment, Pricing
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import _form_errors, requires


def _addons_from(post) -> list | str:
    """The ticked add-ons with their quantities, or a message when a quantity is not a number."""
    chosen = []
    for slug in post.getlist("addons"):
        raw = post.get(f"quantity_{slug}", "1").strip() or "1"
        try:
            chosen.append({"slug": slug, "quantity": int(raw)})
        except ValueError:
            return f"Enter a whole number of units for {slug}."
    return chosen


CARD_MESSAGES = {
    "card_saved": "Card saved: invoices are charged to it when they are issued.",
    "paid": "Thank you: the invoice is paid.",
    "paid_already": "Thank you: the invoice is paid.",
    "open": "Thank you: Stripe is confirming the payment; this page shows it once it has.",
}


@requires(Perm.ADMIN)
def subscription_page(request):
    if not services.enabled() or not services.is_billed(request.tenant):
        raise Http404("Billing is not turned on")
    subscription = services.current_subscription(request.tenant)
    if request.method == "GET" and request.GET.get("card") == "done":
        outcome = payments.complete_checkout(request.tenant, request.GET.get("session", ""))
        messages.success(request, CARD_MESSAGES.get(outcome, CARD_MESSAGES["open"]))
        return redirect("billing:subscription")
    if request.method == "GET" and request.GET.get("card") == "cancelled":
        messages.info(request, "Nothing was charged: you left Stripe's page before the end.")
        return redirect("billing:subscription")
    if request.method == "POST":
        addons = _addons_from(request.POST)
        seats_raw = request.POST.get("seats", "").strip()
        if isinstance(addons, str):
            messages.error(request, addons)
        elif not seats_raw.lstrip("-").isdigit():
            messages.error(request, "Enter the number of seats as a whole number.")
        else:
            try:
                services.change_subscription(
                    request.tenant,
                    request.actor,
                    plan=request.POST.get("plan") or None,
                    seats=int(seats_raw),
                    interval=request.POST.get("interval") or None,
                    addons=addons,
                    auto_renew=request.POST.get("auto_renew") == "on",
                    cancel_at_period_end=request.POST.get("cancel_at_period_end") == "on",
                )
                messages.success(request, "Subscription saved.")
                return redirect("billing:subscription")
            except ValidationError as exc:
                messages.error(request, _form_errors(exc))
        subscription = services.current_subscription(request.tenant)
    info = services.summary(subscription)
    version = subscription.version
    held = {row.addon_id: row.quantity for row in info["addons"]}
    usage = ledger.usage_report(request.tenant)
    minutes = next(m for m in usage["metrics"] if m["metric"] == "transcription_minutes")

    def price_of(item, interval):
        price = item.prices.filter(currency=subscription.currency, interval=interval).first()
        return money.format_amount(price.amount, price.currency) if price else None

    plans = [
        {
            "plan": plan,
            "month": price_of(plan, Interval.MONTH),
            "year": price_of(plan, Interval.YEAR),
            "features": [catalogue.feature_label(f) for f in plan.features],
        }
        for plan in version.plans.prefetch_related("prices").order_by("position")
    ]
    addons = [
        {
            "addon": addon,
            "month": price_of(addon, Interval.MONTH),
            "per_seat": addon.pricing == Pricing.PER_SEAT,
            "plan_seat": addon.pricing == Pricing.PLAN_SEAT,
            "quantity": held.get(addon.pk),
            "included": subscription.plan.slug in addon.included_in,
        }
        for addon in version.addons.prefetch_related("prices").order_by("position")
    ]
    invoice_rows = list(invoices.invoices_of(request.tenant)[:24])
    attempts: dict = {}
    for payment in Payment.objects.for_tenant(request.tenant).filter(invoice__in=invoice_rows):
        attempts.setdefault(payment.invoice_id, []).append(payment)
    for invoice in invoice_rows:
        invoice.attempts = attempts.get(invoice.pk, [])
    return render(
        request,
        "billing/subscription.html",
        {
            "subscription": subscription,
            "info": info,
            "plans": plans,
            "addons": addons,
            "features": [catalogue.feature_label(f) for f in info["features"]],
            "seat_price": price_of(subscription.plan, subscription.interval),
            # On trial more people may have joined than the seats set: offer enough for everyone.
            "seats_value": max(info["seats"], info["seats_used"]),
            "intervals": Interval.choices,
            "usage": usage,
            "usage_chart": {
                "type": "bar",
                "name": "Transcription minutes",
                "labels": [day["date"] for day in minutes["days"]],
                "values": [float(day["quantity"]) for day in minutes["days"]],
            },
            "suspend_after": dunning.suspend_after_days(),
            "overdue": [
                {
                    "invoice": invoice,
                    "due": money.format_amount(due, invoice.currency),
                    "due_on": dunning.due_date(invoice),
                }
                for invoice, due in dunning.overdue(request.tenant)
            ],
            "invoices": [_invoice_row(invoice) for invoice in invoice_rows],
            "credit_notes": list(
                credits.visible_credit_notes(request.tenant, request.actor)
                .filter(tenant=request.tenant)
                .select_related("invoice")[:24]
            ),
            "card_payments": payments.card_payments_enabled(),
            "payment_account": payments.account_of(request.tenant),
            "profile": services.profile_of(request.tenant),
        },
    )


@requires(Perm.ADMIN)
@require_POST
def billing_details(request):
    """The Billing details form: legal name, country, VAT number, business, billing email."""
    if not services.enabled() or not services.is_billed(request.tenant):
        raise Http404("Billing is not turned on")
    fields = {name: request.POST.get(name, "") for name in ("legal_name", "country", "vat_number", "email")}
    fields["business"] = request.POST.get("business") == "on"
    try:
        services.update_profile(request.tenant, request.actor, **fields)
        messages.success(request, "Billing details saved: the next invoices use them.")
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    return redirect("billing:subscription")


def _invoice_row(invoice) -> dict:
    """An invoice as the Billing page lists it: what was credited, what is still due and by when."""
    due = credits.amount_due(invoice)
    return {
        "invoice": invoice,
        "credited": money.format_amount(credits.credited(invoice).total, invoice.currency),
        "has_credit": invoice.credit_notes.exists(),
        "due": money.format_amount(due, invoice.currency) if due > 0 else None,
        "due_on": dunning.due_date(invoice),
    }


@requires(Perm.ADMIN)
def credit_note_pdf(request, credit_note_id):
    """A credit note of the organisation as PDF, for its owners and admins."""
    if not services.enabled() or not services.is_billed(request.tenant):
        raise Http404("Billing is not turned on")
    note = CreditNote.objects.get_for_tenant(request.tenant, credit_note_id)
    response = HttpResponse(documents.credit_note_pdf(note), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{documents.credit_note_filename(note)}"'
    return response


@requires(Perm.ADMIN)
def invoice_pdf(request, invoice_id):
    """The invoice as PDF, for the organisation's owners and admins."""
    if not services.enabled() or not services.is_billed(request.tenant):
        raise Http404("Billing is not turned on")
    invoice = invoices.invoices_of(request.tenant).get_for_tenant(request.tenant, invoice_id)
    response = HttpResponse(documents.invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{documents.filename(invoice)}"'
    return response


@requires(Perm.ADMIN)
@require_POST
def card_checkout(request):
    """Send the owner to Stripe's page: save a card, or pay the invoice named in ``invoice_id``."""
    if not services.enabled() or not services.is_billed(request.tenant) or not payments.card_payments_enabled():
        raise Http404("Card payment is not set up")
    invoice = None
    if request.POST.get("invoice_id"):
        invoice = invoices.invoices_of(request.tenant).get_for_tenant(request.tenant, request.POST["invoice_id"])
    page = request.build_absolute_uri(reverse("billing:subscription"))
    try:
        url = payments.start_checkout(
            request.tenant,
            request.actor,
            invoice=invoice,
            success_url=f"{page}?card=done&session={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{page}?card=cancelled",
        )
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
        return redirect("billing:subscription")
    except payments.PaymentProviderError as exc:
        messages.error(request, f"{exc}. Try again in a minute.")
        return redirect("billing:subscription")
    return redirect(url)
