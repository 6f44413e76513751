"""Provider accounts and their numbers: connect and disconnect Twilio or Vonage, sync numbers, assign them to flows.

Connecting checks the credentials with the provider (through its SDK) before anything is saved; the
secrets are sealed in the call settings (``calls.services.update_settings``), the one store that
webhook signature checks and the recording intake read. Assigning a number sets the provider's
webhooks to our URLs; a refusal is kept on the number (``webhook_error``) for a retry.
Owners and admins change all this; managers and auditors read it. Numbers are bought in the
provider's console (regulatory bundles differ per country).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from octopushx.calls import services as call_services
from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.telephony import providers
from octopushx.telephony.models import AccountStatus, CallFlow, PhoneNumber, ProviderAccount, TelephonyProvider
from octopushx.telephony.services import EDITORS

PROVIDER_FIELDS = {
    "twilio": ("account_sid", "auth_token", "api_key_sid", "api_key_secret"),
    "vonage": ("application_id", "private_key", "signature_secret", "api_key", "api_secret"),
}
# The call-settings fields each provider's connection fills (cleared again on disconnect).
SETTINGS_FIELDS = {
    "twilio": {"twilio_account_sid": "account_sid", "twilio_auth_token": "auth_token",
               "twilio_api_key_sid": "api_key_sid", "twilio_api_key_secret": "api_key_secret"},
    "vonage": {"vonage_application_id": "application_id", "vonage_private_key": "private_key",
               "vonage_signature_secret": "signature_secret", "vonage_api_key": "api_key",
               "vonage_api_secret": "api_secret"},
}  # fmt: skip


class ProviderUnavailable(Exception):
    """The provider could not be reached or failed (the API answers 502): nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _require_edit(actor: Actor) -> None:
    if actor.role is not None and actor.role not in EDITORS:
        raise PermissionDenied("Only owners and admins connect providers and assign numbers")


def provider_failure(error: providers.ProviderError, field: str = "__all__") -> Exception:
    """A refusal is the admin's to fix (422 naming ``field``); an outage is a 502."""
    if error.refused:
        return ValidationError({field: [error.message]})
    return ProviderUnavailable(error.message)


# --- webhook URLs (the tel-hooks views answer them) -------------------------------------------------


def hooks_base() -> str:
    return settings.BASE_URL.rstrip("/")


def webhooks_for(number: PhoneNumber) -> providers.Webhooks:
    base, account = hooks_base(), number.account_id
    if number.provider == TelephonyProvider.TWILIO:
        return providers.Webhooks(
            voice_url=f"{base}/hooks/telephony/twilio/incoming/{number.pk}",
            status_url=f"{base}/hooks/telephony/twilio/status/{account}",
        )
    return providers.Webhooks(
        voice_url=f"{base}/hooks/telephony/vonage/answer/{account}",
        status_url=f"{base}/hooks/telephony/vonage/event/{account}",
    )


# --- credentials ----------------------------------------------------------------------------------


def credentials(tenant, provider: str):
    """The stored credentials of ``provider`` (decrypted for the SDK; never logged or shown)."""
    row = call_services.call_settings(tenant)
    secret = lambda name: call_services.credential(tenant, name)  # noqa: E731
    if provider == TelephonyProvider.TWILIO:
        return providers.TwilioCredentials(
            row.twilio_account_sid, secret("twilio_auth_token"), row.twilio_api_key_sid, secret("twilio_api_key_secret")
        )
    return providers.VonageCredentials(
        row.vonage_application_id,
        secret("vonage_private_key"),
        secret("vonage_signature_secret"),
        row.vonage_api_key,
        secret("vonage_api_secret"),
    )


