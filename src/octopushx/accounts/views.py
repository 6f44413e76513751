"""Sign-in (with the second factor), sign-out, two-factor enrolment, sessions and API tokens."""

from __future__ import annotations

import base64
import io
import math
from datetime import timedelta

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from octopushx.accounts import lockout, services
from octopushx.accounts.forms import CodeForm, ProfileForm, SignInForm, TokenForm
from octopushx.accounts.models import ApiToken, User, UserSession
from octopushx.core.context import Actor, client_ip
from octopushx.tenancy.suspension import sign_in_notice as suspension_notice

PENDING_KEY = "pending_2fa_user"
PENDING_NEXT = "pending_2fa_next"
NEW_TOKEN_KEY = "new_api_token"


def _safe_next(request, fallback: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or fallback
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def locked_out(request, credentials=None, *args, until=None, **kwargs):
    """The lock-out page (429), with ``Retry-After``: an (email, address) pair locked by django-axes
    for the cool-off, or ``until`` the end of the account's pause (``accounts.lockout``)."""
    if until is not None:
        seconds = max(math.ceil((until - timezone.now()).total_seconds()), 1)
    else:
        seconds = max(math.ceil(settings.AXES_COOLOFF_TIME * 3600), 1)
    response = render(
        request,
        "accounts/locked_out.html",
        {"minutes": math.ceil(seconds / 60), "per_account": until is not None},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def sign_in(request):
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = SignInForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        if until := lockout.locked_until(email):
            return locked_out(request, until=until)
        # Whether django-axes will check the password at all: attempts it refuses unchecked do
        # not count against the account (one address must not be able to pause it).
        checked = AxesProxyHandler.is_allowed(request, {"email": email})
        user = authenticate(request, email=email, password=form.cleaned_data["password"])
        if isinstance(user, User):
            if not user.memberships.exists() and not user.is_superuser:
                error = "This account is not a member of any organisation."
            elif notice := suspension_notice(user):
                error = notice
            elif services.has_2fa(user):
                request.session[PENDING_KEY] = str(user.pk)
                request.session[PENDING_NEXT] = _safe_next(request)
                return redirect("accounts:verify")
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect(_safe_next(request))
        else:
            throttle = lockout.record_failure(email, client_ip(request)) if checked else None
            if getattr(request, "axes_locked_out", False):
                return locked_out(request)
            if throttle is not None and throttle.locked_until is not None:
                return locked_out(request, until=throttle.locked_until)
            error = "That email and password do not match an account."
    return render(request, "accounts/login.html", {"form": form, "error": error, "next": _safe_next(request, "")})


def verify(request):
    """Second step of sign-in: the TOTP code from the user's authenticator app."""
    user = User.objects.filter(pk=request.session.get(PENDING_KEY)).first()
    if user is None:
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and (until := lockout.locked_until(user.email)):
        return locked_out(request, until=until)
    if request.method == "POST" and form.is_valid():
        device = services.verify_code(user, form.cleaned_data["code"])
        if device is not None:
            request.session.pop(PENDING_KEY, None)
            target = request.session.pop(PENDING_NEXT, None) or "/"
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            return redirect(target)
        from django.contrib.auth.signals import user_login_failed

        user_login_failed.send(sender=__name__, credentials={"email": user.email}, request=request)
        throttle = lockout.record_failure(user.email, client_ip(request))
        if throttle.locked_until is not None:
            return locked_out(request, until=throttle.locked_until)
        form.add_error("code", "That code is not right. Codes change every 30 seconds.")
    return render(request, "accounts/verify.html", {"form": form})


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset confirmation, audited."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.record_password_reset(form.user, Actor.from_request(self.request, user=form.user))
        lockout.clear(form.user.email)  # the emailed link proves it is them: end any pause
        return response


@require_POST
def sign_out(request):
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:login")


def _tenants(request) -> list:
    return [m.tenant for m in request.memberships]


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@login_required
def security(request):
    """Two-factor status, enrolment (QR code + confirm), confirming this session, and removal.

    Once 2FA is on, every change here needs a current code: a signed-in browser alone
    cannot turn it off.
    """
    enabled = services.has_2fa(request.user)
    context = {
        "enabled": enabled,
        "verified": request.user.is_verified(),
        "required": request.GET.get("required") == "1" or (request.tenant and request.tenant.require_2fa),
    }
    form = CodeForm(request.POST or None)
    if request.method == "POST" and enabled and form.is_valid():
        device = services.verify_code(request.user, form.cleaned_data["code"])
        if device is None:
            form.add_error("code", "That code is not right. Codes change every 30 seconds.")
        elif request.POST.get("action") == "disable":
            try:
                services.disable_2fa(request.user, request.actor, _tenants(request))
                messages.success(request, "Two-factor sign-in is off.")
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            return redirect("accounts:security")
        else:
            # A session signed in before 2FA was set up elsewhere confirms itself here.
            otp_login(request, device)
            messages.success(request, "Confirmed. Thank you.")
            return redirect("home")
    elif request.method == "POST" and form.is_valid():
        try:
            device = services.confirm_2fa(request.user, form.cleaned_data["code"], request.actor, _tenants(request))
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is on. You will be asked for a code when you sign in.")
            return redirect("accounts:security")
        except ValidationError as exc:
            form.add_error("code", exc.message_dict["code"][0])
    if not enabled and context["required"] and request.tenant is not None:
        # Their tokens are refused meanwhile (api.auth); say so where they can fix it.
        context["waiting_tokens"] = services.usable_tokens(request.tenant, request.user).count()
    if not enabled:
        device = services.pending_device(request.user)
        context["qr"] = _qr_svg(device.config_url)
        context["secret"] = base64.b32encode(device.bin_key).decode()
    context["form"] = form
    return render(request, "accounts/security.html", context)


@login_required
def profile(request):
    """Your name and time zone (scheduled reports arrive at their time in it)."""
    organisation_zone = request.tenant.time_zone if request.tenant else "UTC"
    initial = {"full_name": request.user.full_name, "time_zone": request.user.time_zone}
    form = ProfileForm(
        request.POST or None,
        initial=initial,
        zones=services.time_zone_names(),
        organisation_zone=organisation_zone,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(request.user, request.actor, _tenants(request), form.cleaned_data)
            messages.success(request, "Profile saved.")
            return redirect("accounts:profile")
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    context = {
        "form": form,
        "effective_zone": services.zone_name(request.user, request.tenant),
        "organisation_zone": organisation_zone,
    }
    return render(request, "accounts/profile.html", context)


@login_required
def sessions(request):
    rows = services.active_sessions(request.user)
    return render(request, "accounts/sessions.html", {"sessions": rows, "current": request.session.session_key})


@login_required
@require_POST
def revoke_session(request, session_id):
    session = get_object_or_404(UserSession, pk=session_id, user=request.user)
    current = session.session_key == request.session.session_key
    services.revoke_session(session, request.actor, request.tenant)
    if current:
        # The stored session is gone; end it here too so the response does not try to save it.
        logout(request)
        return redirect("accounts:login")
    messages.success(request, "The session is signed out.")
    return redirect("accounts:sessions")


@login_required
def tokens(request):
    if request.tenant is None:
        return redirect("home")
    form = TokenForm(request.POST or None)
    # Post/redirect/get: the new secret rides in the session for exactly one page view, so
    # reloading the page neither re-creates the token nor shows the secret again.
    created = request.session.pop(NEW_TOKEN_KEY, None)
    refused = services.token_creation_refused(request.user, request.tenant, verified=request.user.is_verified())
    status = 403 if request.method == "POST" and refused else 200
    if request.method == "POST" and not refused and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        try:
            _token, plaintext = services.create_token(
                request.tenant,
                request.actor,
                request.user,
                name=form.cleaned_data["name"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
            request.session[NEW_TOKEN_KEY] = plaintext
            return redirect("accounts:tokens")
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    rows = ApiToken.objects.filter(tenant=request.tenant, user=request.user)
    context = {"form": form, "tokens": rows, "created": created, "refused": refused}
    response = render(request, "accounts/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def revoke_token(request, token_id):
    token = get_object_or_404(ApiToken, pk=token_id, tenant=request.tenant, user=request.user)
    services.revoke_token(token, request.actor)
    messages.success(request, f"Token “{token.name}” is revoked.")
    return HttpResponseRedirect(reverse("accounts:tokens"))
