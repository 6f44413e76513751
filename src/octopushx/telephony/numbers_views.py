"""Telephony pages of the provider side: phone numbers (connect providers, assign numbers), my phone line, call now.

Thin views over ``accounts`` and ``clicktocall``: owners and admins change accounts and numbers,
managers and auditors read them; every member who takes calls sets their line and places calls.
The call button and the number rows answer htmx partials; without JavaScript the forms post and
redirect back with a message.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from octopushx.calls import services as call_services
from octopushx.core import phone_actions
from octopushx.telephony import accounts, clicktocall, services
from octopushx.telephony.accounts import ProviderUnavailable
from octopushx.telephony.models import CallFlow, PhoneNumber, ProviderAccount
from octopushx.telephony.views import editor, reader


def member(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if request.tenant is None:
            return redirect("home")
        return view(request, *args, **kwargs)

    return wrapped


def _messages_of(exc: ValidationError) -> str:
    return " ".join(m for ms in exc.message_dict.values() for m in ms)


# --- phone numbers --------------------------------------------------------------------------------


def _card_errors(errors: dict) -> dict:
    """Field errors for the template, whose lookups cannot start with an underscore (``__all__``)."""
    return {("general" if k == "__all__" else k): v for k, v in errors.items()}


def _numbers_context(request, form_errors: dict | None = None, posted: dict | None = None) -> dict:
    snapshot = call_services.settings_snapshot(call_services.call_settings(request.tenant))
    rows = {row.provider: row for row in accounts.account_rows(request.tenant)}
    form_errors, posted = form_errors or {}, posted or {}
    cards = [
        {"provider": p, "label": label, "account": rows.get(p), "errors": _card_errors(form_errors.get(p, {})),
         "posted": posted.get(p, {})}
        for p, label in (("twilio", "Twilio"), ("vonage", "Vonage"))
    ]  # fmt: skip
    return {
        "accounts": rows,
        "cards": cards,
        "numbers": list(accounts.number_rows(request.tenant)),
        "flows": list(services.flow_rows(request.tenant)),
        "snapshot": snapshot,
        "can_edit": services.can_edit(request.membership),
        "hooks_base": accounts.hooks_base(),
    }


@reader
def numbers_page(request):
    return render(request, "telephony/numbers.html", _numbers_context(request))


@editor
@require_POST
def account_connect(request):
    provider = request.POST.get("provider", "")
    fields = accounts.PROVIDER_FIELDS.get(provider, ())
    data = {name: request.POST.get(name, "") for name in fields}
    try:
        row = accounts.connect(request.tenant, request.actor, provider, data)
    except ValidationError as exc:
        errors = {provider: exc.message_dict}
        posted = {provider: {k: v for k, v in data.items() if k in ("account_sid", "api_key_sid", "application_id", "api_key")}}  # fmt: skip
        return render(request, "telephony/numbers.html", _numbers_context(request, errors, posted), status=422)
    except ProviderUnavailable as exc:
        errors = {provider: {"__all__": [exc.message]}}
        return render(request, "telephony/numbers.html", _numbers_context(request, errors), status=502)
    count = row.numbers.count()
    messages.success(request, f"{row.get_provider_display()} connected: {count} number{'s' if count != 1 else ''}.")
    return redirect("telephony:numbers")


@editor
@require_POST
def account_disconnect(request, account_id):
    row = ProviderAccount.objects.get_for_tenant(request.tenant, account_id)
    name = row.get_provider_display()
    accounts.disconnect(request.tenant, request.actor, row)
    messages.success(request, f"{name} disconnected; its numbers are no longer answered here.")
    return redirect("telephony:numbers")


@editor
@require_POST
def numbers_sync(request):
    rows = list(accounts.account_rows(request.tenant))
    try:
        for row in rows:
            result = accounts.sync_numbers(request.tenant, request.actor, row)
            messages.success(request, f"{row.get_provider_display()}: {len(result['added'])} added, "
                                      f"{len(result['removed'])} removed.")  # fmt: skip
            if result["skipped"]:
                messages.warning(request, f"Connected to another organisation, so skipped: {', '.join(result['skipped'])}")  # fmt: skip
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    except ProviderUnavailable as exc:
        messages.error(request, exc.message)
    return redirect("telephony:numbers")


def _number_row(request, number: PhoneNumber, status: int = 200):
    context = {"number": number, "flows": list(services.flow_rows(request.tenant)), "can_edit": True}
    return render(request, "telephony/_number_row.html", context, status=status)


@editor
@require_POST
def number_assign(request, number_id):
    number = PhoneNumber.objects.get_for_tenant(request.tenant, number_id)
    flow_id = request.POST.get("flow_id", "")
    flow = CallFlow.objects.for_tenant(request.tenant).filter(pk=flow_id).first() if _is_uuid(flow_id) else None
    if flow_id and flow is None:
        messages.error(request, "No such call flow.")
        return redirect("telephony:numbers")
    number = accounts.assign_number(request.tenant, request.actor, number, flow)
    if request.headers.get("HX-Request"):
        return _number_row(request, number)
    if number.webhook_error:
        messages.error(request, f"{number.number}: {number.webhook_error}")
    else:
        messages.success(request, f"{number.number} now runs {flow.name if flow else 'no flow'}.")
    return redirect("telephony:numbers")


@editor
@require_POST
def number_webhooks(request, number_id):
    number = PhoneNumber.objects.get_for_tenant(request.tenant, number_id)
    number = accounts.set_webhooks(request.tenant, request.actor, number)
    if request.headers.get("HX-Request"):
        return _number_row(request, number)
    if number.webhook_error:
        messages.error(request, f"{number.number}: {number.webhook_error}")
    else:
        messages.success(request, f"{number.number}: webhooks set.")
    return redirect("telephony:numbers")


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- my phone line --------------------------------------------------------------------------------


@member
@require_http_methods(["GET", "POST"])
def line_page(request):
    presence = services.presence_of(request.tenant, request.user)
    takes_calls = services.takes_calls(request.membership)
    values = {"phone_number": presence.phone_number, "sip_uri": presence.sip_uri}
    errors: dict = {}
    status = 200
    if request.method == "POST":
        if not takes_calls:
            raise PermissionDenied("Auditors do not take calls, so they have no phone line")
        values = {"phone_number": request.POST.get("phone_number", ""), "sip_uri": request.POST.get("sip_uri", "")}
        try:
            clicktocall.set_line(request.tenant, request.actor, request.user, request.membership, **values)
        except ValidationError as exc:
            errors, status = exc.message_dict, 422
        else:
            messages.success(request, "Your phone line is saved.")
            return redirect("telephony:line")
    context = {
        "values": values,
        "errors": errors,
        "takes_calls": takes_calls,
        "can_call": clicktocall.can_call(request.tenant),
        "rings": clicktocall.line_of(presence),
    }
    return render(request, "telephony/line.html", context, status=status)


# --- call now (the call button) -------------------------------------------------------------------


def _back(request) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


@member
@require_POST
def call_now(request):
    """Place the call; htmx gets the result inline, a plain form post a message and the page back."""
    to = request.POST.get("to", "")
    context: dict = {"shown": phone_actions.display(to), "phone_call": None, "error": "", "needs_line": False}
    status = 201
    try:
        context["phone_call"] = clicktocall.place_call(request.tenant, request.actor, request.user,
                                                       request.membership, to=to,
                                                       contact_id=request.POST.get("contact_id") or None)  # fmt: skip
    except ValidationError as exc:
        context["error"], context["needs_line"], status = _messages_of(exc), "line" in exc.message_dict, 422
    except ProviderUnavailable as exc:
        context["error"], status = exc.message, 502
    except PermissionDenied as exc:
        context["error"], status = str(exc), 403
    if request.headers.get("HX-Request"):
        # htmx swaps 2xx only: errors answer 200 to show inline, with the real status in a header.
        response = render(request, "telephony/_call_result.html", context)
        response["X-Call-Status"] = str(status)
        return response
    if context["error"]:
        messages.error(request, context["error"])
    else:
        messages.success(request, f"Calling your phone… answer it and we dial {context['shown']}.")
    return redirect(_back(request))
