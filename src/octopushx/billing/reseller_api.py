"""Reseller API: the price book, customers, wholesale statements and margins.

Reseller owners and admins reach their own programme; a customer (or anyone else) gets 404,
so wholesale prices never reach a customer. Platform staff pass ``?reseller=<id>`` to read any
reseller's. Another reseller's customer or statement is a 404, like every other tenant's row.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from ninja import Router, Schema

from octopushx.api.auth import require
from octopushx.api.errors import ErrorOut
from octopushx.billing import catalogue, money, resellers, services
from octopushx.billing.models import Statement
from octopushx.tenancy.models import Organization, OrgKind
from octopushx.tenancy.roles import Perm

router = Router(tags=["reseller"])

NOT_A_RESELLER = "Only resellers have a price book, customers and statements"


def _reseller(request, reseller_id: str | None = None) -> Organization:
    """The reseller the caller works for (platform staff: any one, by ``?reseller=``)."""
    require(request, Perm.ADMIN)
    if not services.enabled():
        raise Http404("Billing is not turned on for this installation")
    if reseller_id and catalogue.is_platform_staff(request.actor) and request.actor.user is not None:
        found = (
            Organization.objects.filter(pk=reseller_id, kind=OrgKind.RESELLER, deleted_at__isnull=True).first()
            if resellers._is_uuid(reseller_id)
            else None
        )
        if found is None:
            raise Http404("No reseller with that id")
        return found
    if request.tenant is None or request.tenant.kind != OrgKind.RESELLER:
        raise Http404(NOT_A_RESELLER)
    if reseller_id and reseller_id != str(request.tenant.pk):
        raise Http404("No reseller with that id")
    return request.tenant


# --- price book ------------------------------------------------------------------------------------


class PriceBookIn(Schema):
    currency: str = money.DEFAULT_CURRENCY
    plans: dict[str, Any] = {}
    addons: dict[str, Any] = {}
    confirm: bool = False


@router.get(
    "/billing/price-book",
    summary="The reseller's retail prices beside wholesale (reseller owners and admins)",
    response={200: dict, 404: ErrorOut},
)
def get_price_book(request, reseller: str | None = None):
    """Each plan and add-on price per interval: ``wholesale``, your ``retail`` (null: sold at list
    price) and the ``margin`` per unit, as decimal strings in the book's currency."""
    return resellers.price_book_out(_reseller(request, reseller))


@router.put(
    "/billing/price-book",
    summary="Replace the reseller's retail prices (reseller owners and admins)",
    response={200: dict, 404: ErrorOut},
)
def put_price_book(request, data: PriceBookIn):
    """``{"currency": "GBP", "plans": {"team": {"month": "45.00", "year": "450.00"}}, "addons":
    {"studio": {"month": "12.00"}}, "confirm": false}``. An item left out sells at list price. A price
    at wholesale is saved with a warning; below wholesale is a 422 unless ``"confirm": true``; a
    negative or malformed price, an unknown plan or add-on is a 422. Nothing changes on a 422.
    The new prices apply to every period whose last day comes after now."""
    reseller = _reseller(request)
    _, warnings = resellers.set_price_book(
        reseller, request.actor, currency=data.currency, plans=data.plans, addons=data.addons, confirm=data.confirm
    )
    return {**resellers.price_book_out(reseller), "warnings": warnings}


# --- customers ---------------------------------------------------------------------------------------


class ResellerCustomerIn(Schema):
    name: str
    admin_email: str
    plan: str
    seats: int
    trial: bool = True


class ResellerCustomerPatch(Schema):
    plan: str | None = None
    seats: int | None = None
    suspended: bool | None = None
    note: str = ""


@router.get(
    "/reseller/customers",
    summary="The reseller's customers: plan, seats, status, usage this period, last invoice",
    response={200: dict, 404: ErrorOut},
)
def list_customers(request, reseller: str | None = None):
    owner = _reseller(request, reseller)
    return {"items": [resellers.customer_out(customer) for customer in resellers.customers_of(owner)]}


@router.post(
    "/reseller/customers",
    summary="Create a customer: organisation, owner invitation, subscription (reseller owners and admins)",
    response={201: dict, 404: ErrorOut},
)
def create_customer(request, data: ResellerCustomerIn):
    """``{"name", "admin_email", "plan", "seats", "trial": true}``: the customer is created under
    your organisation, ``admin_email`` is invited as its owner, and its subscription starts (a 14-day
    trial on the chosen plan, or billed at once with ``"trial": false``). Unknown plan, seats below 1,
    an email that already administers one of your customers or a name you already use: 422, nothing made."""
    owner = _reseller(request)
    customer = resellers.create_customer(
        owner,
        request.actor,
        name=data.name,
        admin_email=data.admin_email,
        plan=data.plan,
        seats=data.seats,
        trial=data.trial,
    )
    return 201, resellers.customer_out(customer)


@router.get(
    "/reseller/customers/{customer_id}",
    summary="One customer of the reseller",
    response={200: dict, 404: ErrorOut},
)
def get_customer(request, customer_id: str):
    owner = _reseller_or_staff(request)
    return resellers.customer_out(resellers.find_customer(owner, request.actor, customer_id))


