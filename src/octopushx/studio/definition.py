"""A workflow body: its validation (field errors naming the step) and its normal form.

Body: ``{"name", "enabled", "reenrol", "trigger": {...}, "steps": [...]}``. Every step gets a
stable ``id`` (``s1``, ``s2``… when the client sent none) unique across the whole tree, so
errors, run history and ``{{ steps.s2.… }}`` references all name it. Errors are keyed
``trigger.cron``, ``steps.s2.url``, ``steps.s4.conditions.all.0.field`` and each message names
the step ("Step 2 · HTTP request: …").
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.core.exceptions import ValidationError
from django.utils import timezone

from octopushx.core import automation
from octopushx.studio import conditions, templating

MAX_STEPS = 100
MAX_NESTING = 8
MAX_DELAY_MINUTES = 60 * 24 * 365
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
AI_TASKS = ("summarise", "classify")
TRIGGER_TYPES = ("event", "schedule", "webhook", "manual")
FOR_EACH = ("member",)
# Who an email step writes to; "admins" are the owners and admins (who handle privacy requests).
EMAIL_TO = ("record_owner", "manager", "contact", "admins")
STEP_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")

# Steps Studio runs itself; the others are product actions from ``core.automation``.
BUILTIN = {
    "branch": ("If / else", "ti-git-branch"),
    "delay": ("Wait", "ti-clock-pause"),
    "send_email": ("Send email", "ti-mail"),
    "http_request": ("HTTP request", "ti-world-upload"),
    "ai": ("AI: summarise or classify", "ti-sparkles"),
}


def step_label(step_type: str) -> str:
    if step_type in BUILTIN:
        return BUILTIN[step_type][0]
    found = automation.ACTIONS.get(step_type)
    return found.label if found else step_type


def record_type_of(trigger: dict) -> str:
    """The kind of record runs of this trigger are about ("" for none)."""
    automation.discover()
    kind = trigger.get("type")
    if kind == "event":
        found = automation.TRIGGERS.get(trigger.get("event", ""))
        return found.record_type if found else ""
    if kind == "schedule":
        return "member" if trigger.get("for_each") == "member" else ""
    if kind == "manual":
        return trigger.get("record_type") or "contact"
    return ""


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_runs(cron: str, tz_name: str, count: int = 5, after: datetime | None = None) -> list[datetime]:
    """The next ``count`` firing times of ``cron`` in the time zone ``tz_name`` (aware datetimes)."""
    tz = zone(tz_name)
    start = (after or timezone.now()).astimezone(tz)
    it = croniter(cron, start)
    return [it.get_next(datetime) for _ in range(count)]


class _Checker:
    def __init__(self, tenant, body: dict, workflow_key: str = ""):
        self.tenant = tenant
        self.body = body
        self.workflow_key = workflow_key
        self.errors: dict[str, list[str]] = {}
        self.ids: set[str] = set()
        self.count = 0
        self.record_type = ""
        self.ai_steps: list[str] = []

    def error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    # --- variables -------------------------------------------------------------------------

    def known(self, path: str, earlier: list[str]) -> bool:
        head, _, rest = path.partition(".")
        if head in ("now", "today"):
            return not rest
        if head == "trigger":
            return True
        if head == "workflow":
            return rest in ("", "name", "id")
        if head == "org":
            return rest in ("", "name")
        if head == "steps":
            step, _, _tail = rest.partition(".")
            return step in earlier
        if head == self.record_type and head:
            variables = automation.RECORD_TYPES[head].variables
            if not rest:
                return True
            if rest in variables:
                return True
            if any(name.startswith(rest + ".") for name in variables):
                return True
            return any(var.kind == "object" and rest.startswith(name + ".") for name, var in variables.items())
        return False

    def templates(self, key: str, label: str, value: Any, earlier: list[str]) -> None:
        try:
            paths = templating.paths_in(value)
        except templating.TemplateProblem as exc:
            self.error(key, f"{label}: {exc}")
            return
        for path in paths:
            if not self.known(path, earlier):
                self.error(key, f"{label}: unknown variable {{{{ {path} }}}} at this step")

    # --- trigger ---------------------------------------------------------------------------

    def trigger(self) -> dict:
        trigger = self.body.get("trigger")
        if not isinstance(trigger, dict):
            self.error("trigger", "Choose a trigger")
            return {}
        kind = trigger.get("type")
        if kind not in TRIGGER_TYPES:
            self.error("trigger.type", f"Unknown trigger type {kind!r}; use one of {', '.join(TRIGGER_TYPES)}")
            return {}
        out: dict[str, Any] = {"type": kind}
        if kind == "event":
            event = trigger.get("event", "")
            found = automation.TRIGGERS.get(event)
            if found is None:
                self.error("trigger.event", f"Unknown event {event!r}")
                return out
            out["event"] = event
            watch = trigger.get("watch") or []
            if not isinstance(watch, list) or not all(isinstance(w, str) for w in watch):
                self.error("trigger.watch", "Watched fields are a list of field names")
                watch = []
            if watch and not found.watch:
                self.error("trigger.watch", f"{found.label} does not say which fields changed")
            variables = automation.RECORD_TYPES[found.record_type].variables
            for name in watch:
                if name not in variables and not name.startswith("custom."):
                    self.error("trigger.watch", f"Unknown field {name!r}")
            if watch:
                out["watch"] = watch
        elif kind == "schedule":
            cron = str(trigger.get("cron", "")).strip()
            if not cron or not croniter.is_valid(cron):
                self.error("trigger.cron", f"{cron!r} is not a cron expression (such as 0 9 * * 1-5)")
            elif len(cron.split()) != 5:
                self.error("trigger.cron", "Use five fields: minute hour day-of-month month day-of-week")
            tz_name = trigger.get("timezone") or getattr(self.tenant, "time_zone", "") or "UTC"
            try:
                ZoneInfo(tz_name)
            except (ZoneInfoNotFoundError, ValueError):
                self.error("trigger.timezone", f"Unknown time zone {tz_name!r}")
            out.update(cron=cron, timezone=tz_name)
            for_each = trigger.get("for_each")
            if for_each not in (None, "", *FOR_EACH):
                self.error("trigger.for_each", "A schedule runs once, or once for each member")
            if for_each:
                out["for_each"] = for_each
        elif kind == "manual":
            record_type = trigger.get("record_type") or "contact"
            if record_type not in automation.RECORD_TYPES:
                self.error("trigger.record_type", f"Unknown record type {record_type!r}")
            out["record_type"] = record_type
        self.record_type = record_type_of(out) if "trigger.event" not in self.errors else ""
        if self.record_type and self.record_type not in automation.RECORD_TYPES:
            self.record_type = ""
        conds = trigger.get("conditions")
        if conds:
            for key, message in conditions.validate(conds, lambda p: self.known(p, []), "trigger.conditions").items():
                self.error(key, message)
            out["conditions"] = conditions.normalise(conds)
        return out

    # --- steps -----------------------------------------------------------------------------

    def steps(self, steps: Any, where: str, earlier: list[str], depth: int) -> list[dict]:
        if not isinstance(steps, list):
            self.error(where, "Steps are a list")
            return []
        if depth > MAX_NESTING:
            self.error(where, f"Branches nest at most {MAX_NESTING} deep")
            return []
        out = []
        for index, step in enumerate(steps):
            self.count += 1
            if not isinstance(step, dict):
                self.error(f"{where}.{index}", f"Step {index + 1} is not an object")
                continue
            normal = self.step(step, index, earlier, depth)
            out.append(normal)
            earlier = [*earlier, normal["id"]]
        return out

    def _assign_id(self, step: dict) -> str:
        wanted = step.get("id")
        if isinstance(wanted, str) and wanted:
            return wanted
        number = 1
        while f"s{number}" in self.ids or f"s{number}" in self._client_ids:
            number += 1
        return f"s{number}"

    def step(self, step: dict, index: int, earlier: list[str], depth: int) -> dict:
        step_id = self._assign_id(step)
        kind = step.get("type", "")
        label = f"Step {step_id} · {step_label(kind)}"
        key = f"steps.{step_id}"
        if not STEP_ID.match(step_id):
            self.error(f"{key}.id", f"{label}: an id is a letter then letters, digits or _ (at most 40)")
        if step_id in self.ids:
            self.error(f"{key}.id", f"{label}: another step already has the id {step_id!r} (a step cannot loop back)")
        self.ids.add(step_id)
        out: dict[str, Any] = {"id": step_id, "type": kind}
        if kind == "branch":
            conds = step.get("conditions")
            normal = conditions.normalise(conds)
            group = normal.get("all", normal.get("any"))
            if not conds or (isinstance(group, list) and not group):
                self.error(f"{key}.conditions", f"{label}: a branch needs at least one condition")
            else:
                for k, message in conditions.validate(
                    conds, lambda p: self.known(p, earlier), f"{key}.conditions"
                ).items():
                    self.error(k, f"{label}: {message}")
            out["conditions"] = normal
            out["then"] = self.steps(step.get("then") or [], f"{key}.then", [*earlier, step_id], depth + 1)
            out["else"] = self.steps(step.get("else") or [], f"{key}.else", [*earlier, step_id], depth + 1)
            return out
        if kind == "delay":
            return {**out, **self.delay(step, key, label)}
        if kind == "send_email":
            return {**out, **self.email(step, key, label, earlier)}
        if kind == "http_request":
            return {**out, **self.http(step, key, label, earlier)}
        if kind == "ai":
            return {**out, **self.ai(step, key, label, earlier, step_id)}
        action = automation.ACTIONS.get(kind)
        if action is None:
            known = ", ".join([*BUILTIN, *automation.ACTIONS])
            self.error(f"{key}.type", f"{label}: unknown step type {kind!r}; use one of {known}")
            return out
        if action.record_types and self.record_type not in action.record_types:
            names = " or ".join(automation.RECORD_TYPES[r].label.lower() for r in action.record_types)
            self.error(f"{key}.type", f"{label}: runs on a {names}; this trigger gives no such record")
        for param in action.params:
            value = step.get(param.name)
            if value in (None, ""):
                if param.required:
                    self.error(f"{key}.{param.name}", f"{label}: {param.label} is required")
                continue
            if param.kind == "number":
                try:
                    value = int(value)
                    if not 0 <= value <= 3650:
                        raise ValueError
                except (TypeError, ValueError):
                    self.error(f"{key}.{param.name}", f"{label}: {param.label} is a whole number from 0 to 3650")
            elif param.kind == "member":
                self.member(value, f"{key}.{param.name}", label)
            elif not isinstance(value, str):
                self.error(f"{key}.{param.name}", f"{label}: {param.label} is text")
                continue
            elif param.kind == "template":
                self.templates(f"{key}.{param.name}", f"{label}: {param.label}", value, earlier)
            out[param.name] = value
        for field, message in action.validate(self.tenant, step).items():
            self.error(f"{key}.{field}", f"{label}: {message}")
        unknown = set(step) - {"id", "type", *(p.name for p in action.params)}
        if unknown:
            self.error(key, f"{label}: unexpected field(s) {', '.join(sorted(unknown))}")
        return out

    def member(self, value: Any, key: str, label: str) -> None:
        from octopushx.tenancy.models import Membership, Team

        text = str(value)
        if text in ("record_owner", "manager"):
            return
        try:
            if text.startswith("round_robin:"):
                if not Team.objects.filter(tenant=self.tenant, pk=text.split(":", 1)[1]).exists():
                    self.error(key, f"{label}: no team with that id")
                return
            if text.startswith("member:"):
                text = text.split(":", 1)[1]
            if not Membership.objects.filter(tenant=self.tenant, user_id=text).exists():
                self.error(key, f"{label}: no member of this organisation with that id")
        except (ValueError, ValidationError):
            self.error(key, f"{label}: use record_owner, manager, round_robin:<team id> or a member's id")

    def delay(self, step: dict, key: str, label: str) -> dict:
        if step.get("minutes") not in (None, ""):
            try:
                minutes = int(step["minutes"])
                if not 1 <= minutes <= MAX_DELAY_MINUTES:
                    raise ValueError
            except (TypeError, ValueError):
                self.error(f"{key}.minutes", f"{label}: minutes is a whole number from 1 to {MAX_DELAY_MINUTES}")
                return {}
            return {"minutes": minutes}
        if step.get("until_field"):
            field = str(step["until_field"])
            var = None
            if self.record_type and field.startswith(self.record_type + "."):
                var = automation.RECORD_TYPES[self.record_type].variables.get(field.split(".", 1)[1])
            if var is None or var.kind not in ("date", "datetime"):
                self.error(f"{key}.until_field", f"{label}: {field!r} is not a date field of this trigger's record")
            return {"until_field": field}
        if step.get("weekday") or step.get("time"):
            weekday = str(step.get("weekday", "")).lower()[:3]
            time_text = str(step.get("time", ""))
            if weekday and weekday not in WEEKDAYS:
                self.error(f"{key}.weekday", f"{label}: a weekday such as mon")
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", time_text):
                self.error(f"{key}.time", f"{label}: a time such as 09:00")
            tz_name = (
                step.get("timezone")
                or self.body.get("trigger", {}).get("timezone")
                or getattr(self.tenant, "time_zone", "")
                or "UTC"
            )
            return {"weekday": weekday, "time": time_text, "timezone": tz_name}
        self.error(key, f"{label}: wait a number of minutes, until a date field, or until a weekday and time")
        return {}

    def email(self, step: dict, key: str, label: str, earlier: list[str]) -> dict:
        to = str(step.get("to") or "")
        if to not in EMAIL_TO and not to.startswith("member:"):
            self.error(f"{key}.to", f"{label}: send to {', '.join(EMAIL_TO)} or member:<id>")
        elif to.startswith("member:"):
            self.member(to, f"{key}.to", label)
        elif to == "contact" and self.record_type != "contact":
            rt = automation.RECORD_TYPES.get(self.record_type)
            if rt is None or "contact_id" not in rt.sample:
                self.error(f"{key}.to", f"{label}: this trigger's record has no contact to email")
        for name in ("subject", "body"):
            value = step.get(name)
            if not isinstance(value, str) or not value.strip():
                self.error(f"{key}.{name}", f"{label}: {name} is required")
            else:
                self.templates(f"{key}.{name}", f"{label}: {name}", value, earlier)
        return {"to": to, "subject": step.get("subject", ""), "body": step.get("body", "")}

    def http(self, step: dict, key: str, label: str, earlier: list[str]) -> dict:
        method = str(step.get("method") or "POST").upper()
        if method not in HTTP_METHODS:
            self.error(f"{key}.method", f"{label}: method is one of {', '.join(HTTP_METHODS)}")
        url = step.get("url")
        if not isinstance(url, str) or not url.strip():
            self.error(f"{key}.url", f"{label}: a URL is required")
            url = ""
        else:
            url = url.strip()
            self.templates(f"{key}.url", f"{label}: URL", url, earlier)
            problem = url_problem(url)
            if problem:
                self.error(f"{key}.url", f"{label}: {problem}")
            if self.workflow_key and f"/hooks/studio/{self.workflow_key}" in url:
                self.error(f"{key}.url", f"{label}: this URL is this workflow's own trigger (a loop back to itself)")
        headers = step.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            self.error(f"{key}.headers", f"{label}: headers are names with text values")
            headers = {}
        for name in headers:
            if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", name) or name.lower().startswith("webhook-"):
                self.error(f"{key}.headers", f"{label}: {name!r} cannot be set (webhook-* headers are the signature)")
        self.templates(f"{key}.headers", f"{label}: headers", headers, earlier)
        body = step.get("body")
        if body is not None:
            self.templates(f"{key}.body", f"{label}: body", body, earlier)
        out = {"method": method, "url": url, "headers": headers}
        if body is not None:
            out["body"] = body
        return out

    def ai(self, step: dict, key: str, label: str, earlier: list[str], step_id: str) -> dict:
        task = step.get("task")
        if task not in AI_TASKS:
            self.error(f"{key}.task", f"{label}: task is summarise or classify")
        text = step.get("text")
        if not isinstance(text, str) or not text.strip():
            self.error(f"{key}.text", f"{label}: the text to read is required")
        else:
            self.templates(f"{key}.text", f"{label}: text", text, earlier)
        out: dict[str, Any] = {"task": task, "text": text or ""}
        if task == "classify":
            labels = step.get("labels")
            if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) and x for x in labels):
                self.error(f"{key}.labels", f"{label}: at least two labels to choose from")
            else:
                out["labels"] = labels
        self.ai_steps.append(step_id)
        return out

    def collect_ids(self, steps: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(steps, list):
            for step in steps:
                if isinstance(step, dict):
                    if isinstance(step.get("id"), str) and step["id"]:
                        found.add(step["id"])
                    found |= self.collect_ids(step.get("then")) | self.collect_ids(step.get("else"))
        return found


def url_problem(url: str) -> str:
    """Why a URL someone typed cannot be a step's target (scheme, a private address written out); "" if fine.

    Host names are resolved and checked again when the request is made (``core.outbound``).
    """
    if templating.is_template(url.split("?", 1)[0].split("/", 3)[2] if url.count("/") >= 2 else url):
        return ""  # the host itself comes from a variable: checked when the step runs
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", url)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        return f"{scheme.group(1)}: URLs are not allowed; use http(s)"
    match = re.match(r"^(https?)://([^/?#]+)", url, re.IGNORECASE)
    if not match:
        return "the URL must start with http:// or https:// and name a host"
    from django.conf import settings

    if getattr(settings, "STUDIO_ALLOW_PRIVATE_URLS", False):
        return ""
    host = match.group(2).rsplit("@", 1)[-1]
    host = host[1:].split("]", 1)[0] if host.startswith("[") else host.rsplit(":", 1)[0]
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return "localhost is not allowed (set OCTOPUSHX_STUDIO_ALLOW_PRIVATE_URLS=1 for on-premise targets)"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ""
    if not address.is_global:
        return (
            f"{host} is a private, loopback or link-local address (set OCTOPUSHX_STUDIO_ALLOW_PRIVATE_URLS=1 to allow)"
        )
    return ""


def check(tenant, body: Any, *, workflow_key: str = "", partial_name: str | None = None) -> tuple[dict, list[str]]:
    """``(normal definition, ai step ids)`` of a workflow body, or ``ValidationError`` with every problem."""
    automation.discover()
    if not isinstance(body, dict):
        raise ValidationError({"__all__": ["A workflow is a JSON object"]})
    checker = _Checker(tenant, body, workflow_key)
    checker._client_ids = checker.collect_ids(body.get("steps"))  # type: ignore[attr-defined]
    name = body.get("name", partial_name)
    if not isinstance(name, str) or not name.strip():
        checker.error("name", "A name is required")
    elif len(name) > 120:
        checker.error("name", "At most 120 characters")
    reenrol = body.get("reenrol") or "every"
    if reenrol not in ("once", "every"):
        checker.error("reenrol", "once or every")
    trigger = checker.trigger()
    steps = checker.steps(body.get("steps") or [], "steps", [], 0)
    if not steps and "steps" not in checker.errors:
        checker.error("steps", "Add at least one step")
    if checker.count > MAX_STEPS:
        checker.error("steps", f"At most {MAX_STEPS} steps")
    if checker.errors:
        raise ValidationError(checker.errors)
    normal = {
        "name": name.strip(),
        "description": str(body.get("description") or "")[:500],
        "reenrol": reenrol,
        "trigger": trigger,
        "steps": steps,
    }
    return normal, checker.ai_steps


def walk(steps: list[dict]):
    """Every step of a tree, depth first, in the order they are written."""
    for step in steps:
        yield step
        if step.get("type") == "branch":
            yield from walk(step.get("then") or [])
            yield from walk(step.get("else") or [])
