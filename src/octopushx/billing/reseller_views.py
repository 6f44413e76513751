"""The reseller console (Settings → Customers, Price book, Margins): pages over ``billing.resellers``.

Only a reseller's owners and admins reach them (others: 403 by role, 404 outside a reseller).
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from octopushx.billing import catalogue, money, resellers, services
from octopushx.tenancy.models import OrgKind
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import _form_errors, requires


def reseller_page(view):
    """The page needs billing on and the caller working in a reseller organisation, as an admin."""

    @requires(Perm.ADMIN)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not services.enabled() or request.tenant.kind != OrgKind.RESELLER:
            raise Http404("Only resellers have a console")
        return view(request, *args, **kwargs)

    return wrapped


def _int(raw: str | None) -> int | str:
    """A whole number typed in a form, or the text as typed (the service names what is wrong)."""
    text = (raw or "").strip()
    return int(text) if text.lstrip("-").isdigit() else text


@reseller_page
def customers(request):
    reseller = request.tenant
    form = {"name": "", "admin_email": "", "plan": "team", "seats": "1", "trial": True}
    if request.method == "POST":
        form = {
            "name": request.POST.get("name", ""),
            "admin_email": request.POST.get("admin_email", ""),
            "plan": request.POST.get("plan", ""),
            "seats": request.POST.get("seats", ""),
            "trial": request.POST.get("trial") == "on",
        }
        try:
            customer = resellers.create_customer(
                reseller,
                request.actor,
                name=form["name"],
                admin_email=form["admin_email"],
                plan=form["plan"],
                seats=_int(form["seats"]),
                trial=form["trial"],
            )
            messages.success(
                request, f"{customer.name} created; {form['admin_email'].strip()} is invited as its owner."
            )
            return redirect("reseller:customers")
        except ValidationError as exc:
            messages.error(request, _form_errors(exc))
    rows = [resellers.customer_out(customer) for customer in resellers.customers_of(reseller)]
    return render(
        request,
        "billing/reseller_customers.html",
        {"rows": rows, "plans": catalogue.current_version().plans.order_by("position"), "form": form},
        status=422 if request.method == "POST" else 200,
    )


@reseller_page
def customer(request, customer_id):
    reseller = request.tenant
    found = resellers.find_customer(reseller, request.actor, customer_id)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "change":
                resellers.update_customer(
                    reseller,
                    request.actor,
                    found,
                    plan=request.POST.get("plan") or None,
                    seats=_int(request.POST.get("seats")),
                )
                messages.success(request, "Subscription changed.")
            elif action in ("suspend", "reinstate"):
                resellers.update_customer(
                    reseller, request.actor, found, suspended=action == "suspend", note=request.POST.get("note", "")
                )
                messages.success(request, f"{found.name} {'suspended' if action == 'suspend' else 'reinstated'}.")
            elif action == "close":
                resellers.close_customer(reseller, request.actor, found)
                messages.success(request, f"{found.name}'s subscription ends at the end of its current period.")
            else:
                messages.error(request, "Unknown action.")
            return redirect("reseller:customer", customer_id=found.pk)
        except ValidationError as exc:
            messages.error(request, _form_errors(exc))
    from octopushx.billing.models import Invoice
    from octopushx.tenancy import support

    return render(
        request,
        "billing/reseller_customer.html",
        {
            "customer": found,
            "row": resellers.customer_out(found),
            "plans": catalogue.current_version().plans.order_by("position"),
            "invoices": list(Invoice.objects.for_tenant(found).order_by("-period_start")[:24]),
            "support_grant": support.live_grant(found),
        },
    )


@reseller_page
def price_book(request):
    reseller = request.tenant
    book = resellers.price_book_out(reseller)
    if request.method == "POST":
        currency = request.POST.get("currency", book["currency"])
        plans: dict = {}
        addons: dict = {}
        for item in book["items"]:
            raw = request.POST.get(f"{item['kind']}:{item['slug']}:{item['interval']}", "").strip()
            if raw:
                target = plans if item["kind"] == "plan" else addons
                target.setdefault(item["slug"], {})[item["interval"]] = raw
        try:
            _, warnings = resellers.set_price_book(
                reseller, request.actor, currency=currency, plans=plans, addons=addons,
                confirm=request.POST.get("confirm") == "on",
            )  # fmt: skip
            for warning in warnings:
                messages.warning(request, warning)
            messages.success(request, "Price book saved: new prices apply to every period that ends from now on.")
            return redirect("reseller:price_book")
        except ValidationError as exc:
            messages.error(request, _form_errors(exc))
            for item in book["items"]:
                typed = request.POST.get(f"{item['kind']}:{item['slug']}:{item['interval']}", "").strip()
                item["retail"] = typed or None
    return render(
        request,
        "billing/reseller_price_book.html",
        {"book": book, "currencies": list(money.MINOR_UNITS)},
        status=422 if request.method == "POST" else 200,
    )


@reseller_page
def margins(request):
    reseller = request.tenant
    try:
        month = resellers.parse_month(request.GET.get("month"))
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
        month = None
    report = resellers.margin_report(reseller, month)
    months = sorted({row["month"] for row in resellers.margin_report(reseller)["items"]}, reverse=True)
    return render(
        request,
        "billing/reseller_margins.html",
        {
            "report": report,
            "month": month.strftime("%Y-%m") if month else "",
            "months": months,
            "statements": list(resellers.statements_of(reseller)[:24]),
        },
    )


@reseller_page
def margins_csv(request):
    try:
        month = resellers.parse_month(request.GET.get("month"))
    except ValidationError:
        raise Http404("A month as YYYY-MM")
    response = HttpResponse(resellers.margin_csv(request.tenant, month), content_type="text/csv; charset=utf-8")
    name = f"margins-{month:%Y-%m}.csv" if month else "margins.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@reseller_page
def statement(request, statement_id):
    found = resellers.find_statement(request.tenant, request.actor, statement_id)
    return render(request, "billing/reseller_statement.html", {"statement": found, "lines": list(found.lines.all())})


@reseller_page
def statement_pdf(request, statement_id):
    from octopushx.billing import documents

    found = resellers.find_statement(request.tenant, request.actor, statement_id)
    response = HttpResponse(documents.statement_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{documents.statement_filename(found)}"'
    return response
