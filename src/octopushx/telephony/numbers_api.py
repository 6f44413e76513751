"""API of telephony's provider side: accounts, numbers, the member's line and click-to-call.

Owners and admins connect and disconnect providers, sync numbers and assign them to flows; managers
and auditors read them; agents have none of it (403). Secrets are write-only: an account answers
``*_set`` booleans, never a secret. Every member who takes calls sets their own line and places calls.
A provider that refuses the credentials is a 422 naming what to fix; one that fails or cannot be
reached is a 502; in both cases nothing is saved and no call is placed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from ninja import Field, Router, Schema

from octopushx.api.errors import ErrorOut
from octopushx.calls import services as call_services
from octopushx.telephony import accounts, clicktocall, services
from octopushx.telephony.accounts import ProviderUnavailable
from octopushx.telephony.api import Person
from octopushx.telephony.models import CallFlow, PhoneCall, PhoneNumber, ProviderAccount

router = Router(tags=["telephony"])
ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
PROVIDER_ERRORS = {**ERRORS, 502: ErrorOut}


class AccountIn(Schema):
    provider: Literal["twilio", "vonage"]
    account_sid: str | None = Field(None, description="Twilio: the Account SID (AC…)")
    auth_token: str | None = Field(None, description="Twilio: the auth token (also signs Twilio's webhooks)")
    api_key_sid: str | None = Field(None, description="Twilio, optional: an API key SID (SK…) used for REST calls")
    api_key_secret: str | None = Field(None, description="Twilio, optional: the API key's secret")
    application_id: str | None = Field(None, description="Vonage: the application id")
    private_key: str | None = Field(None, description="Vonage: the application's private key (PEM)")
    signature_secret: str | None = Field(None, description="Vonage: the signature secret of signed webhooks")
    api_key: str | None = Field(None, description="Vonage: the account's API key (numbers, applications)")
    api_secret: str | None = Field(None, description="Vonage: the account's API secret")


class AccountOut(Schema):
    id: str
    provider: Literal["twilio", "vonage"]
    account_id: str = Field(description="Twilio Account SID or Vonage application id")
    status: Literal["connected", "error"]
    last_error: str
    connected_by: Person | None
    last_synced_at: datetime | None
    numbers: int
    api_key_sid: str = Field("", description="Twilio: the API key SID in use, if any")
    api_key: str = Field("", description="Vonage: the account's API key")
    auth_token_set: bool = False
    api_key_secret_set: bool = False
    private_key_set: bool = False
    signature_secret_set: bool = False
    api_secret_set: bool = False


class AccountList(Schema):
    items: list[AccountOut]


class FlowRef(Schema):
    id: str
    name: str


class NumberOut(Schema):
    id: str
    account_id: str
    provider: Literal["twilio", "vonage"]
    number: str
    friendly_name: str
    provider_ref: str
    flow: FlowRef | None
    webhooks_set_at: datetime | None
    webhook_error: str = Field(description="Why the provider refused our webhook URLs (retry with POST …/webhooks)")


class NumberList(Schema):
    items: list[NumberOut]


class NumberPatch(Schema):
    flow_id: str | None = Field(description="The call flow calls to this number run; null: none")


class SyncOut(Schema):
    added: list[str]
    removed: list[str]
    skipped: list[str] = Field(description="Numbers another organisation has connected")
    items: list[NumberOut]


class LineIn(Schema):
    phone_number: str = Field("", description="E.164, e.g. +447700900123 (empty: none)")
    sip_uri: str = Field("", description="e.g. sip:alice@example.sip.twilio.com (wins over the number)")


class LineOut(Schema):
    phone_number: str
    sip_uri: str
    rings: str = Field(description="What calls ring: the SIP URI, else the number, else empty")


class CallIn(Schema):
    to: str = Field(description="The customer's number, international or in the organisation's country")
    contact_id: str | None = None


class CallOut(Schema):
    id: str = Field(description="The phone call's id")
    call_id: str | None = Field(description="The call record (calls.Call) on the contact's timeline")
    provider: Literal["twilio", "vonage"]
    provider_call_id: str
    direction: str
    state: str
    from_number: str
    to_number: str
    contact_id: str | None
    started_at: datetime | None


# --- helpers --------------------------------------------------------------------------------------


def _read(request) -> None:
    if not services.can_read(getattr(request, "membership", None)):
        raise PermissionDenied("Provider accounts and numbers are for owners, admins, managers and auditors")


def _edit(request) -> None:
    if not services.can_edit(getattr(request, "membership", None)):
        raise PermissionDenied("Only owners and admins connect providers and assign numbers")


def _unavailable(exc: ProviderUnavailable):
    return 502, {"detail": exc.message, "errors": {}}


def account_out(row: ProviderAccount, snapshot: dict) -> dict:
    user = row.connected_by
    out = {
        "id": str(row.pk),
        "provider": row.provider,
        "account_id": row.account_id,
        "status": row.status,
        "last_error": row.last_error,
        "connected_by": {"id": str(user.pk), "email": user.email} if user else None,
        "last_synced_at": row.last_synced_at,
        "numbers": row.numbers.count(),
    }
    if row.provider == "twilio":
        out |= {"api_key_sid": snapshot["twilio_api_key_sid"], "auth_token_set": snapshot["twilio_auth_token_set"],
                "api_key_secret_set": snapshot["twilio_api_key_secret_set"]}  # fmt: skip
    else:
        out |= {"api_key": snapshot["vonage_api_key"], "private_key_set": snapshot["vonage_private_key_set"],
                "signature_secret_set": snapshot["vonage_signature_secret_set"],
                "api_secret_set": snapshot["vonage_api_secret_set"]}  # fmt: skip
    return out


def number_out(row: PhoneNumber) -> dict:
    return {
        "id": str(row.pk),
        "account_id": str(row.account_id),
        "provider": row.provider,
        "number": row.number,
        "friendly_name": row.friendly_name,
        "provider_ref": row.provider_ref,
        "flow": {"id": str(row.flow.pk), "name": row.flow.name} if row.flow_id else None,
        "webhooks_set_at": row.webhooks_set_at,
        "webhook_error": row.webhook_error,
    }


def call_out(row: PhoneCall) -> dict:
    return {
        "id": str(row.pk),
        "call_id": str(row.call_id) if row.call_id else None,
        "provider": row.provider,
        "provider_call_id": row.provider_call_id,
        "direction": row.direction,
        "state": row.state,
        "from_number": row.from_number,
        "to_number": row.to_number,
        "contact_id": str(row.contact_id) if row.contact_id else None,
        "started_at": row.started_at,
    }


def _snapshot(request) -> dict:
    return call_services.settings_snapshot(call_services.call_settings(request.tenant))


# --- accounts -------------------------------------------------------------------------------------


@router.get("/telephony/accounts", summary="Connected provider accounts", response={200: AccountList, **ERRORS})
def list_accounts(request):
    _read(request)
    snapshot = _snapshot(request)
    return {"items": [account_out(r, snapshot) for r in accounts.account_rows(request.tenant)]}


@router.post("/telephony/accounts", summary="Connect a provider account", response={201: AccountOut, **PROVIDER_ERRORS})  # fmt: skip
def connect_account(request, payload: AccountIn):
    """Twilio: ``account_sid`` + ``auth_token`` (+ optional ``api_key_sid``/``api_key_secret`` for REST; the
    auth token is still needed: Twilio signs webhooks with it). Vonage: ``application_id``, ``private_key``,
    ``signature_secret``, ``api_key``, ``api_secret``. The provider checks them first (422 when it refuses,
    nothing saved); then the account's numbers are listed. Numbers are bought in the provider's console."""
    _edit(request)
    data = payload.dict(exclude={"provider"})
    try:
        row = accounts.connect(request.tenant, request.actor, payload.provider, data)
    except ProviderUnavailable as exc:
        return _unavailable(exc)
    return 201, account_out(row, _snapshot(request))


@router.delete("/telephony/accounts/{account_id}", summary="Disconnect a provider account", response={204: None, **ERRORS})  # fmt: skip
def disconnect_account(request, account_id: str):
    """Forgets its credentials and numbers (their flow assignments go too)."""
    _edit(request)
    row = ProviderAccount.objects.get_for_tenant(request.tenant, account_id)
    accounts.disconnect(request.tenant, request.actor, row)
    return 204, None


# --- numbers --------------------------------------------------------------------------------------


@router.get("/telephony/numbers", summary="The accounts' phone numbers", response={200: NumberList, **ERRORS})
def list_numbers(request):
    _read(request)
    return {"items": [number_out(r) for r in accounts.number_rows(request.tenant)]}


@router.post("/telephony/numbers/sync", summary="Sync numbers from the providers", response={200: SyncOut, **PROVIDER_ERRORS})  # fmt: skip
def sync_numbers(request):
    """Lists every connected account's numbers at the provider: new ones are added, gone ones removed."""
    _edit(request)
    rows = list(accounts.account_rows(request.tenant))
    if not rows:
        raise ValidationError({"__all__": ["Connect a Twilio or Vonage account first"]})
    total: dict[str, list[str]] = {"added": [], "removed": [], "skipped": []}
    try:
        for row in rows:
            for key, values in accounts.sync_numbers(request.tenant, request.actor, row).items():
                total[key].extend(values)
    except ProviderUnavailable as exc:
        return _unavailable(exc)
    return {**total, "items": [number_out(r) for r in accounts.number_rows(request.tenant)]}


