"""Settings pages: organisation profile, members and roles, invitations, managed organisations."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from octopushx.core.context import Actor
from octopushx.tenancy import services
from octopushx.tenancy.middleware import SESSION_KEY
from octopushx.tenancy.models import Membership, Organization, OrgKind, WeekStart
from octopushx.tenancy.roles import Perm, Role, has_perm


def requires(perm: Perm):
    """The view needs a tenant and a role with ``perm``; otherwise 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if request.tenant is None:
                return redirect("home")
            if not has_perm(request.membership.role, perm):
                raise PermissionDenied(f"Your role cannot do this ({perm.value})")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _form_errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for msgs in exc.message_dict.values() for m in msgs)
    return " ".join(exc.messages)


@login_required
@require_POST
def switch(request):
    wanted = request.POST.get("tenant", "")
    membership = next((m for m in request.memberships if str(m.tenant_id) == wanted), None)
    if membership is None:
        # A reseller admin enters a customer only while the customer grants support access.
        from octopushx.tenancy import support
        from octopushx.tenancy.middleware import support_session

        membership = support_session(request.user, wanted) if wanted else None
        if membership is None:
            raise Http404("No such organisation")
        request.session[SESSION_KEY] = str(membership.tenant_id)
        request.session[support.SESSION_FLAG] = str(membership.tenant_id)
        support.enter(membership.tenant, Actor.from_request(request))
        messages.success(request, f"Support session in {membership.tenant.name} started.")
        return redirect("home")
    from octopushx.tenancy import support

    request.session.pop(support.SESSION_FLAG, None)
    request.session[SESSION_KEY] = str(membership.tenant_id)
    messages.success(request, f"You are now working in {membership.tenant.name}.")
    return redirect("home")


@requires(Perm.READ)
def settings_page(request):
    tenant = request.tenant
    if request.method == "POST":
        if not has_perm(request.membership.role, Perm.ADMIN):
            raise PermissionDenied("Only admins change organisation settings")
        fields = {
            "name": request.POST.get("name", "").strip(),
            "default_region": request.POST.get("default_region", "").strip().upper(),
            "time_zone": request.POST.get("time_zone", "").strip() or tenant.time_zone,
            "week_start": request.POST.get("week_start", "").strip() or tenant.week_start,
        }
        if has_perm(request.membership.role, Perm.OWNER):
            fields["require_2fa"] = request.POST.get("require_2fa") == "on"
        try:
            services.update_profile(tenant, request.actor, **fields)
            messages.success(request, "Organisation settings saved.")
            return redirect("tenancy:settings")
        except ValidationError as exc:
            messages.error(request, _form_errors(exc))
            tenant.refresh_from_db()
    from zoneinfo import available_timezones

    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    from octopushx.tenancy import support

    return render(
        request,
        "tenancy/settings.html",
        {
            "org": tenant,
            "time_zones": zones,
            "week_starts": WeekStart.choices,
            "support_reseller": support.reseller_of(tenant),
            "support_grant": support.live_grant(tenant),
            "support_hours": [(1, "1 hour"), (8, "8 hours"), (24, "24 hours"), (72, "3 days"), (168, "7 days")],
        },
    )


@requires(Perm.OWNER)
@require_POST
def support_access(request):
    """The owner grants its reseller support access for some hours, or revokes it."""
    from octopushx.tenancy import support

    try:
        if request.POST.get("action") == "revoke":
            support.revoke(request.tenant, request.actor)
            messages.success(request, "Support access revoked: your provider can no longer enter.")
        else:
            raw = request.POST.get("hours", "").strip()
            hours = int(raw) if raw.isdigit() else -1
            made = support.grant(request.tenant, request.actor, hours=hours)
            messages.success(request, f"Support access granted until {made.expires_at:%d %B %Y %H:%M} UTC.")
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    return redirect("tenancy:settings")


