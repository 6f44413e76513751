"""Ready workflows to start from. Each is created turned off, to be checked and then turned on."""

from __future__ import annotations

import copy

TEMPLATES: list[dict] = [
    {
        "key": "vip_welcome",
        "name": "VIP contact welcome",
        "description": "When a contact tagged vip is created: a welcome call task for the owner, a welcome email "
        "to the contact (only with consent, never under restriction), and a tag once done.",
        "icon": "ti-crown",
        "definition": {
            "name": "VIP contact welcome",
            "reenrol": "once",
            "trigger": {
                "type": "event",
                "event": "contact.created",
                "conditions": {"all": [{"field": "contact.tags", "op": "contains", "value": "vip"}]},
            },
            "steps": [
                {"id": "s1", "type": "create_task", "title": "Welcome call with {{ contact.full_name }}",
                 "description": "A VIP joined: call within a day.", "due_in_days": 1, "assignee": "record_owner"},
                {"id": "s2", "type": "send_email", "to": "contact", "subject": "Welcome, {{ contact.first_name }}",
                 "body": "<p>Hello {{ contact.first_name }},</p><p>Welcome aboard. {{ contact.owner.name }} will "
                 "call you shortly to get you started.</p>"},
                {"id": "s3", "type": "add_tag", "tag": "welcomed"},
            ],
        },
    },
    {
        "key": "negative_call_manager_task",
        "name": "Negative customer call → manager task",
        "description": "When a call is analysed and the customer was negative: a review task for the agent's team "
        "manager, and the call posted to your ticketing system's webhook (signed).",
        "icon": "ti-mood-sad",
        "definition": {
            "name": "Negative customer call → manager task",
            "reenrol": "every",
            "trigger": {
                "type": "event",
                "event": "call.analysed",
                "conditions": {"all": [{"field": "call.customer_sentiment_label", "op": "eq", "value": "negative"}]},
            },
            "steps": [
                {"id": "s1", "type": "create_task", "title": "Review a negative call: {{ call.contact_name or call.from_number }}",
                 "description": "{{ call.owner.name }}'s call needs a look.", "due_in_days": 1, "assignee": "manager"},
                {"id": "s2", "type": "http_request", "method": "POST", "url": "https://tickets.example.com/api/tickets",
                 "headers": {}, "body": {"title": "Negative call with {{ call.contact_name or call.from_number }}",
                                         "agent": "{{ call.owner.email }}", "summary": "{{ call.summary }}",
                                         "link": "{{ call.url }}"}},
            ],
        },
    },
    {
        "key": "deal_won_onboarding",
        "name": "Deal won → onboarding tasks",
        "description": "When a deal is won: a kick-off call, a welcome pack and a 30-day check-in for its owner, "
        "and a note on the deal.",
        "icon": "ti-trophy",
        "definition": {
            "name": "Deal won → onboarding tasks",
            "reenrol": "once",
            "trigger": {"type": "event", "event": "deal.won"},
            "steps": [
                {"id": "s1", "type": "create_task", "title": "Kick-off call: {{ deal.name }}", "due_in_days": 1,
                 "assignee": "record_owner"},
                {"id": "s2", "type": "create_task", "title": "Send the welcome pack: {{ deal.name }}", "due_in_days": 2,
                 "assignee": "record_owner"},
                {"id": "s3", "type": "create_task", "title": "30-day check-in: {{ deal.name }}", "due_in_days": 30,
                 "assignee": "record_owner"},
                {"id": "s4", "type": "create_note", "subject": "Onboarding started",
                 "body": "<p>Won for {{ deal.currency }} {{ deal.value }}. Onboarding tasks created by "
                 "{{ workflow.name }}.</p>"},
            ],
        },
    },
    {
        "key": "overdue_task_reminder",
        "name": "Overdue task reminder email",
        "description": "Every weekday at 9:00, each member with overdue tasks gets an email listing them.",
        "icon": "ti-alarm",
        "definition": {
            "name": "Overdue task reminder email",
            "reenrol": "every",
            "trigger": {
                "type": "schedule",
                "cron": "0 9 * * 1-5",
                "for_each": "member",
                "conditions": {"all": [{"field": "member.overdue_count", "op": "gt", "value": 0}]},
            },
            "steps": [
                {"id": "s1", "type": "send_email", "to": "record_owner",
                 "subject": "You have {{ member.overdue_count }} overdue task{{ 's' if member.overdue_count != 1 }}",
                 "body": "<p>Good morning {{ member.name }},</p><p>These tasks are overdue:</p><ul>"
                 "{% for task in member.overdue_tasks %}<li>{{ task }}</li>{% endfor %}</ul>"},
            ],
        },
    },
    {
        "key": "privacy_request_notify",
        "name": "New privacy request → notify the privacy contact",
        "description": "When a privacy request arrives, the owners and admins (who handle privacy requests) are "
        "emailed its kind and legal due date, without the requester's personal data.",
        "icon": "ti-shield-check",
        "definition": {
            "name": "New privacy request → notify the privacy contact",
            "reenrol": "every",
            "trigger": {"type": "event", "event": "privacy_request.created"},
            "steps": [
                {"id": "s1", "type": "send_email", "to": "admins",
                 "subject": "New {{ privacy_request.kind_label | lower }} request, due {{ privacy_request.due_at[:10] }}",
                 "body": "<p>A {{ privacy_request.kind_label | lower }} request arrived ({{ privacy_request.source }}). "
                 "It is due by {{ privacy_request.due_at[:10] }}.</p><p>Open it in Shield: {{ privacy_request.url }}</p>"},
            ],
        },
    },
    {
        "key": "webhook_upsert_contact",
        "name": "Inbound webhook → create or update a contact",
        "description": "A form or another system posts JSON to this workflow's signed webhook address; the contact "
        "is created, or updated when the email already exists.",
        "icon": "ti-webhook",
        "definition": {
            "name": "Inbound webhook → create or update a contact",
            "reenrol": "every",
            "trigger": {"type": "webhook"},
            "steps": [
                {"id": "s1", "type": "upsert_contact", "email": "{{ trigger.body.email }}",
                 "first_name": "{{ trigger.body.first_name | default('') }}",
                 "last_name": "{{ trigger.body.last_name | default('') }}",
                 "phone": "{{ trigger.body.phone | default('') }}", "tags": "web form"},
            ],
        },
    },
]  # fmt: skip

BY_KEY = {template["key"]: template for template in TEMPLATES}


def template_body(tenant, key: str) -> dict | None:
    found = BY_KEY.get(key)
    return copy.deepcopy(found["definition"]) if found else None
