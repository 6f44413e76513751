"""Home's set-up cards from telephony: connect a provider (admins), set your phone line (members who take calls)."""

from __future__ import annotations

from django.urls import reverse

from octopushx.core.home import SetupCard, setup_card
from octopushx.telephony import accounts, clicktocall, services


@setup_card(order=12)
def phone_numbers(request) -> SetupCard | None:
    if not services.can_edit(request.membership) or accounts.account_rows(request.tenant).exists():
        return None
    return SetupCard(
        "Phone numbers",
        "Connect Twilio or Vonage: inbound calls run your call flows, and every CRM number gets a call button.",
        reverse("telephony:numbers"),
    )


@setup_card(order=14)
def phone_line(request) -> SetupCard | None:
    if not services.takes_calls(request.membership) or not clicktocall.can_call(request.tenant):
        return None
    if clicktocall.line_of(services.presence_of(request.tenant, request.user)):
        return None
    return SetupCard(
        "Your phone line", "Set the phone that rings for your calls and click-to-call.", reverse("telephony:line")
    )
