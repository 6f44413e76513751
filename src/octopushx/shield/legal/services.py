"""Legal documents: publishing versions, finding the current one for a brand, acceptances.

The documents that apply to a tenant are the newest published versions found walking up
its organisation tree (the tenant, its reseller, the platform): a reseller brand can
publish its own terms, otherwise the platform's apply.
"""

from __future__ import annotations

import re

import markdown
import nh3
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.shield.legal.models import Acceptance, DocumentKind, LegalDocument
from octopushx.tenancy.models import Organization, OrgKind
from octopushx.tenancy.roles import Role

# Every user accepts these at first sign-in and again after a new version.
USER_KINDS = (DocumentKind.TERMS, DocumentKind.AUP)
# An owner accepts these on behalf of the customer organisation.
OWNER_KINDS = (DocumentKind.DPA,)
TITLE_MAX = 200
BODY_MAX = 200_000

ALLOWED_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def render(body: str) -> SafeString:
    """Markdown to HTML, then sanitised: no scripts, styles, event handlers or odd URLs."""
    html = markdown.markdown(body or "", extensions=["tables", "sane_lists"])
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    # The page's title is its one h1: the document's own headings go one level down.
    clean = re.sub(r"<(/?)h([1-5])>", lambda m: f"<{m[1]}h{int(m[2]) + 1}>", clean)
    return mark_safe(clean)  # noqa: S308 (sanitised by nh3 just above)


def brand_chain(tenant: Organization | None) -> list[Organization]:
    """Where documents are looked for, nearest first; anonymous visitors get the platform's."""
    if tenant is not None:
        return [tenant, *tenant.ancestors()]
    return list(Organization.objects.filter(kind=OrgKind.PLATFORM).order_by("created_at")[:1])


def current_documents(tenant: Organization | None, kinds=None) -> dict[str, LegalDocument]:
    """The newest published version of each kind for the tenant's brand (one query)."""
    chain = brand_chain(tenant)
    rank = {org.pk: position for position, org in enumerate(chain)}
    docs = LegalDocument.objects.filter(tenant__in=chain, published_at__lte=timezone.now())
    if kinds is not None:
        docs = docs.filter(kind__in=list(kinds))
    found: dict[str, LegalDocument] = {}
    for doc in sorted(docs, key=lambda d: (rank[d.tenant_id], -d.version)):
        found.setdefault(doc.kind, doc)
    return found


def current(kind: str, tenant: Organization | None = None) -> LegalDocument | None:
    return current_documents(tenant, [kind]).get(kind)


def pending_for(user, tenant: Organization | None, role: str | None) -> list[LegalDocument]:
    """Current documents this user still has to accept in this tenant, in a stable order."""
    kinds = list(USER_KINDS)
    owner_duty = role == Role.OWNER and tenant is not None and tenant.kind == OrgKind.CUSTOMER
    if owner_duty:
        kinds += list(OWNER_KINDS)
    docs = current_documents(tenant, kinds)
    if not docs:
        return []
    user_docs = [d for k, d in docs.items() if k in USER_KINDS]
    accepted = set(Acceptance.objects.filter(user=user, document__in=user_docs).values_list("document_id", flat=True))
    pending = [d for d in user_docs if d.pk not in accepted]
    for kind in OWNER_KINDS:
        doc = docs.get(kind)
        if owner_duty and doc and not Acceptance.objects.for_tenant(tenant).filter(document=doc).exists():
            pending.append(doc)
    order = [k.value for k in DocumentKind]
    return sorted(pending, key=lambda d: order.index(d.kind))


def can_publish(tenant: Organization | None, role: str | None) -> bool:
    return (
        tenant is not None and tenant.kind in (OrgKind.PLATFORM, OrgKind.RESELLER) and role in (Role.OWNER, Role.ADMIN)
    )


@transaction.atomic
def publish(
    publisher: Organization, actor: Actor, *, kind: str, title: str, body: str, summary: str = ""
) -> LegalDocument:
    """Publish a new version of a document for the platform or a reseller brand."""
    if actor.user is not None and not can_publish(publisher, actor.role):
        raise PermissionDenied("Only platform or reseller admins publish legal documents")
    title, body, summary = (title or "").strip(), (body or "").strip(), (summary or "").strip()
    errors: dict[str, list[str]] = {}
    if kind not in DocumentKind.values:
        errors["kind"] = [f"Choose one of: {', '.join(DocumentKind.values)}"]
    if not title:
        errors["title"] = ["A title is required"]
    elif len(title) > TITLE_MAX:
        errors["title"] = [f"At most {TITLE_MAX} characters"]
    if not body:
        errors["body"] = ["The document is empty"]
    elif len(body) > BODY_MAX:
        errors["body"] = [f"At most {BODY_MAX} characters"]
    if len(summary) > 500:
        errors["summary"] = ["At most 500 characters"]
    if publisher.kind not in (OrgKind.PLATFORM, OrgKind.RESELLER):
        errors["kind"] = ["Only the platform and resellers publish legal documents"]
    if errors:
        raise ValidationError(errors)
    latest = LegalDocument.objects.for_tenant(publisher).filter(kind=kind).aggregate(v=Max("version"))["v"]
    doc = LegalDocument.objects.create(
        tenant=publisher,
        kind=kind,
        version=(latest or 0) + 1,
        title=title,
        body=body,
        summary=summary,
        published_at=timezone.now(),
        published_by=actor.user,
    )
    audit.record(
        publisher,
        actor,
        "legal.published",
        obj=doc,
        changes={"kind": [None, kind], "version": [None, doc.version], "title": [None, title]},
    )
    events.emit(publisher, "legal.published", {"document_id": str(doc.pk), "kind": kind, "version": doc.version})
    return doc


@transaction.atomic
def accept(tenant: Organization, actor: Actor, documents: list[LegalDocument]) -> list[Acceptance]:
    """Record that the actor accepted these versions (who, which version, when, from which IP)."""
    if actor.user is None:
        raise ValidationError({"documents": ["Only a signed-in person can accept documents"]})
    records = []
    for doc in documents:
        if doc.kind in OWNER_KINDS and actor.role != Role.OWNER:
            raise PermissionDenied("Only an owner accepts the data processing agreement")
        record = Acceptance.objects.create(
            tenant=tenant,
            user=actor.user,
            document=doc,
            kind=doc.kind,
            version=doc.version,
            ip=actor.ip,
            user_agent=(actor.user_agent or "")[:300],
        )
        audit.record(
            tenant,
            actor,
            "legal.accepted",
            obj=record,
            changes={"document": [None, f"{doc.kind} v{doc.version}"], "document_id": [None, str(doc.pk)]},
        )
        records.append(record)
    return records
