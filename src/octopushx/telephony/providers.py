"""The providers' REST APIs, through their official SDKs: check credentials, list numbers, set webhooks, place calls.

Twilio through ``twilio.rest.Client``, Vonage through ``vonage.Vonage``. ``OCTOPUSHX_TWILIO_API_BASE`` and
``OCTOPUSHX_VONAGE_API_HOST``/``_REST_HOST`` point the SDKs at a fake or a proxy (the tests' fake on
127.0.0.1). Every failure becomes a ``ProviderError`` whose message can be shown to an admin: it says
what the provider answered, never a secret. ``refused`` tells the credentials were turned down (the
admin must fix something) from the provider being unreachable or failing (try again later).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import phonenumbers
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

log = logging.getLogger(__name__)

TWILIO_STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


class ProviderError(Exception):
    """The provider said no (``refused``: bad credentials, unknown account) or could not be reached."""

    def __init__(self, message: str, *, refused: bool, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.refused = refused
        self.status = status


@dataclass(frozen=True)
class TwilioCredentials:
    account_sid: str
    auth_token: str  # signs Twilio's webhooks; used for REST too unless an API key is given
    api_key_sid: str = ""
    api_key_secret: str = ""

    def __repr__(self) -> str:  # never a secret in a traceback or a log line
        return f"TwilioCredentials(account_sid={self.account_sid!r})"


@dataclass(frozen=True)
class VonageCredentials:
    application_id: str
    private_key: str  # signs the JWTs of the Voice API
    signature_secret: str  # checks the JWTs Vonage signs its webhooks with
    api_key: str  # the account's key and secret: the Numbers and Applications APIs
    api_secret: str

    def __repr__(self) -> str:
        return f"VonageCredentials(application_id={self.application_id!r}, api_key={self.api_key!r})"


@dataclass(frozen=True)
class ProviderNumber:
    number: str  # E.164
    provider_ref: str  # Twilio's PN… sid; Vonage's msisdn
    friendly_name: str = ""


@dataclass(frozen=True)
class Webhooks:
    voice_url: str  # Twilio: the number's voice URL; Vonage: the application's answer URL
    status_url: str  # Twilio: the number's status callback; Vonage: the application's event URL


def e164(raw: str) -> str:
    """``447700900123`` or ``+447700900123`` → ``+447700900123``."""
    raw = str(raw or "").strip()
    return raw if raw.startswith("+") else f"+{raw}"


# --- Twilio ---------------------------------------------------------------------------------------


def twilio_client(creds: TwilioCredentials) -> TwilioClient:
    """The SDK's client: the API key when there is one, else the auth token; at the configured base."""
    http_client = TwilioHttpClient(timeout=settings.TELEPHONY_API_TIMEOUT)
    if creds.api_key_sid:
        client = TwilioClient(creds.api_key_sid, creds.api_key_secret, creds.account_sid, http_client=http_client)
    else:
        client = TwilioClient(creds.account_sid, creds.auth_token, http_client=http_client)
    base = getattr(settings, "TWILIO_API_BASE", "")
    if base:
        client.api.base_url = base.rstrip("/")
    return client


def _twilio_error(exc: Exception, doing: str) -> ProviderError:
    if isinstance(exc, TwilioRestException):
        if exc.status in (401, 403):
            return ProviderError(
                f"Twilio refused the credentials while {doing} (HTTP {exc.status}): check the Account SID, "
                "the auth token and the API key",
                refused=True,
                status=exc.status,
            )
        if exc.status == 404:
            return ProviderError(f"Twilio does not know this account or number ({doing})", refused=True, status=404)
        if exc.status < 500:
            return ProviderError(
                f"Twilio refused the request while {doing}: {exc.msg}", refused=True, status=exc.status
            )
        return ProviderError(
            f"Twilio failed while {doing} (HTTP {exc.status}); try again", refused=False, status=exc.status
        )
    return ProviderError(f"Twilio could not be reached while {doing}; try again", refused=False)


def _twilio(doing: str, run):
    try:
        return run()
    except (TwilioException, requests.RequestException) as exc:
        error = _twilio_error(exc, doing)
        log.warning("twilio: %s", error.message)
        raise error from None


def twilio_check(creds: TwilioCredentials) -> str:
    """The account's friendly name, after Twilio accepted the credentials and said the account is active."""
    client = twilio_client(creds)
    account = _twilio("checking the account", lambda: client.api.v2010.accounts(creds.account_sid).fetch())
    if account.status and account.status != "active":
        raise ProviderError(f"The Twilio account is {account.status}", refused=True)
    if creds.api_key_sid:
        # The API key works for REST; the auth token is still needed (webhooks are signed with it).
        direct = twilio_client(TwilioCredentials(creds.account_sid, creds.auth_token))
        _twilio("checking the auth token", lambda: direct.api.v2010.accounts(creds.account_sid).fetch())
    return account.friendly_name or ""