@requires(Perm.READ)
def members(request):
    rows = Membership.objects.filter(tenant=request.tenant).select_related("user", "team")
    invitations = [i for i in request.tenant.invitations.all() if i.is_open]
    return render(
        request,
        "tenancy/members.html",
        {
            "rows": rows,
            "invitations": invitations,
            "roles": Role.choices,
            "last_link": request.session.pop("last_invite_link", None),
        },
    )


@requires(Perm.ADMIN)
@require_POST
def invite(request):
    try:
        invitation, link = services.invite(
            request.tenant, request.actor, email=request.POST.get("email", ""), role=request.POST.get("role", "")
        )
        messages.success(request, f"Invitation sent to {invitation.email}.")
        request.session["last_invite_link"] = link
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _form_errors(exc) if isinstance(exc, ValidationError) else str(exc))
    return redirect("tenancy:members")


@requires(Perm.ADMIN)
@require_POST
def change_role(request, member_id):
    membership = get_object_or_404(Membership, pk=member_id, tenant=request.tenant)
    try:
        services.change_role(request.tenant, request.actor, membership, request.POST.get("role", ""))
        messages.success(request, f"{membership.user.email} is now {membership.get_role_display()}.")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _form_errors(exc) if isinstance(exc, ValidationError) else str(exc))
    return redirect("tenancy:members")


@requires(Perm.ADMIN)
@require_POST
def remove_member(request, member_id):
    membership = get_object_or_404(Membership, pk=member_id, tenant=request.tenant)
    try:
        services.remove_member(request.tenant, request.actor, membership)
        messages.success(request, f"{membership.user.email} was removed.")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _form_errors(exc) if isinstance(exc, ValidationError) else str(exc))
    return redirect("tenancy:members")


def accept_invitation(request, token):
    invitation = services.find_invitation(token)
    if invitation is None:
        return render(request, "tenancy/invitation_invalid.html", status=404)
    error = None
    if request.method == "POST":
        try:
            user = request.user if request.user.is_authenticated else None
            membership = services.accept_invitation(
                invitation,
                password=request.POST.get("password"),
                full_name=request.POST.get("full_name", "").strip(),
                user=user,
                origin=Actor.from_request(request),
            )
            if user is None:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_KEY] = str(membership.tenant_id)
            messages.success(request, f"Welcome to {membership.tenant.name}.")
            return redirect("home")
        except ValidationError as exc:
            error = _form_errors(exc)
    return render(request, "tenancy/invitation.html", {"invitation": invitation, "error": error})


def _reseller(pk: str) -> Organization:
    """The reseller chosen as parent; a malformed or unknown id is a form error, not a 500."""
    try:
        parent = Organization.objects.filter(pk=pk, kind=OrgKind.RESELLER, deleted_at__isnull=True).first()
    except ValidationError:
        parent = None
    if parent is None:
        raise ValidationError({"parent": ["Choose one of the resellers"]})
    return parent


@requires(Perm.ADMIN)
def organizations(request):
    """Platform staff see every organisation; reseller admins their own customers."""
    if request.tenant.kind == OrgKind.CUSTOMER:
        raise PermissionDenied("Managing organisations needs a platform or reseller account")
    if request.method == "POST":
        parent = request.tenant
        kind = request.POST.get("kind", OrgKind.CUSTOMER)
        try:
            if request.tenant.kind == OrgKind.PLATFORM and request.POST.get("parent"):
                parent = _reseller(request.POST["parent"])
            org = services.create_organization(
                request.actor,
                name=request.POST.get("name", ""),
                kind=kind,
                parent=parent,
                admin_email=request.POST.get("admin_email") or None,
            )
            messages.success(request, f"{org.name} was created.")
            return redirect("tenancy:organizations")
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _form_errors(exc) if isinstance(exc, ValidationError) else str(exc))
    orgs = services.manageable_orgs(request.user)
    resellers = [o for o in orgs if o.kind == OrgKind.RESELLER]
    from octopushx.tenancy.suspension import REASONS

    return render(
        request,
        "tenancy/organizations.html",
        {"orgs": orgs, "resellers": resellers, "suspension_reasons": REASONS.items()},
    )


