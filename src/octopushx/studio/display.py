"""Workflows and runs in words for the pages: a trigger as a sentence, a cron expression read
aloud, a run's status colour and duration, a step's label from the version it ran."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from octopushx.core import automation

RETRY_MODES = [
    ("failed_step", "Retry the failed step"),
    ("start", "Retry from the start"),
    ("latest", "Re-run on the latest version"),
]

STATUS_COLOURS = {
    "queued": "secondary",
    "running": "blue",
    "waiting": "purple",
    "succeeded": "green",
    "failed": "red",
    "skipped": "secondary",
    "cancelled": "secondary",
    "loop_prevented": "orange",
}

STATUS_ICONS = {
    "queued": "ti-clock",
    "running": "ti-player-play",
    "waiting": "ti-hourglass",
    "succeeded": "ti-circle-check",
    "failed": "ti-alert-circle",
    "skipped": "ti-player-skip-forward",
    "cancelled": "ti-circle-x",
    "loop_prevented": "ti-repeat-off",
}

TRIGGER_ICONS = {"event": "ti-bolt", "schedule": "ti-calendar-time", "webhook": "ti-webhook", "manual": "ti-hand-click"}

STEP_ICONS = {
    "branch": "ti-arrows-split-2",
    "delay": "ti-hourglass",
    "create_task": "ti-checkbox",
    "update_field": "ti-pencil",
    "add_tag": "ti-tag",
    "remove_tag": "ti-tag-off",
    "assign_owner": "ti-user-check",
    "create_note": "ti-notes",
    "upsert_contact": "ti-user-plus",
    "send_email": "ti-mail",
    "http_request": "ti-world-upload",
    "ai": "ti-sparkles",
}

DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def event_label(event: str, described: dict | None = None) -> str:
    for trigger in (described or {}).get("triggers", []):
        if trigger.get("event") == event:
            return trigger.get("label") or event
    automation.discover()
    known = automation.TRIGGERS.get(event)
    return known.label if known else event


def trigger_icon(trigger: dict) -> str:
    return TRIGGER_ICONS.get(trigger.get("type", ""), "ti-bolt")


def trigger_words(trigger: dict, described: dict | None = None) -> str:
    """The trigger in words: "When: Contact created · 2 conditions", "Weekdays at 09:00 (Europe/London)"."""
    kind = trigger.get("type")
    if kind == "event":
        words = f"When: {event_label(trigger.get('event', ''), described)}"
        watched = trigger.get("watch") or []
        if watched:
            words += f" ({', '.join(str(w).replace('_', ' ') for w in watched)})"
        count = count_conditions(trigger.get("conditions"))
        if count:
            words += f" · {count} condition{'s' if count != 1 else ''}"
        return words
    if kind == "schedule":
        words = cron_words(trigger.get("cron", ""))
        return f"{words} ({trigger['timezone']})" if trigger.get("timezone") else words
    if kind == "webhook":
        return "When its webhook is called"
    if kind == "manual":
        record = trigger.get("record_type") or "record"
        return f"Started by hand on {record}s"
    return "No trigger yet"


def count_conditions(conditions) -> int:
    if isinstance(conditions, list):
        return sum(count_conditions(c) for c in conditions)
    if isinstance(conditions, dict):
        for key in ("all", "any"):
            if key in conditions:
                return count_conditions(conditions[key])
        return 1 if "field" in conditions else 0
    return 0


def count_steps(steps: list) -> int:
    total = 0
    for step in steps or []:
        if not isinstance(step, dict):
            continue
        total += 1
        if step.get("type") == "branch":
            total += count_steps(step.get("then") or []) + count_steps(step.get("else") or [])
    return total


def definition_summary(definition: dict, described: dict | None) -> str:
    steps = count_steps(definition.get("steps") or [])
    trigger = trigger_words(definition.get("trigger") or {}, described)
    return f"{trigger} · {steps} step{'s' if steps != 1 else ''}"


def _time(hour: str, minute: str) -> str | None:
    if hour.isdigit() and minute.isdigit():
        return f"{int(hour):02d}:{int(minute):02d}"
    return None


def cron_words(cron: str) -> str:
    """The usual shapes said in words; anything else shown as it is."""
    parts = (cron or "").split()
    if len(parts) != 5:
        return f"Schedule {cron}".strip()
    minute, hour, day, month, weekday = parts
    at = _time(hour, minute)
    if at and day == "*" and month == "*":
        if weekday == "*":
            return f"Every day at {at}"
        if weekday in ("1-5", "mon-fri", "MON-FRI"):
            return f"Weekdays at {at}"
        if weekday.isdigit() and int(weekday) <= 7:
            return f"Every {DAYS[int(weekday) % 7]} at {at}"
    if at and day.isdigit() and month == "*" and weekday == "*":
        return f"On day {day} of every month at {at}"
    if minute.isdigit() and hour == "*" and day == month == weekday == "*":
        return f"Every hour at :{int(minute):02d}"
    if minute.startswith("*/") and hour == day == month == weekday == "*":
        return f"Every {minute[2:]} minutes"
    return f"Schedule {cron}"


def duration(start: datetime | None, end: datetime | None) -> str:
    if not start or not end:
        return ""
    return duration_words(end - start)


def duration_words(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 1:
        return f"{max(seconds * 1000, 0):.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"


def run_trigger_words(trigger: dict) -> str:
    kind = (trigger or {}).get("type", "")
    if kind == "event":
        return event_label(trigger.get("event", ""))
    return {"schedule": "Schedule", "webhook": "Webhook", "manual": "Started by hand", "retry": "Retry"}.get(
        kind, kind.replace("_", " ").capitalize() or "—"
    )


def record_link(record_type: str, record_id: str, name: str = "") -> dict | None:
    """The record as a link: its name when the run stored one, else its kind."""
    if not record_type or not record_id:
        return None
    automation.discover()
    known = automation.RECORD_TYPES.get(record_type)
    label = known.label if known else record_type.replace("_", " ").capitalize()
    url = ""
    if known is not None:
        try:
            url = known.url(record_id)
        except Exception:  # a record type whose page needs more than the id has no link
            url = ""
    return {"label": name or label, "url": url, "id": record_id}


def record_name(tenant, record_type: str, record_id: str) -> str:
    """The record's name for one page (a run's detail), or "" when it is gone."""
    automation.discover()
    known = automation.RECORD_TYPES.get(record_type)
    if known is None or not record_id:
        return ""
    try:
        values = known.load(tenant, record_id)
        return known.describe(values) if values else ""
    except Exception:  # a record that cannot be loaded is shown by its kind only
        return ""


def run_row(run) -> dict:
    started = run.started_at or run.created_at
    end = run.finished_at
    return {
        "run": run,
        "started": started,
        "trigger": run_trigger_words(run.trigger),
        "record": record_link(run.record_type, run.record_id, run.record_label),
        "status": run.status,
        "status_label": run.get_status_display(),
        "colour": STATUS_COLOURS.get(run.status, "secondary"),
        "icon": STATUS_ICONS.get(run.status, "ti-point"),
        "duration": duration(run.started_at, end) if end else "",
    }


def step_summary(step: dict) -> str:
    """What a step of a version does, in a few words (the run page's line under each step)."""
    kind = step.get("type", "")
    if kind == "branch":
        count = count_conditions(step.get("conditions"))
        return f"If {count} condition{'s' if count != 1 else ''} hold{'' if count != 1 else 's'}: yes or no path"
    if kind == "delay":
        if step.get("until_field"):
            return f"Wait until {step['until_field']}"
        if step.get("time"):
            return f"Wait until {step.get('weekday') or 'the next'} {step['time']}".strip()
        return f"Wait {step.get('minutes', 0)} minutes"
    if kind == "send_email":
        return f"Email {str(step.get('to', '')).replace('_', ' ')}: “{step.get('subject', '')}”"
    if kind == "http_request":
        return f"{step.get('method', 'POST')} {step.get('url', '')}"
    if kind == "ai":
        return "Classify the text" if step.get("task") == "classify" else "Summarise the text"
    automation.discover()
    action = automation.ACTIONS.get(kind)
    if action is not None:
        try:
            return action.describe(step)
        except Exception:  # a description never breaks the page
            return ""
    return ""


def step_labels(definition: dict) -> dict[str, dict]:
    """Each step's id -> {"type", "summary", "path"} from a version's body (branches walked)."""
    found: dict[str, dict] = {}

    def walk(steps, path):
        for step in steps or []:
            if not isinstance(step, dict):
                continue
            found[str(step.get("id", ""))] = {"type": step.get("type", ""), "summary": step_summary(step), "path": path}
            if step.get("type") == "branch":
                walk(step.get("then"), f"{path}{step.get('id')} → yes · ")
                walk(step.get("else"), f"{path}{step.get('id')} → no · ")

    walk(definition.get("steps"), "")
    return found


def pretty(value) -> str:
    if value in (None, "", {}, []):
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def step_row(step, labels: dict[str, dict]) -> dict:
    known = labels.get(step.step_id, {})
    automation.discover()
    action = automation.ACTIONS.get(step.type)
    type_label = action.label if action else step.type.replace("_", " ").capitalize()
    return {
        "step": step,
        "label": type_label,
        "summary": known.get("summary", ""),
        "path": known.get("path", "").rstrip(" ·"),
        "icon": (action.icon if action else "") or STEP_ICONS.get(step.type, "ti-point"),
        "colour": STATUS_COLOURS.get(step.status, "secondary"),
        "status_icon": STATUS_ICONS.get(step.status, "ti-point"),
        "duration": duration(step.started_at, step.finished_at),
        "input": pretty(step.input),
        "output": pretty(step.output),
        "skip_reason": (step.output or {}).get("reason", "") if step.status == "skipped" else "",
    }
