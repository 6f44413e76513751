"""Octopush X in Octopush Studio: calls as workflow records and their events as triggers.

A call's summary and action items are AI output: a step that sends them out of the platform
carries the "unreviewed AI output" label until a person has reviewed the call (``review_state``).
"""

from __future__ import annotations

from django.db.models import Q

from octopushx.calls.models import Call
from octopushx.core.automation import RecordType, Trigger, Var, record_type, trigger
from octopushx.core.links import record_path


def _label(score: float | None) -> str:
    if score is None:
        return ""
    return "negative" if score <= -0.05 else "positive" if score >= 0.05 else "neutral"


def _load_call(tenant, record_id: str) -> dict | None:
    call = Call.objects.for_tenant(tenant).select_related("agent", "contact", "current").filter(pk=record_id).first()
    if call is None:
        return None
    insights = (call.current.data.get("insights") if call.current_id else None) or {}
    by_speaker = (insights.get("sentiment") or {}).get("by_speaker") or {}
    customer = by_speaker.get("customer")
    agent = call.agent
    return {
        "id": str(call.pk),
        "direction": call.direction,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "status": call.status,
        "duration": round(call.duration or 0),
        "duration_minutes": round((call.duration or 0) / 60, 1),
        "summary": call.summary,
        "action_items": [a.get("text", "") for a in insights.get("action_items") or []],
        "keywords": list(insights.get("keywords") or []),
        "sentiment": call.sentiment,
        "sentiment_label": _label(call.sentiment),
        "customer_sentiment": customer,
        "customer_sentiment_label": _label(customer) if customer is not None else _label(call.sentiment),
        "review_state": call.review_state or "unreviewed",
        "owner": {"id": str(agent.pk), "email": agent.email, "name": agent.full_name or agent.email}
        if agent
        else {"id": None, "email": "", "name": ""},
        "contact_id": str(call.contact_id) if call.contact_id else None,
        "contact_name": f"{call.contact.first_name} {call.contact.last_name}".strip() if call.contact_id else "",
        "started_at": call.started_at.isoformat() if call.started_at else None,
        "url": record_path("calls:detail", call.pk),
    }


def _search_calls(tenant, query: str, limit: int) -> list[tuple[str, str]]:
    qs = Call.objects.for_tenant(tenant).select_related("contact")
    if query:
        qs = qs.filter(
            Q(from_number__icontains=query) | Q(contact__last_name__icontains=query) | Q(filename__icontains=query)
        )
    rows = []
    for call in qs.order_by("-created_at")[:limit]:
        who = f"{call.contact.first_name} {call.contact.last_name}".strip() if call.contact_id else call.from_number
        when = f"{call.started_at:%d %b %H:%M}" if call.started_at else call.filename
        rows.append((str(call.pk), f"Call {who or 'unknown'} · {when}"))
    return rows


record_type(
    RecordType(
        name="call",
        label="Call",
        variables={
            "id": Var("Id", "id"),
            "direction": Var("Direction", "choice", (("inbound", "Inbound"), ("outbound", "Outbound"))),
            "from_number": Var("From number"),
            "to_number": Var("To number"),
            "duration": Var("Duration (seconds)", "number"),
            "duration_minutes": Var("Duration (minutes)", "number"),
            "summary": Var("Summary (AI)"),
            "action_items": Var("Action items (AI)", "list"),
            "keywords": Var("Keywords", "list"),
            "sentiment": Var("Sentiment score (-1 to 1)", "number"),
            "sentiment_label": Var(
                "Sentiment", "choice", (("negative", "Negative"), ("neutral", "Neutral"), ("positive", "Positive"))
            ),
            "customer_sentiment": Var("Customer sentiment score", "number"),
            "customer_sentiment_label": Var(
                "Customer sentiment",
                "choice",
                (("negative", "Negative"), ("neutral", "Neutral"), ("positive", "Positive")),
            ),
            "review_state": Var("Review state"),
            "owner.id": Var("Agent id", "id"),
            "owner.email": Var("Agent email"),
            "owner.name": Var("Agent name"),
            "contact_name": Var("Contact name"),
            "started_at": Var("Started", "datetime"),
            "url": Var("Link"),
        },
        load=_load_call,
        sample={
            "id": "00000000-0000-0000-0000-000000000005",
            "direction": "inbound",
            "from_number": "+442079460000",
            "to_number": "+442079460999",
            "status": "analysed",
            "duration": 312,
            "duration_minutes": 5.2,
            "summary": "The customer's internet has dropped every evening for three weeks; an engineer visit was booked for Thursday.",
            "action_items": ["Book an engineer visit for Thursday"],
            "keywords": ["internet", "engineer visit"],
            "sentiment": -0.42,
            "sentiment_label": "negative",
            "customer_sentiment": -0.61,
            "customer_sentiment_label": "negative",
            "review_state": "unreviewed",
            "owner": {"id": None, "email": "agent@example.com", "name": "Alex Agent"},
            "contact_id": None,
            "contact_name": "Ada Lovelace",
            "started_at": "2026-01-05T09:30:00+00:00",
            "url": "/calls/",
        },
        contact_of=lambda tenant, values: values.get("contact_id"),
        url=lambda record_id: record_path("calls:detail", record_id),
        describe=lambda v: f"Call with {v.get('contact_name') or v.get('from_number') or 'unknown'}",
        search=_search_calls,
    )
)

for _event, _label_text in (
    ("call.created", "Call received"),
    ("call.analysed", "Call analysed"),
    ("call.reviewed", "Call reviewed"),
    ("call.failed", "Call analysis failed"),
):
    trigger(Trigger(event=_event, label=_label_text, record_type="call", id_key="call_id"))