def twilio_numbers(creds: TwilioCredentials) -> list[ProviderNumber]:
    client = twilio_client(creds)
    rows = _twilio("listing the numbers", lambda: client.api.v2010.accounts(creds.account_sid).incoming_phone_numbers.list(limit=1000))  # fmt: skip
    return [ProviderNumber(e164(r.phone_number), r.sid, r.friendly_name or "") for r in rows]


def twilio_set_webhooks(creds: TwilioCredentials, number_ref: str, hooks: Webhooks) -> None:
    client = twilio_client(creds)
    numbers = client.api.v2010.accounts(creds.account_sid).incoming_phone_numbers
    _twilio(
        "setting the number's webhooks",
        lambda: numbers(number_ref).update(
            voice_url=hooks.voice_url,
            voice_method="POST",
            status_callback=hooks.status_url,
            status_callback_method="POST",
        ),
    )


def twilio_call(creds: TwilioCredentials, *, to: str, from_: str, answer_url: str, status_url: str) -> str:
    """Ring ``to`` (the agent's line) from ``from_``; Twilio fetches ``answer_url`` when it is answered."""
    client = twilio_client(creds)
    calls = client.api.v2010.accounts(creds.account_sid).calls
    call = _twilio(
        "placing the call",
        lambda: calls.create(
            to=to,
            from_=from_,
            url=answer_url,
            method="POST",
            status_callback=status_url,
            status_callback_method="POST",
            status_callback_event=TWILIO_STATUS_EVENTS,
        ),
    )
    return call.sid


# --- Vonage ---------------------------------------------------------------------------------------


def vonage_client(creds: VonageCredentials):
    from vonage import Auth, HttpClientOptions, Vonage

    auth = Auth(
        api_key=creds.api_key or None,
        api_secret=creds.api_secret or None,
        application_id=creds.application_id or None,
        private_key=creds.private_key or None,
    )
    options = {"timeout": max(1, int(settings.TELEPHONY_API_TIMEOUT)), "max_retries": 1}
    if getattr(settings, "VONAGE_API_HOST", ""):
        options["api_host"] = settings.VONAGE_API_HOST
    if getattr(settings, "VONAGE_REST_HOST", ""):
        options["rest_host"] = settings.VONAGE_REST_HOST
    return Vonage(auth, HttpClientOptions(**options))


def _vonage_error(exc: Exception, doing: str) -> ProviderError:
    from vonage_http_client.errors import HttpRequestError

    if isinstance(exc, HttpRequestError) and getattr(exc, "response", None) is not None:
        status = exc.response.status_code
        if status in (401, 403):
            return ProviderError(
                f"Vonage refused the credentials while {doing} (HTTP {status}): check the API key and secret, "
                "the application id and its private key",
                refused=True,
                status=status,
            )
        if status == 404:
            return ProviderError(f"Vonage does not know this application or number ({doing})", refused=True, status=404)
        if status < 500:
            return ProviderError(
                f"Vonage refused the request while {doing} (HTTP {status})", refused=True, status=status
            )
        return ProviderError(f"Vonage failed while {doing} (HTTP {status}); try again", refused=False, status=status)
    if isinstance(exc, requests.RequestException):
        return ProviderError(f"Vonage could not be reached while {doing}; try again", refused=False)
    return ProviderError(f"Vonage refused the request while {doing}", refused=True)


def _vonage(doing: str, run):
    from pydantic import ValidationError as ModelError
    from vonage_utils.errors import VonageError

    try:
        return run()
    except (VonageError, ModelError, requests.RequestException) as exc:
        error = _vonage_error(exc, doing)
        log.warning("vonage: %s", error.message)
        raise error from None


def private_key_readable(pem: str) -> bool:
    try:
        load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        return False
    return True


def vonage_check(creds: VonageCredentials) -> str:
    """The application's name, after Vonage accepted the API key (Applications API) and the private key (Voice API)."""
    if not private_key_readable(creds.private_key):
        raise ProviderError("The private key is not a PEM private key (-----BEGIN PRIVATE KEY-----…)", refused=True)
    client = vonage_client(creds)
    application = _vonage("checking the application", lambda: client.application.get_application(creds.application_id))
    _vonage("checking the private key", lambda: client.voice.list_calls())
    return application.name or ""


def vonage_numbers(creds: VonageCredentials) -> list[ProviderNumber]:
    from vonage_numbers import ListOwnedNumbersFilter

    client = vonage_client(creds)
    found: list[ProviderNumber] = []
    index: int | None = 1
    while index is not None and index <= 50:
        page, _count, index = _vonage(
            "listing the numbers",
            lambda i=index: client.numbers.list_owned_numbers(ListOwnedNumbersFilter(size=100, index=i)),
        )
        found.extend(ProviderNumber(e164(n.msisdn), n.msisdn or "", n.type or "") for n in page if n.msisdn)
    return found


