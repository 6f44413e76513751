"""The caller card: who is calling, as one member may see it, for a call ringing for them or answered by them.

Pure reads. The member's relation to the call gives the card's state: ``ringing`` (rung now, nobody has
answered), ``on_call`` (they answered), ``taken`` (a colleague answered) or ``ended``; no relation at all is
``None`` and the call is not theirs to see. The contact is matched by the caller's E.164 number and shown
as the CRM shows it to this member: not visible and restricted, it is not named; restricted, it is named
with no deals, calls or tasks (restriction of processing); not visible, it is named (as in the call log)
without its record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import phonenumbers
from django.urls import reverse
from django.utils import timezone

from octopushx.calls.services import match_contact, visible_calls
from octopushx.crm.models import Contact, Deal, StageKind, Task, TaskStatus
from octopushx.crm.visibility import is_visible, visible
from octopushx.telephony.models import CALL_PRESENCE_TIMEOUT, TERMINAL_STATES, PhoneCall

RINGING, ON_CALL, TAKEN, ENDED = "ringing", "on_call", "taken", "ended"
LIVE_CARD_STATES = (RINGING, ON_CALL)
MAX_CARDS = 3  # calls shown at once (a queue can ring one member for several)
DETAIL_ROWS = 3  # deals, last calls and tasks listed on a card


def relation(phone_call: PhoneCall, user) -> str | None:
    """The card's state for ``user``, or ``None`` when the call was never theirs."""
    user_id = str(user.pk)
    ringing = {str(v) for v in phone_call.ringing_users or ()}
    agent = str(phone_call.agent_id) if phone_call.agent_id else None
    if user_id != agent and user_id not in ringing:
        return None
    if phone_call.state in TERMINAL_STATES:
        return ENDED
    if agent == user_id:
        return ON_CALL
    return TAKEN if agent else RINGING


def live_calls_for(tenant, user) -> list[tuple[PhoneCall, str]]:
    """The calls ringing for ``user`` or answered by them now, newest first (at most ``MAX_CARDS``).

    A call whose end never arrived stops counting after ``CALL_PRESENCE_TIMEOUT`` (as presence does).
    """
    since = timezone.now() - CALL_PRESENCE_TIMEOUT
    rows = (
        PhoneCall.objects.for_tenant(tenant)
        .exclude(state__in=TERMINAL_STATES)
        .filter(created_at__gte=since)
        .select_related("number", "flow", "agent", "contact__company")
        .order_by("-created_at")[:50]
    )
    found = []
    for row in rows:
        state = relation(row, user)
        if state in LIVE_CARD_STATES:
            found.append((row, state))
        if len(found) == MAX_CARDS:
            break
    return found


def sync_state(tenant, user) -> list[dict]:
    """What the browser compares its cards with after a reconnect or a poll: ``[{"id", "state"}]``."""
    return [{"id": str(row.pk), "state": state} for row, state in live_calls_for(tenant, user)]


def international(e164: str) -> str:
    """``+447700900123`` → ``+44 7700 900123``: the caller's country shows at a glance."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


@dataclass
class CallerCard:
    phone_call: PhoneCall
    state: str
    number: str  # the caller's (inbound) or callee's (outbound) number, formatted
    line: str  # which of our numbers, and its flow
    contact: Contact | None = None
    named: bool = False  # the contact may be named to this member
    linked: bool = False  # ... and opened (its record is visible to them)
    restricted: bool = False
    deals: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    tasks: list = field(default_factory=list)
    create_url: str = ""
    contact_url: str = ""

    @property
    def key(self) -> str:
        return f"{self.phone_call.pk}:{self.state}"

    @property
    def live(self) -> bool:
        return self.state in LIVE_CARD_STATES

    @property
    def unknown(self) -> bool:
        return self.contact is None


def _customer_number(phone_call: PhoneCall) -> str:
    return phone_call.from_number if phone_call.direction == "inbound" else phone_call.to_number


def _line(phone_call: PhoneCall) -> str:
    number = phone_call.number
    called = (number.friendly_name or international(number.number)) if number else international(phone_call.to_number)
    if phone_call.direction != "inbound":
        called = "Outbound call"
    flow = phone_call.flow.name if phone_call.flow_id and phone_call.flow else ""
    return f"{called} · {flow}" if flow and flow != called else called


def build(tenant, membership, phone_call: PhoneCall, state: str) -> CallerCard:
    """The card for ``membership``'s member, with only what the CRM lets them see."""
    customer = _customer_number(phone_call)
    card = CallerCard(
        phone_call, state, international(customer) if customer else "a withheld number", _line(phone_call)
    )
    contact = phone_call.contact or (match_contact(tenant, customer) if customer else None)
    if contact is None:
        query = urlencode({"phone": customer}) if customer else ""
        card.create_url = reverse("crm:contact_new") + (f"?{query}" if query else "")
        return card
    card.contact, card.restricted = contact, contact.restricted
    card.linked = is_visible(contact, membership)
    card.named = card.linked or not contact.restricted
    if card.linked:
        card.contact_url = reverse("crm:contact", args=[contact.pk])
    if not card.linked or contact.restricted:
        return card
    deals = (
        visible(Deal, tenant, membership)
        .filter(contacts=contact, status=StageKind.OPEN)
        .select_related("stage")
        .order_by("-created_at")[:DETAIL_ROWS]
    )
    card.deals = [
        {
            "name": d.name,
            "stage": d.stage.name,
            "amount": money(d.value, d.currency),
            "url": reverse("crm:deal", args=[d.pk]),
        }
        for d in deals
    ]
    calls = (
        visible_calls(tenant, membership)
        .filter(contact=contact)
        .exclude(pk=phone_call.call_id)
        .order_by("-started_at", "-created_at")[:DETAIL_ROWS]
    )
    card.calls = [
        {
            "when": _moment(c.started_at or c.created_at),
            "outcome": _outcome(c),
            "url": reverse("calls:detail", args=[c.pk]),
        }
        for c in calls
    ]
    tasks = (
        visible(Task, tenant, membership)
        .filter(contact=contact, status=TaskStatus.OPEN)
        .order_by("due_at", "created_at")[:DETAIL_ROWS]
    )
    card.tasks = [{"title": t.title, "due": _moment(t.due_at) if t.due_at else ""} for t in tasks]
    return card


def money(value, currency: str) -> str:
    """``1,200 GBP``, ``1,200.50 GBP`` (as the CRM's pages write amounts)."""
    return f"{value:,.2f}".removesuffix(".00") + f" {currency}"


def _moment(at) -> str:
    moment = timezone.localtime(at)
    return moment.strftime("%-d %b %H:%M" if moment.year == timezone.localtime().year else "%-d %b %Y")


def _outcome(call) -> str:
    if call.outcome:
        return call.get_outcome_display()
    return call.get_direction_display()