@router.patch("/telephony/numbers/{number_id}", summary="Assign a number to a call flow", response={200: NumberOut, **ERRORS})  # fmt: skip
def assign_number(request, number_id: str, payload: NumberPatch):
    """Sets the provider's webhooks too; if the provider refuses them, ``webhook_error`` says why."""
    _edit(request)
    row = PhoneNumber.objects.get_for_tenant(request.tenant, number_id)
    flow = None
    if payload.flow_id:
        flow = CallFlow.objects.for_tenant(request.tenant).filter(pk=payload.flow_id).first() if _uuid(payload.flow_id) else None  # fmt: skip
        if flow is None:
            raise ValidationError({"flow_id": ["No call flow with that id"]})
    return number_out(accounts.assign_number(request.tenant, request.actor, row, flow))


@router.post("/telephony/numbers/{number_id}/webhooks", summary="Set a number's webhooks again", response={200: NumberOut, **ERRORS})  # fmt: skip
def retry_webhooks(request, number_id: str):
    _edit(request)
    row = PhoneNumber.objects.get_for_tenant(request.tenant, number_id)
    return number_out(accounts.set_webhooks(request.tenant, request.actor, row))


def _uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- the member's line and click-to-call ------------------------------------------------------------


def _line_out(presence) -> dict:
    return {"phone_number": presence.phone_number, "sip_uri": presence.sip_uri, "rings": clicktocall.line_of(presence)}