def vonage_set_webhooks(creds: VonageCredentials, msisdn: str, hooks: Webhooks) -> None:
    """The application answers and reports calls at our URLs (signed), and the number is linked to it."""
    from vonage_application import ApplicationConfig, Capabilities, Voice, VoiceUrl, VoiceWebhooks
    from vonage_numbers import UpdateNumberParams

    client = vonage_client(creds)
    application = _vonage("reading the application", lambda: client.application.get_application(creds.application_id))
    capabilities = application.capabilities or Capabilities()
    voice = capabilities.voice or Voice()
    voice.webhooks = VoiceWebhooks(
        answer_url=VoiceUrl(address=hooks.voice_url, http_method="POST"),
        event_url=VoiceUrl(address=hooks.status_url, http_method="POST"),
        fallback_answer_url=voice.webhooks.fallback_answer_url if voice.webhooks else None,
    )
    voice.signed_callbacks = True
    capabilities.voice = voice
    config = ApplicationConfig(name=application.name, capabilities=capabilities, privacy=application.privacy)
    _vonage(
        "setting the application's webhooks",
        lambda: client.application.update_application(creds.application_id, config),
    )
    digits = msisdn.lstrip("+")
    country = phonenumbers.region_code_for_number(phonenumbers.parse(e164(digits))) or "GB"
    params = UpdateNumberParams(country=country, msisdn=digits, app_id=creds.application_id)
    _vonage("linking the number to the application", lambda: client.numbers.update_number(params))


def vonage_call(creds: VonageCredentials, *, to: str, from_: str, answer_url: str, status_url: str) -> str:
    """Ring ``to`` (a number or a SIP URI) from ``from_``; Vonage fetches ``answer_url`` when it is answered."""
    from vonage_voice import CreateCallRequest, Phone, Sip, ToPhone

    target = Sip(uri=to) if to.startswith("sip:") else ToPhone(number=to.lstrip("+"))
    request = CreateCallRequest(
        to=[target],
        from_=Phone(number=from_.lstrip("+")),
        answer_url=[answer_url],
        answer_method="POST",
        event_url=[status_url],
        event_method="POST",
    )
    answer = _vonage("placing the call", lambda: client_voice(creds).create_call(request))
    return answer.uuid


def client_voice(creds: VonageCredentials):
    return vonage_client(creds).voice


def vonage_ring_member(
    creds: VonageCredentials, *, to: str, from_: str, conversation: str, event_url: str, ringing_s: int
) -> str:
    """Ring a ring-group member's line (number or SIP URI); answered, their leg joins ``conversation``.

    The member's conversation action ends the conversation when they hang up (the caller with it);
    Vonage stops ringing after ``ringing_s``. Returns the leg's uuid.
    """
    from vonage_voice import Conversation, CreateCallRequest, Phone, Sip, ToPhone

    target = Sip(uri=to) if to.startswith("sip") else ToPhone(number=to.lstrip("+"))
    request = CreateCallRequest(
        to=[target],
        from_=Phone(number=from_.lstrip("+")),
        ncco=[Conversation(name=conversation, startOnEnter=True, endOnExit=True)],
        event_url=[event_url],
        event_method="POST",
        ringing_timer=max(1, min(120, ringing_s)),
    )
    answer = _vonage("ringing a member", lambda: client_voice(creds).create_call(request))
    return answer.uuid


def vonage_hangup(creds: VonageCredentials, call_uuid: str) -> None:
    """End one leg (a member still ringing once another answered or the group timed out)."""
    _vonage("hanging up a leg", lambda: client_voice(creds).hangup(call_uuid))


def vonage_transfer(creds: VonageCredentials, call_uuid: str, ncco_url: str) -> None:
    """Move a live call on to the NCCO that ``ncco_url`` answers with (a flow step URL)."""
    _vonage("moving the call on", lambda: client_voice(creds).transfer_call_answer_url(call_uuid, ncco_url))


# --- one entry point per operation ------------------------------------------------------------------


def check(provider: str, creds) -> str:
    return twilio_check(creds) if provider == "twilio" else vonage_check(creds)


def list_numbers(provider: str, creds) -> list[ProviderNumber]:
    return twilio_numbers(creds) if provider == "twilio" else vonage_numbers(creds)


def set_webhooks(provider: str, creds, number_ref: str, hooks: Webhooks) -> None:
    if provider == "twilio":
        twilio_set_webhooks(creds, number_ref, hooks)
    else:
        vonage_set_webhooks(creds, number_ref, hooks)


def place_call(provider: str, creds, *, to: str, from_: str, answer_url: str, status_url: str) -> str:
    """The provider's id of the new call (Twilio's CallSid, Vonage's uuid)."""
    place = twilio_call if provider == "twilio" else vonage_call
    return place(creds, to=to, from_=from_, answer_url=answer_url, status_url=status_url)
