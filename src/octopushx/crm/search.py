"""The global search box: contacts, companies, deals and notes the member may see."""

from __future__ import annotations

import re

from django.urls import reverse

from octopushx.crm import queries
from octopushx.crm.models import Company, Contact, Deal, Note
from octopushx.crm.visibility import visible

TAGS = re.compile(r"<[^>]+>")


def search(tenant, membership, q: str, limit: int = 5) -> list[dict]:
    """Up to ``limit`` hits of each kind, best kinds first."""
    q = (q or "").strip()
    if not q:
        return []
    hits: list[dict] = []
    contacts = queries.search_contacts(visible(Contact, tenant, membership), tenant, q).select_related("company")
    for contact in contacts.order_by("last_name", "first_name")[:limit]:
        subtitle = " · ".join(p for p in (contact.email, contact.company.name if contact.company else "") if p)
        hits.append(_hit("contact", contact.pk, contact.full_name, subtitle, reverse("crm:contact", args=[contact.pk])))
    for company in queries.search_companies(visible(Company, tenant, membership), tenant, q).order_by("name")[:limit]:
        hits.append(
            _hit("company", company.pk, company.name, company.domain, reverse("crm:company", args=[company.pk]))
        )
    deals = queries.search_deals(visible(Deal, tenant, membership), tenant, q).select_related("stage")
    for deal in deals.order_by("-created_at")[:limit]:
        subtitle = f"{deal.value} {deal.currency} · {deal.stage.name}"
        hits.append(_hit("deal", deal.pk, deal.name, subtitle, reverse("crm:deal", args=[deal.pk])))
    notes = queries.search_notes(visible(Note, tenant, membership), tenant, q)
    for note in notes.order_by("-created_at")[:limit]:
        text = TAGS.sub(" ", note.body)
        related = note.contact_id or note.company_id or note.deal_id
        kind = "contact" if note.contact_id else "company" if note.company_id else "deal" if note.deal_id else None
        url = reverse(f"crm:{kind}", args=[related]) if kind else reverse("crm:contacts")
        hits.append(_hit("note", note.pk, note.subject or text[:60].strip() or "Note", text[:120].strip(), url))
    return hits


def _hit(kind: str, pk, title: str, subtitle: str, url: str) -> dict:
    return {"type": kind, "id": pk, "title": title, "subtitle": subtitle or "", "url": url}