def _clean(provider: str, data: dict) -> dict[str, str]:
    """The provider's fields, stripped; ``ValidationError`` naming each missing or malformed one."""
    if provider not in PROVIDER_FIELDS:
        raise ValidationError({"provider": ["One of twilio, vonage"]})
    values = {name: str(data.get(name) or "").strip() for name in PROVIDER_FIELDS[provider]}
    errors: dict[str, list[str]] = {}
    if provider == "twilio":
        required = ["account_sid", "auth_token"]
        sid = values["account_sid"]
        if sid and not (sid.startswith("AC") and len(sid) == 34):
            errors["account_sid"] = ["A Twilio Account SID starts with AC and has 34 characters"]
        key = values["api_key_sid"]
        if key and not (key.startswith("SK") and len(key) == 34):
            errors["api_key_sid"] = ["A Twilio API key SID starts with SK and has 34 characters"]
        if bool(key) != bool(values["api_key_secret"]):
            errors.setdefault("api_key_secret", []).append("Give the API key SID and its secret together, or neither")
    else:
        required = list(PROVIDER_FIELDS["vonage"])
        if values["private_key"] and not providers.private_key_readable(values["private_key"]):
            errors["private_key"] = ["Paste the application's private key (-----BEGIN PRIVATE KEY-----…)"]
    for name in required:
        if not values[name]:
            errors.setdefault(name, []).insert(0, "Required")
    for name, value in values.items():
        if len(value) > 8000:
            errors.setdefault(name, []).append("At most 8000 characters")
    if errors:
        raise ValidationError(errors)
    return values


# --- accounts -------------------------------------------------------------------------------------


def account_rows(tenant):
    return ProviderAccount.objects.for_tenant(tenant).select_related("connected_by").order_by("provider")


def connected_account(tenant) -> ProviderAccount | None:
    return account_rows(tenant).filter(status=AccountStatus.CONNECTED).first()


def connect(tenant, actor: Actor, provider: str, data: dict) -> ProviderAccount:
    """Check the credentials with the provider, then store them sealed and mark the account connected.

    Bad credentials: ``ValidationError`` and nothing saved. Provider down: ``ProviderUnavailable``.
    Then the account's numbers are synced (a failure there leaves the account connected with the error).
    """
    _require_edit(actor)
    values = _clean(provider, data)
    creds = providers.TwilioCredentials(**values) if provider == "twilio" else providers.VonageCredentials(**values)
    try:
        providers.check(provider, creds)
    except providers.ProviderError as error:
        raise provider_failure(error) from None
    account_id = values["account_sid"] if provider == "twilio" else values["application_id"]
    with transaction.atomic():
        call_services.update_settings(tenant, actor, {field: values[key] for field, key in SETTINGS_FIELDS[provider].items()})  # fmt: skip
        account = ProviderAccount.objects.for_tenant(tenant).select_for_update().filter(provider=provider).first()
        before = (account.account_id, account.status) if account else (None, None)
        if account is None:
            account = ProviderAccount(tenant=tenant, provider=provider)
        elif account.account_id != account_id:
            account.numbers.all().delete()  # another account's numbers
        account.account_id, account.status, account.last_error = account_id, AccountStatus.CONNECTED, ""
        account.connected_by = actor.user
        account.save()
        audit.record(tenant, actor, "provider_account.connected", obj=account,
                     changes={"account_id": [before[0], account_id], "status": [before[1], account.status]})  # fmt: skip
        events.emit(tenant, "provider_account.connected",
                    {"account_id": str(account.pk), "provider": provider})  # fmt: skip
    try:
        sync_numbers(tenant, actor, account)
    except (ValidationError, ProviderUnavailable):
        account.refresh_from_db()
    return account


def disconnect(tenant, actor: Actor, account: ProviderAccount) -> None:
    """Forget the provider's credentials and numbers (the provider keeps its webhooks until changed there)."""
    _require_edit(actor)
    with transaction.atomic():
        call_services.update_settings(tenant, actor, dict.fromkeys(SETTINGS_FIELDS[account.provider], ""))
        count = account.numbers.count()
        audit.record(tenant, actor, "provider_account.disconnected", obj=account,
                     changes={"account_id": [account.account_id, None], "numbers": [count, 0]})  # fmt: skip
        events.emit(tenant, "provider_account.disconnected",
                    {"account_id": str(account.pk), "provider": account.provider})  # fmt: skip
        account.delete()


# --- numbers --------------------------------------------------------------------------------------


def number_rows(tenant):
    return PhoneNumber.objects.for_tenant(tenant).select_related("account", "flow").order_by("provider", "number")