@requires(Perm.OWNER)
@require_POST
def delete_organization(request):
    """The owner deletes the organisation they work in; its data key is shredded."""
    tenant = request.tenant
    try:
        services.delete_tenant(tenant, request.actor, confirm=request.POST.get("confirm", ""))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _form_errors(exc) if isinstance(exc, ValidationError) else str(exc))
        return redirect("tenancy:settings")
    request.session.pop(SESSION_KEY, None)
    messages.success(request, f"{tenant.name} is deleted. Its stored files can no longer be read.")
    return redirect("home")


# --- white-label brand ---------------------------------------------------------------------


@require_GET
def brand_asset(request, asset_id):
    """A brand's logo or favicon: public (the sign-in page shows it), cached for good (ids change)."""
    from django.http import HttpResponse

    from octopushx.core import blobs
    from octopushx.tenancy import branding

    blob = branding.image_blob(asset_id)
    if blob is None:
        raise Http404("No such image")
    response = HttpResponse(blobs.read_bytes(blob), content_type=blob.content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@requires(Perm.ADMIN)
def branding_page(request):
    """A reseller's (or the platform's) brand: texts, colour, logo and favicon, custom domains."""
    from octopushx.tenancy import branding

    tenant = request.tenant
    try:
        branding.check_owner(tenant)
    except PermissionDenied:
        raise PermissionDenied("Only resellers and the platform have a brand; yours is your provider's")
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "save":
                fields = {key: request.POST.get(key, "") for key in branding.EDITABLE_FIELDS}
                branding.update_brand(tenant, request.actor, **fields)
                messages.success(request, "Brand saved.")
            elif action in ("logo", "favicon"):
                upload = request.FILES.get(action)
                if upload is None:
                    raise ValidationError({"file": [f"Choose a {action} file to upload"]})
                limit = branding.IMAGE_LIMITS[action]["max_bytes"]
                branding.set_image(tenant, request.actor, action, upload.read(limit + 1), filename=upload.name)
                messages.success(request, f"The {action} is replaced.")
            elif action in ("remove_logo", "remove_favicon"):
                branding.remove_image(tenant, request.actor, action.removeprefix("remove_"))
                messages.success(request, "Image removed.")
            elif action == "add_domain":
                record = branding.add_domain(tenant, request.actor, request.POST.get("domain", ""))
                messages.success(request, f"Create the TXT record below for {record.domain}, then verify it.")
            elif action in ("verify_domain", "remove_domain"):
                record = (
                    branding.domains_visible_to(tenant, request.actor)
                    .filter(pk=_uuid_or_none(request.POST.get("domain_id")))
                    .first()
                )
                if record is None:
                    raise Http404("No such domain")
                if action == "verify_domain":
                    branding.verify_domain(record, request.actor)
                    messages.success(request, f"{record.domain} is verified and now serves your brand.")
                else:
                    branding.remove_domain(record, request.actor)
                    messages.success(request, f"{record.domain} is removed.")
            else:
                raise ValidationError({"action": ["Unknown action"]})
            return redirect("tenancy:branding")
        except ValidationError as exc:
            messages.error(request, _form_errors(exc))
            tenant.refresh_from_db()
    resolved = branding.resolve(tenant)
    record = branding.Brand.objects.filter(tenant=tenant).first()
    return render(
        request,
        "tenancy/branding.html",
        {
            "org": tenant,
            "resolved": resolved,
            "record": record,
            "form": {
                "product_name": request.POST.get("product_name", tenant.brand_name or resolved.product_name)
                if request.method == "POST"
                else (tenant.brand_name or resolved.product_name),
                "primary_color": tenant.brand_color or resolved.primary_color,
                **{
                    key: request.POST.get(key, getattr(record, key, ""))
                    if request.method == "POST"
                    else getattr(record, key, "")
                    for key in ("support_email", "support_url", "sender_name", "sender_email")
                },
            },
            "domains": list(branding.BrandDomain.objects.filter(tenant=tenant)),
            "limits": branding.IMAGE_LIMITS,
        },
    )


def _uuid_or_none(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