def _member(request):
    membership = getattr(request, "membership", None)
    if membership is None:
        raise PermissionDenied("Only members have a phone line")
    return membership


@router.get("/telephony/line", summary="Your phone line", response={200: LineOut, **ERRORS})
def get_line(request):
    membership = _member(request)
    return _line_out(services.presence_of(request.tenant, membership.user))


@router.put("/telephony/line", summary="Set your phone line", response={200: LineOut, **ERRORS})
def set_line(request, payload: LineIn):
    """Where your calls ring (ring groups and click-to-call): a SIP URI, else a phone number."""
    membership = _member(request)
    presence = clicktocall.set_line(request.tenant, request.actor, membership.user, membership,
                                    phone_number=payload.phone_number, sip_uri=payload.sip_uri)  # fmt: skip
    return _line_out(presence)


@router.post("/telephony/calls", summary="Click-to-call", response={201: CallOut, **PROVIDER_ERRORS})
def place_call(request, payload: CallIn):
    """Rings your line first; when you answer, the customer is dialled with the organisation's number as
    caller ID (the first number assigned to a call flow). 422 without a line, for an invalid or
    premium-rate number or without a connected account; 502 when the provider fails. Nothing is placed then."""
    membership = _member(request)
    try:
        row = clicktocall.place_call(request.tenant, request.actor, membership.user, membership,
                                     to=payload.to, contact_id=payload.contact_id)  # fmt: skip
    except ProviderUnavailable as exc:
        return _unavailable(exc)
    return 201, call_out(row)
