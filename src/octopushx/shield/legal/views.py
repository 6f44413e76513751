"""Public legal pages, the accept page, cookie choices, and publishing documents."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from octopushx.accounts.views import _safe_next
from octopushx.shield.legal import consent, services
from octopushx.shield.legal.models import Acceptance, DocumentKind, LegalDocument
from octopushx.tenancy.models import Organization, OrgKind
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import _form_errors, requires


def _brand(request) -> Organization | None:
    """A reseller's public pages pass ``?brand=<id>``; signed-in users see their tenant's; on a brand's
    verified domain, visitors see that brand's."""
    wanted = request.GET.get("brand")
    if wanted:
        try:
            return Organization.objects.get(
                pk=wanted, kind__in=[OrgKind.RESELLER, OrgKind.PLATFORM], deleted_at__isnull=True
            )
        except (Organization.DoesNotExist, ValueError, ValidationError):
            raise Http404("No such brand")
    tenant = getattr(request, "tenant", None)
    host_brand = getattr(request, "brand_owner_id", None)
    if tenant is None and host_brand is not None:
        return Organization.objects.filter(pk=host_brand, deleted_at__isnull=True).first()
    return tenant


def document(request, kind: str):
    doc = services.current(kind, _brand(request))
    if doc is None:
        raise Http404("This document has not been published")
    return render(
        request,
        "shield/legal_document.html",
        {"doc": doc, "html": services.render(doc.body), "kinds": DocumentKind.choices},
    )


@login_required
def accept(request):
    tenant = request.tenant
    if tenant is None:
        return redirect("home")
    role = request.membership.role if request.membership else None
    pending = services.pending_for(request.user, tenant, role)
    target = _safe_next(request, "/")
    if not pending:
        return redirect(target)
    error = None
    if request.method == "POST":
        ticked = set(request.POST.getlist("accept"))
        if ticked >= {str(d.pk) for d in pending}:
            services.accept(tenant, request.actor, pending)
            messages.success(request, "Thank you. Your acceptance is recorded.")
            return redirect(target)
        error = "Tick each document to accept it; you can read them in full first."
    docs = [(d, services.render(d.body)) for d in pending]
    return render(request, "shield/legal_accept.html", {"docs": docs, "error": error, "next": target})


def cookies(request):
    """GET: the current choice and a form to change it; POST: remember the choice."""
    if request.method == "POST":
        choice = request.POST.get("choice", "")
        if choice not in consent.CHOICES:
            return render(
                request,
                "shield/legal_cookies.html",
                {"consent": consent.read(request), "error": "Choose essential only or analytics too."},
                status=422,
            )
        response = redirect(_safe_next(request, "/accounts/login/"))
        consent.remember(response, analytics=choice == "analytics")
        return response
    return render(request, "shield/legal_cookies.html", {"consent": consent.read(request)})


@requires(Perm.ADMIN)
def manage(request):
    """What applies to this tenant, who accepted it, and (platform/resellers) publishing."""
    tenant = request.tenant
    publisher = services.can_publish(tenant, request.membership.role)
    if request.method == "POST":
        if not publisher:
            raise PermissionDenied("Only platform or reseller admins publish legal documents")
        try:
            doc = services.publish(
                tenant,
                request.actor,
                kind=request.POST.get("kind", ""),
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
                summary=request.POST.get("summary", ""),
            )
            messages.success(request, f"{doc} is published.")
            return redirect("shield:legal")
        except ValidationError as exc:
            messages.error(request, _form_errors(exc))
    context = {
        "current": services.current_documents(tenant),
        "kinds": DocumentKind.choices,
        "publisher": publisher,
        "published": LegalDocument.objects.for_tenant(tenant) if publisher else [],
        "acceptances": Acceptance.objects.for_tenant(tenant).select_related("user")[:200],
        "pending": services.pending_for(request.user, tenant, request.membership.role),
    }
    return render(request, "shield/legal_manage.html", context)
