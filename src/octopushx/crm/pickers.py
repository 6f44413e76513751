"""What the type-ahead pickers find and show: contacts, companies, deals and members the member
may see, each with a second line that tells namesakes apart (email and company; company and stage;
email and role). Used by the JSON search endpoints (``crm/views/pickers.py``) and the form fields
(``crm/forms.py``) alike, so a picked row reads the same before and after it is saved."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.urls import reverse_lazy

from octopushx.core.widgets import MultiPickerField, PickerField
from octopushx.crm import queries
from octopushx.crm.models import Company, Contact, Deal
from octopushx.crm.visibility import visible
from octopushx.tenancy.models import Membership

LIMIT = 20
MAX_QUERY = 100  # characters; a longer "search" is not someone typing a name


def _joined(*parts) -> str:
    return " · ".join(str(p) for p in parts if p)


def contact_detail(contact: Contact) -> str:
    return _joined(contact.email, contact.company.name if contact.company_id else "") or contact.phone


def company_detail(company: Company) -> str:
    return _joined(company.domain, company.city)


def deal_detail(deal: Deal) -> str:
    return _joined(deal.company.name if deal.company_id else "", deal.stage.name)


def member_label(membership: Membership) -> str:
    return membership.user.full_name or membership.user.email


def member_detail(membership: Membership) -> str:
    return _joined(membership.user.email, membership.get_role_display())


# --- what each picker searches -------------------------------------------------------


def contacts(tenant, membership) -> QuerySet:
    return visible(Contact, tenant, membership).select_related("company")


def companies(tenant, membership) -> QuerySet:
    return visible(Company, tenant, membership)


def deals(tenant, membership) -> QuerySet:
    return visible(Deal, tenant, membership).select_related("company", "stage")


def members(tenant) -> QuerySet:
    """Every member of the organisation: anyone who can see a record may hand it to a colleague."""
    return Membership.objects.filter(tenant=tenant).select_related("user")


def find(kind: str, tenant, membership, q: str) -> list[dict]:
    """Up to ``LIMIT`` rows of ``kind`` matching ``q`` (accents and case aside), as picker results."""
    q = (q or "").strip()
    if kind == "contacts":
        rows = queries.search_contacts(contacts(tenant, membership), tenant, q).order_by("last_name", "first_name")
        return [_result(c.pk, c.full_name, contact_detail(c)) for c in rows[:LIMIT]]
    if kind == "companies":
        rows = queries.search_companies(companies(tenant, membership), tenant, q).order_by("name")
        return [_result(c.pk, c.name, company_detail(c)) for c in rows[:LIMIT]]
    if kind == "deals":
        rows = queries.search_deals(deals(tenant, membership), tenant, q).order_by("-updated_at")
        return [_result(d.pk, d.name, deal_detail(d)) for d in rows[:LIMIT]]
    if kind == "members":
        rows = members(tenant)
        if q:
            rows = rows.filter(Q(queries.holds("user__full_name", q)) | Q(queries.holds("user__email", q)))
        return [_result(m.user_id, member_label(m), member_detail(m)) for m in rows.order_by("user__email")[:LIMIT]]
    raise KeyError(kind)


KINDS = ("contacts", "companies", "deals", "members")


def _result(value, text: str, detail: str) -> dict:
    return {"value": str(value), "text": text, "detail": detail or ""}


# --- form fields ---------------------------------------------------------------------


def contact_field(tenant, membership, *, many: bool = False, **kwargs):
    field_class = MultiPickerField if many else PickerField
    return field_class(
        contacts(tenant, membership),
        search_url=reverse_lazy("crm:pick", args=["contacts"]),
        label_from=lambda c: c.full_name,
        detail=contact_detail,
        placeholder="Type a name, email or phone…",
        required=False,
        **kwargs,
    )


def company_field(tenant, membership, **kwargs) -> PickerField:
    return PickerField(
        companies(tenant, membership),
        search_url=reverse_lazy("crm:pick", args=["companies"]),
        detail=company_detail,
        placeholder="Type a company name or domain…",
        required=False,
        **kwargs,
    )


def deal_field(tenant, membership, **kwargs) -> PickerField:
    return PickerField(
        deals(tenant, membership),
        search_url=reverse_lazy("crm:pick", args=["deals"]),
        detail=deal_detail,
        placeholder="Type a deal or company name…",
        required=False,
        **kwargs,
    )


def member_field(tenant, **kwargs) -> PickerField:
    """A member of the organisation; its value is the user's id (what the services take)."""
    return PickerField(
        members(tenant),
        search_url=reverse_lazy("crm:pick", args=["members"]),
        to_field_name="user_id",
        label_from=member_label,
        detail=member_detail,
        placeholder="Type a name or email…",
        required=False,
        **kwargs,
    )
