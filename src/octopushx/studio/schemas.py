"""The workflow body as JSON Schema for the OpenAPI document (the checks themselves are in
``definition.py``, whose errors name the step: ``steps.s2.url``)."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

# Free text checked by ``definition.check`` (whose messages name the step), documented as enums here.
OPS = ["eq", "ne", "contains", "not_contains", "gt", "gte", "lt", "lte", "is_empty", "is_not_empty", "changed",
       "changed_to"]  # fmt: skip
STEP_TYPES = ["branch", "delay", "send_email", "http_request", "ai", "create_task", "update_field", "add_tag",
              "remove_tag", "assign_owner", "create_note", "upsert_contact"]  # fmt: skip


def _enum(values: list[str], description: str = "", default: Any = None) -> Any:
    return Field(default, description=description, json_schema_extra={"enum": values})


class Condition(Schema):
    """A leaf ``{field, op, value}``, or a group ``{"all": [...]}`` / ``{"any": [...]}``."""

    model_config = ConfigDict(extra="allow")
    field: str | None = Field(None, description="A variable path, e.g. contact.tags", examples=["contact.tags"])
    op: str | None = _enum(OPS)
    value: Any = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None


class Trigger(Schema):
    model_config = ConfigDict(extra="allow")
    type: str = _enum(["event", "schedule", "webhook", "manual"], default=...)
    event: str | None = Field(None, description="event triggers: contact.created, deal.stage_changed, call.analysed…")
    watch: list[str] | None = Field(None, description="updated events: run only when one of these fields changed")
    conditions: Condition | list[Condition] | None = None
    cron: str | None = Field(None, description="schedule triggers: five-field cron, e.g. 0 9 * * 1-5")
    timezone: str | None = Field(None, description="schedule triggers: IANA time zone, e.g. Europe/London")
    for_each: str | None = _enum(["member"], "schedule triggers: one run for each member")
    record_type: str | None = Field(None, description="manual triggers: contact (default), company, deal…")


class Step(Schema):
    """One step; its fields depend on ``type`` (see the README's Studio section)."""

    model_config = ConfigDict(extra="allow")
    id: str | None = Field(None, description="Stable id (s1, s2… when left out), unique in the workflow")
    type: str = _enum(STEP_TYPES, default=...)
    conditions: Condition | list[Condition] | None = None
    then: list[Step] | None = None
    else_: list[Step] | None = Field(None, alias="else")
    title: str | None = None
    description: str | None = None
    due_in_days: int | None = None
    assignee: str | None = Field(None, description="record_owner, manager, round_robin:<team id> or a member's user id")
    field: str | None = None
    value: str | None = None
    tag: str | None = None
    subject: str | None = None
    body: Any = Field(None, description="email: HTML template; http_request: JSON whose strings are templates")
    to: str | None = Field(None, description="send_email: record_owner, manager, contact, admins or member:<id>")
    method: str | None = _enum(["GET", "POST", "PUT", "PATCH", "DELETE"])
    url: str | None = None
    headers: dict[str, str] | None = None
    minutes: int | None = None
    until_field: str | None = None
    weekday: str | None = None
    time: str | None = None
    timezone: str | None = Field(None, description="delay until a weekday and time: IANA time zone")
    # upsert_contact (ninja drops undeclared fields even with extra="allow", so each is declared)
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    job_title: str | None = None
    tags: str | None = None
    task: str | None = _enum(["summarise", "classify"])
    text: str | None = None
    labels: list[str] | None = None
    attempts: int | None = Field(None, description="tries before the run fails (default 3)")


class WorkflowIn(Schema):
    model_config = ConfigDict(extra="allow")
    name: str | None = None
    description: str | None = None
    enabled: bool | None = None
    reenrol: str | None = _enum(["once", "every"], "A record enters once, or every time")
    trigger: Trigger | None = None
    steps: list[Step] | None = None


class TestIn(Schema):
    record_id: str | None = None
    sample: dict[str, Any] | None = None
    definition: dict[str, Any] | None = Field(None, description="Test this unsaved body instead of the saved one")


class ManualRunIn(Schema):
    record_ids: list[str]


class RetryIn(Schema):
    mode: Literal["failed_step", "start", "latest"] = "failed_step"