@router.patch(
    "/reseller/customers/{customer_id}",
    summary="Change a customer's plan or seats, suspend or reinstate it",
    response={200: dict, 404: ErrorOut},
)
def update_customer(request, customer_id: str, data: ResellerCustomerPatch):
    """``{"plan": "enterprise", "seats": 12, "suspended": true, "note": "..."}``: plan and seat changes
    follow the subscription rules (upgrades prorated at once); suspension uses Shield's suspension
    (members see why, data kept) and ``"suspended": false`` reinstates."""
    owner = _reseller_or_staff(request)
    customer = resellers.find_customer(owner, request.actor, customer_id)
    fields = data.model_dump(exclude_unset=True)
    resellers.update_customer(owner, request.actor, customer, **fields)
    return resellers.customer_out(customer)


@router.delete(
    "/reseller/customers/{customer_id}",
    summary="Close a customer: its subscription ends at the end of the period it is billed for",
    response={200: dict, 404: ErrorOut},
)
def close_customer(request, customer_id: str):
    """The customer keeps its service and data until its current period ends, then is no longer
    renewed or invoiced. Its data is not deleted: that stays its owner's decision."""
    owner = _reseller_or_staff(request)
    customer = resellers.find_customer(owner, request.actor, customer_id)
    resellers.close_customer(owner, request.actor, customer)
    return resellers.customer_out(customer)


def _reseller_or_staff(request) -> Organization:
    """The caller's reseller; platform staff reach a customer through its own reseller."""
    require(request, Perm.ADMIN)
    if not services.enabled():
        raise Http404("Billing is not turned on for this installation")
    if request.tenant is not None and request.tenant.kind == OrgKind.RESELLER:
        return request.tenant
    if catalogue.is_platform_staff(request.actor) and request.actor.user is not None:
        return request.tenant  # find_customer lets staff reach any reseller's customer
    raise Http404(NOT_A_RESELLER)


# --- statements and margins -----------------------------------------------------------------------------


def _statement_out(statement: Statement, *, lines: bool = True) -> dict[str, Any]:
    currency = statement.currency

    def amount(value) -> str:
        return money.format_amount(value, currency)

    out = {
        "id": str(statement.pk),
        "number": statement.number,
        "status": statement.status,
        "currency": currency,
        "month": statement.month.strftime("%Y-%m"),
        "issued_at": statement.issued_at.isoformat(),
        "paid_at": statement.paid_at.isoformat() if statement.paid_at else None,
        "subtotal": amount(statement.subtotal),
        "tax": amount(statement.tax),
        "tax_rule": statement.tax_rule,
        "total": amount(statement.total),
    }
    if lines:
        out["lines"] = [
            {
                "customer_id": str(line.customer_id),
                "description": line.description,
                "invoices": line.invoices,
                "quantity": "1",
                "unit_price": amount(line.amount),
                "amount": amount(line.amount),
            }
            for line in statement.lines.all()
        ]
    return out


@router.get(
    "/reseller/statements",
    summary="The platform's monthly wholesale statements to the reseller, newest first",
    response={200: dict, 404: ErrorOut},
)
def list_statements(request, reseller: str | None = None):
    """One statement per month (and currency) with a line per customer: the wholesale cost of the
    customer's invoices issued that month. Issued by the billing run once the month is over."""
    owner = _reseller(request, reseller)
    return {"items": [_statement_out(s) for s in resellers.statements_of(owner).prefetch_related("lines")]}


@router.get(
    "/reseller/statements/{statement_id}",
    summary="One wholesale statement with its lines",
    response={200: dict, 404: ErrorOut},
)
def get_statement(request, statement_id: str):
    owner = _reseller_or_staff(request)
    return _statement_out(resellers.find_statement(owner, request.actor, statement_id))


@router.get(
    "/reseller/statements/{statement_id}/pdf",
    summary="One wholesale statement as PDF",
    response={200: None, 404: ErrorOut},
)
def get_statement_pdf(request, statement_id: str):
    from octopushx.billing import documents

    owner = _reseller_or_staff(request)
    statement = resellers.find_statement(owner, request.actor, statement_id)
    response = HttpResponse(documents.statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{documents.statement_filename(statement)}"'
    return response


@router.post(
    "/reseller/statements/{statement_id}/mark-paid",
    summary="Record that the reseller paid a statement (platform staff)",
    response={200: dict, 404: ErrorOut},
)
def mark_statement_paid(request, statement_id: str):
    """Platform staff only: the reseller itself gets 403; a statement paid already is a 422."""
    from django.core.exceptions import PermissionDenied

    statement = resellers.find_statement(request.tenant, request.actor, statement_id)  # another reseller's: 404
    if not catalogue.is_platform_staff(request.actor):
        raise PermissionDenied("Only platform staff mark statements paid")
    if not services.enabled():
        raise Http404("Billing is not turned on for this installation")
    return _statement_out(resellers.mark_statement_paid(statement, request.actor))


@router.get(
    "/reseller/margins",
    summary="Revenue, wholesale cost and margin per month and customer (pre-tax)",
    response={200: dict, 404: ErrorOut},
)
def get_margins(request, month: str | None = None, reseller: str | None = None):
    """``?month=YYYY-MM`` for one month; months are those the customers' invoices were issued in, as
    on the statements. ``/reseller/margins.csv`` answers the same as CSV."""
    owner = _reseller(request, reseller)
    return resellers.margin_report(owner, resellers.parse_month(month))


@router.get(
    "/reseller/margins.csv",
    summary="The margin report as CSV",
    response={200: None, 404: ErrorOut},
)
def get_margins_csv(request, month: str | None = None, reseller: str | None = None):
    owner = _reseller(request, reseller)
    body = resellers.margin_csv(owner, resellers.parse_month(month))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="margins{"-" + month if month else ""}.csv"'
    return response
