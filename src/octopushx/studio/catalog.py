"""What the builder offers: triggers, steps with their parameters, variables and operators."""

from __future__ import annotations

from octopushx.core import automation
from octopushx.studio import conditions, definition
from octopushx.tenancy.models import Membership, Team

_BUILTIN_PARAMS = {
    "branch": [{"name": "conditions", "label": "Conditions", "kind": "conditions", "required": True}],
    "delay": [
        {"name": "minutes", "label": "Wait (minutes)", "kind": "number", "required": False},
        {"name": "until_field", "label": "Or until the date in", "kind": "date_field", "required": False},
        {"name": "weekday", "label": "Or until weekday", "kind": "choice", "required": False,
         "choices": [[d, d.title()] for d in definition.WEEKDAYS]},
        {"name": "time", "label": "At (HH:MM)", "kind": "text", "required": False},
    ],
    "send_email": [
        {"name": "to", "label": "To", "kind": "recipient", "required": True,
         "choices": [["record_owner", "The record's owner"], ["manager", "The owner's team manager"],
                     ["contact", "The contact (respects consent and restriction)"],
                     ["admins", "The organisation's owners and admins (privacy contact)"]]},
        {"name": "subject", "label": "Subject", "kind": "template", "required": True},
        {"name": "body", "label": "Message (HTML)", "kind": "template_long", "required": True},
    ],
    "http_request": [
        {"name": "method", "label": "Method", "kind": "choice", "required": True,
         "choices": [[m, m] for m in definition.HTTP_METHODS]},
        {"name": "url", "label": "URL", "kind": "template", "required": True},
        {"name": "headers", "label": "Headers", "kind": "headers", "required": False},
        {"name": "body", "label": "JSON body", "kind": "json", "required": False},
    ],
    "ai": [
        {"name": "task", "label": "Task", "kind": "choice", "required": True,
         "choices": [["summarise", "Summarise"], ["classify", "Classify"]]},
        {"name": "text", "label": "Text to read", "kind": "template_long", "required": True},
        {"name": "labels", "label": "Labels (classify)", "kind": "labels", "required": False},
    ],
}  # fmt: skip

_OUTPUTS = {
    "branch": ["branch", "result"],
    "delay": ["until"],
    "send_email": ["to", "subject", "message_id"],
    "http_request": ["status", "body", "headers", "webhook_id"],
    "ai": ["text", "summary", "label", "model", "review_state"],
    "create_task": ["task_id", "title", "assignee"],
    "update_field": ["field", "old", "new"],
    "add_tag": ["tags", "changed"],
    "remove_tag": ["tags", "changed"],
    "assign_owner": ["owner"],
    "create_note": ["note_id"],
    "upsert_contact": ["contact_id", "created"],
}


def _variables(rt: automation.RecordType) -> list[dict]:
    return [
        {"path": f"{rt.name}.{name}", "label": var.label, "kind": var.kind, "choices": [list(c) for c in var.choices]}
        for name, var in rt.variables.items()
    ]


def describe(tenant) -> dict:
    automation.discover()
    steps = [
        {"type": kind, "label": label, "icon": icon, "record_types": [], "params": _BUILTIN_PARAMS[kind],
         "outputs": _OUTPUTS.get(kind, [])}
        for kind, (label, icon) in definition.BUILTIN.items()
    ]  # fmt: skip
    for action in automation.ACTIONS.values():
        steps.append(
            {
                "type": action.type,
                "label": action.label,
                "icon": action.icon,
                "record_types": list(action.record_types),
                "params": [
                    {"name": p.name, "label": p.label, "kind": p.kind, "required": p.required,
                     "choices": [list(c) for c in p.choices], "help": p.help}
                    for p in action.params
                ],
                "outputs": _OUTPUTS.get(action.type, []),
            }
        )  # fmt: skip
    from octopushx.crm.automation import _UPDATABLE

    members = Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__email")
    return {
        "triggers": [
            {"type": "event", "event": t.event, "label": t.label, "record_type": t.record_type, "watch": t.watch}
            for t in automation.TRIGGERS.values()
        ]
        + [
            {"type": "schedule", "label": "On a schedule", "record_type": ""},
            {"type": "webhook", "label": "When a webhook is received", "record_type": ""},
            {"type": "manual", "label": "Started by hand (from a list)", "record_type": "contact"},
        ],
        "record_types": {
            name: {"label": rt.label, "variables": _variables(rt)} for name, rt in automation.RECORD_TYPES.items()
        },
        "common_variables": [
            {"path": "workflow.name", "label": "Workflow name", "kind": "text"},
            {"path": "org.name", "label": "Organisation name", "kind": "text"},
            {"path": "now", "label": "Now (date and time)", "kind": "datetime"},
            {"path": "today", "label": "Today (date)", "kind": "date"},
            {"path": "trigger.event", "label": "Trigger event", "kind": "text"},
        ],
        "steps": steps,
        "operators": [{"op": op, "label": label, "needs_value": needs} for op, (label, needs) in conditions.OPERATORS.items()],
        "members": [{"id": str(m.user_id), "label": f"{m.user.full_name or m.user.email} ({m.get_role_display()})"}
                    for m in members],
        "teams": [{"id": str(t.pk), "label": t.name} for t in Team.objects.filter(tenant=tenant)],
        "fields": {rt: [{"name": f, "label": f.replace("_", " ").capitalize()} for f in fields]
                   for rt, fields in _UPDATABLE.items()},
    }  # fmt: skip