def sync_numbers(tenant, actor: Actor, account: ProviderAccount) -> dict[str, list[str]]:
    """The account's numbers as the provider lists them now: new ones added, gone ones removed.

    A number another organisation has connected is skipped (a number reaches one organisation).
    Returns ``{"added": [...], "removed": [...], "skipped": [...]}``.
    """
    _require_edit(actor)
    try:
        listed = providers.list_numbers(account.provider, credentials(tenant, account.provider))
    except providers.ProviderError as error:
        ProviderAccount.objects.filter(pk=account.pk).update(
            last_error=error.message[:300], status=AccountStatus.ERROR if error.refused else account.status
        )
        raise provider_failure(error) from None
    result: dict[str, list[str]] = {"added": [], "removed": [], "skipped": []}
    with transaction.atomic():
        existing = {n.number: n for n in account.numbers.select_for_update()}
        for item in listed:
            row = existing.pop(item.number, None)
            if row is not None:
                if (row.provider_ref, row.friendly_name) != (item.provider_ref, item.friendly_name[:120]):
                    row.provider_ref, row.friendly_name = item.provider_ref, item.friendly_name[:120]
                    row.save(update_fields=["provider_ref", "friendly_name", "updated_at"])
                continue
            try:
                with transaction.atomic():
                    PhoneNumber.objects.create(tenant=tenant, account=account, provider=account.provider,
                                               number=item.number, provider_ref=item.provider_ref,
                                               friendly_name=item.friendly_name[:120])  # fmt: skip
                result["added"].append(item.number)
            except IntegrityError:
                result["skipped"].append(item.number)
        for gone in existing.values():
            result["removed"].append(gone.number)
            gone.delete()
        account.last_synced_at, account.last_error, account.status = timezone.now(), "", AccountStatus.CONNECTED
        account.save(update_fields=["last_synced_at", "last_error", "status", "updated_at"])
        if result["added"] or result["removed"]:
            audit.record(tenant, actor, "phone_numbers.synced", obj=account,
                         changes={"added": [None, result["added"]], "removed": [result["removed"], None]})  # fmt: skip
            events.emit(tenant, "phone_numbers.synced", {"account_id": str(account.pk), **result})
    return result


def assign_number(tenant, actor: Actor, number: PhoneNumber, flow: CallFlow | None) -> PhoneNumber:
    """Calls to ``number`` run ``flow`` (``None``: nobody answers it); then the provider gets our webhooks."""
    _require_edit(actor)
    if flow is not None and flow.tenant_id != tenant.pk:
        raise ValidationError({"flow_id": ["No such call flow"]})
    with transaction.atomic():
        before = number.flow.name if number.flow_id else None
        if number.flow_id != (flow.pk if flow else None):
            number.flow = flow
            number.save(update_fields=["flow", "updated_at"])
            audit.record(tenant, actor, "phone_number.assigned", obj=number,
                         changes={"flow": [before, flow.name if flow else None]})  # fmt: skip
            events.emit(tenant, "phone_number.assigned",
                        {"number_id": str(number.pk), "flow_id": str(flow.pk) if flow else None})  # fmt: skip
    return set_webhooks(tenant, actor, number)


def set_webhooks(tenant, actor: Actor, number: PhoneNumber) -> PhoneNumber:
    """Point the provider's voice and status webhooks of ``number`` at us; a refusal is kept for a retry."""
    _require_edit(actor)
    hooks = webhooks_for(number)
    try:
        providers.set_webhooks(number.provider, credentials(tenant, number.provider), number.provider_ref, hooks)
    except providers.ProviderError as error:
        number.webhooks_set_at, number.webhook_error = None, error.message[:300]
    else:
        number.webhooks_set_at, number.webhook_error = timezone.now(), ""
    with transaction.atomic():
        number.save(update_fields=["webhooks_set_at", "webhook_error", "updated_at"])
        audit.record(tenant, actor, "phone_number.webhooks_set", obj=number,
                     changes={"webhooks_set": [None, number.webhooks_set_at is not None]})  # fmt: skip
        events.emit(tenant, "phone_number.webhooks_set",
                    {"number_id": str(number.pk), "ok": number.webhooks_set_at is not None})  # fmt: skip
    return number
