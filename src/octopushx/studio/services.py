"""Studio's operations, called by the pages, the API and the jobs alike.

Who may do what: owners and admins create, change, turn on and off, and run workflows; managers
and auditors read them and their runs; agents have no Studio. (Managers do not edit: a workflow
acts on the whole organisation's records as itself, beyond a manager's team.)
"""

from __future__ import annotations

import copy
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from octopushx.core import audit, automation
from octopushx.core.context import Actor
from octopushx.studio import conditions, definition, engine, remote, templating, triggers
from octopushx.studio.models import FINISHED, Run, RunStatus, StepRun, StepStatus, Workflow, WorkflowVersion
from octopushx.tenancy import config
from octopushx.tenancy.roles import Role

EDITORS = (Role.OWNER, Role.ADMIN)
READERS = (Role.OWNER, Role.ADMIN, Role.MANAGER, Role.AUDITOR)
RETRY_MODES = ("failed_step", "start", "latest")
PAUSE_MIN_RUNS = 20
PAUSE_FAILURE_RATE = 0.95


def can_edit(membership) -> bool:
    return membership is not None and membership.role in EDITORS


def can_read(membership) -> bool:
    return membership is not None and membership.role in READERS


def require_edit(actor: Actor) -> None:
    if actor.role is not None and actor.role not in EDITORS:
        raise PermissionDenied("Only owners and admins change workflows")


# --- workflows -------------------------------------------------------------------------------


def _recent_runs(since, **filters):
    """How many of the workflow's runs since ``since`` match ``filters``: counted along the
    (tenant, workflow, created_at) index, so only the last days' runs are read. (A join with
    the condition inside Count read every run the workflow ever had: 1 s at 275,000 runs.)"""
    runs = (
        Run.objects.filter(
            tenant_id=OuterRef("tenant_id"), workflow_id=OuterRef("pk"), created_at__gte=since, **filters
        )
        .order_by()
        .values("workflow_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(runs, output_field=IntegerField()), 0)


def workflow_rows(tenant):
    since = timezone.now() - timedelta(days=7)
    return Workflow.objects.for_tenant(tenant).annotate(
        runs_7d=_recent_runs(since, admitted=True, test=False),
        failures_7d=_recent_runs(since, status=RunStatus.FAILED),
    )


def workflow_dict(workflow: Workflow) -> dict:
    body = workflow.definition
    return {
        "id": str(workflow.pk),
        "name": workflow.name,
        "description": workflow.description,
        "enabled": workflow.enabled,
        "version": workflow.version,
        "reenrol": workflow.reenrol,
        "trigger": body.get("trigger", {}),
        "steps": body.get("steps", []),
        "webhook_url": f"/hooks/studio/{workflow.key}" if body.get("trigger", {}).get("type") == "webhook" else None,
        "paused_at": workflow.paused_at,
        "paused_reason": workflow.paused_reason,
        "template": workflow.template,
        "created_at": workflow.created_at,
        "updated_at": workflow.updated_at,
    }


def describe_trigger(body: dict) -> str:
    """The trigger in words: "When Contact created", "Every weekday at 09:00 (cron 0 9 * * 1-5)"."""
    trigger = body.get("trigger", {})
    kind = trigger.get("type")
    if kind == "event":
        found = automation.TRIGGERS.get(trigger.get("event", ""))
        words = f"When {found.label.lower() if found else trigger.get('event')}"
        if trigger.get("watch"):
            words += f" ({', '.join(trigger['watch'])})"
        return words
    if kind == "schedule":
        each = " for each member" if trigger.get("for_each") == "member" else ""
        return f"On schedule {trigger.get('cron')} ({trigger.get('timezone') or 'UTC'}){each}"
    if kind == "webhook":
        return "When a webhook is received"
    if kind == "manual":
        return f"Started by hand on {trigger.get('record_type', 'contact')}s"
    return "—"


def _publish(tenant, actor: Actor, workflow: Workflow, body: dict) -> None:
    workflow.version += 1
    workflow.definition = body
    workflow.name = body["name"]
    workflow.description = body.get("description", "")
    workflow.reenrol = body.get("reenrol", "every")
    workflow.save()
    WorkflowVersion.objects.create(
        tenant=tenant, workflow=workflow, number=workflow.version, definition=body, author=actor.label[:254]
    )
    triggers.sync_triggers(workflow)


def create_workflow(tenant, actor: Actor, data: dict, *, template: str = "") -> tuple[Workflow, str]:
    """A new workflow (its first version) and its signing secret, shown this once."""
    require_edit(actor)
    workflow = Workflow(tenant=tenant, created_by=actor.user, template=template)
    body, _ai = definition.check(tenant, data, workflow_key=workflow.key)
    enabled = bool(data.get("enabled", False))
    secret = remote.new_secret()
    with transaction.atomic():
        workflow.name = body["name"]
        workflow.enabled = enabled
        workflow.save()
        workflow.secret = remote.seal_secret(workflow, secret)
        _publish(tenant, actor, workflow, body)
        audit.record(tenant, actor, "workflow.created", obj=workflow,
                     changes={"name": [None, workflow.name], "enabled": [None, enabled], "version": [None, 1]})  # fmt: skip
    return workflow, secret


def update_workflow(tenant, actor: Actor, workflow: Workflow, data: dict) -> Workflow:
    """Change a workflow: a new body publishes a new version (runs in flight keep theirs)."""
    require_edit(actor)
    body_keys = {"name", "description", "reenrol", "trigger", "steps"}
    changes: dict = {}
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
        if body_keys & set(data):
            merged = {**workflow.definition, **{k: v for k, v in data.items() if k in body_keys}}
            body, _ai = definition.check(tenant, merged, workflow_key=workflow.key)
            if body != workflow.definition:
                changes["version"] = [workflow.version, workflow.version + 1]
                if body["name"] != workflow.name:
                    changes["name"] = [workflow.name, body["name"]]
                _publish(tenant, actor, workflow, body)
        if "enabled" in data and bool(data["enabled"]) != workflow.enabled:
            changes["enabled"] = [workflow.enabled, bool(data["enabled"])]
            _set_enabled(workflow, bool(data["enabled"]))
        if changes:
            audit.record(tenant, actor, "workflow.updated", obj=workflow, changes=changes)
    return workflow


def _set_enabled(workflow: Workflow, enabled: bool) -> None:
    workflow.enabled = enabled
    if enabled:
        workflow.paused_at, workflow.paused_reason = None, ""
    workflow.save(update_fields=["enabled", "paused_at", "paused_reason", "updated_at"])
    triggers.sync_triggers(workflow)


def set_enabled(tenant, actor: Actor, workflow: Workflow, enabled: bool) -> Workflow:
    require_edit(actor)
    with transaction.atomic():
        if workflow.enabled != enabled:
            audit.record(tenant, actor, "workflow.enabled" if enabled else "workflow.disabled", obj=workflow,
                         changes={"enabled": [workflow.enabled, enabled]})  # fmt: skip
            _set_enabled(workflow, enabled)
    return workflow


def delete_workflow(tenant, actor: Actor, workflow: Workflow) -> None:
    require_edit(actor)
    with transaction.atomic():
        audit.record(tenant, actor, "workflow.deleted", obj=workflow, changes={"name": [workflow.name, None]})
        workflow.delete()


def rotate_secret(tenant, actor: Actor, workflow: Workflow) -> str:
    require_edit(actor)
    secret = remote.new_secret()
    with transaction.atomic():
        workflow.secret = remote.seal_secret(workflow, secret)
        workflow.save(update_fields=["secret", "updated_at"])
        audit.record(tenant, actor, "workflow.secret_rotated", obj=workflow, changes={"secret": ["…", "…"]})
    return secret


def create_from_template(tenant, actor: Actor, key: str) -> tuple[Workflow, str]:
    from octopushx.studio.gallery import template_body

    body = template_body(tenant, key)
    if body is None:
        raise ValidationError({"template": [f"No template {key!r}"]})
    return create_workflow(tenant, actor, {**body, "enabled": False}, template=key)


def versions(workflow: Workflow):
    return WorkflowVersion.objects.filter(workflow=workflow).order_by("-number")


# --- test runs -------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def test_run(tenant, actor: Actor, body: dict, *, record_id: str | None = None, sample: dict | None = None,
             workflow: Workflow | None = None) -> dict:  # fmt: skip
    """What each step would do for one record or sample data; nothing is changed or sent.

    Local steps really run inside a transaction that is rolled back, so their answer is the
    real one (the task they would create, the tag they would add); HTTP requests and emails are
    rendered and shown, not sent.
    """
    checked, _ai = definition.check(tenant, body, workflow_key=workflow.key if workflow else "")
    record_type = definition.record_type_of(checked["trigger"])
    rt = automation.RECORD_TYPES.get(record_type)
    record = None
    if rt is not None:
        if record_id:
            record = rt.load(tenant, record_id)
            if record is None:
                raise ValidationError({"record_id": [f"No {rt.label.lower()} with that id"]})
        else:
            record = {**rt.sample, **(sample or {})}
    preview: list[dict] = []
    trigger_data = {"type": checked["trigger"].get("type"), "event": checked["trigger"].get("event"), "test": True}
    if checked["trigger"].get("type") == "webhook":
        trigger_data["body"] = sample or {}
    result = {"record": record, "record_type": record_type, "trigger_matches": True, "steps": preview}
    try:
        with transaction.atomic():
            holder = workflow or Workflow(tenant=tenant, name=checked["name"])
            run = Run(tenant=tenant, workflow=holder, version=0, trigger=trigger_data, record_type=record_type,
                      record_id=str(record_id or ""), test=True)  # fmt: skip
            variables = engine.base_variables(run, holder, checked, record)
            if checked["trigger"].get("conditions"):
                result["trigger_matches"] = conditions.evaluate(checked["trigger"]["conditions"], variables, {})
            contact_id = rt.contact_of(tenant, record) if (rt and record and record_id) else None
            restricted = automation.is_restricted(tenant, contact_id)
            _preview_steps(tenant, holder, run, checked["steps"], variables, preview, restricted, record_id)
            raise _Rollback
    except _Rollback:
        pass
    return result


def _preview_steps(tenant, workflow, run, steps, variables, out, restricted, record_id) -> None:
    actor = engine.workflow_actor(workflow)
    for step in steps:
        kind = step["type"]
        entry = {"step_id": step["id"], "type": kind, "label": definition.step_label(kind), "status": "would_run",
                 "summary": "", "input": {}, "output": {}, "error": ""}  # fmt: skip
        out.append(entry)
        try:
            if restricted and kind not in ("branch", "delay"):
                entry.update(status="skipped", summary="Skipped: the person is under a restriction of processing")
                continue
            if kind == "branch":
                holds = conditions.evaluate(step["conditions"], variables, {})
                entry.update(summary=f"Conditions {'hold' if holds else 'do not hold'}: takes the "
                             f"{'then' if holds else 'else'} path", output={"branch": "then" if holds else "else"})  # fmt: skip
                variables["steps"][step["id"]] = entry["output"]
                _preview_steps(tenant, workflow, run, step.get("then" if holds else "else") or [], variables, out,
                               restricted, record_id)  # fmt: skip
                continue
            if kind == "delay":
                until = engine.delay_until(step, variables, {})
                entry.update(
                    summary=f"Would wait until {until:%a %d %b %Y %H:%M %Z}", output={"until": until.isoformat()}
                )
            elif kind in ("http_request", "send_email", "ai"):
                names = {"http_request": ("url", "headers", "body"), "send_email": ("subject", "body"), "ai": ("text",)}
                rendered = {n: templating.render_data(step[n], variables) for n in names[kind] if n in step}
                entry["input"] = rendered
                if kind == "http_request":
                    problem = definition.url_problem(rendered.get("url", ""))
                    if problem:
                        raise ValueError(problem)
                    entry["summary"] = (
                        f"Would send {step.get('method', 'POST')} {rendered.get('url')} (signed, not sent in a test)"
                    )
                elif kind == "send_email":
                    entry["summary"] = f"Would email {step.get('to')}: “{rendered.get('subject')}” (not sent in a test)"
                else:
                    output = remote.ai_step(run, {**step, **rendered})
                    entry.update(summary=f"AI {step.get('task')}: {output['text'][:200]}", output=output)
                variables["steps"][step["id"]] = entry["output"]
            else:
                action = automation.ACTIONS[kind]
                params = {
                    p.name: templating.render_data(step[p.name], variables) for p in action.params if p.name in step
                }
                entry["input"] = params
                if record_id or not action.record_types:
                    ctx = automation.StepContext(tenant=tenant, actor=actor, record_type=run.record_type,
                                                 record_id=run.record_id, record=variables.get(run.record_type) or {},
                                                 params=params, key=f"test:{step['id']}", sequence=lambda: 0)  # fmt: skip
                    with transaction.atomic():
                        entry["output"] = engine._json(action.run(ctx) or {})
                entry["summary"] = "Would " + action.describe(params)[:1].lower() + action.describe(params)[1:]
                variables["steps"][step["id"]] = entry["output"]
        except (templating.TemplateProblem, ValueError, ValidationError) as exc:
            entry.update(
                status="error", error=engine._validation_text(exc) if isinstance(exc, ValidationError) else str(exc)
            )
        except Exception as exc:  # a preview answers, it never fails the page
            entry.update(status="error", error=f"{type(exc).__name__}: {exc}")


# --- runs ------------------------------------------------------------------------------------


def runs_for(tenant, workflow: Workflow | None = None, status: str | None = None):
    qs = Run.objects.for_tenant(tenant).filter(admitted=True, test=False).select_related("workflow")
    if workflow is not None:
        qs = qs.filter(workflow=workflow)
    if status:
        qs = qs.filter(status=status)
    return qs


def start_manual(tenant, actor: Actor, workflow: Workflow, record_ids: list) -> list[Run]:
    require_edit(actor)
    trigger = workflow.definition.get("trigger", {})
    if trigger.get("type") != "manual":
        raise ValidationError({"workflow": ["This workflow is not started by hand (its trigger is not manual)"]})
    if not workflow.enabled:
        raise ValidationError({"workflow": ["Turn the workflow on before running it"]})
    record_type = trigger.get("record_type") or "contact"
    if not isinstance(record_ids, list) or not record_ids:
        raise ValidationError({"record_ids": ["Choose at least one record"]})
    if len(record_ids) > 10_000:
        raise ValidationError({"record_ids": ["At most 10,000 records at a time"]})
    rt = automation.RECORD_TYPES[record_type]
    missing = [str(r) for r in record_ids if rt.load(tenant, str(r)) is None] if len(record_ids) <= 200 else []
    if missing:
        raise ValidationError({"record_ids": [f"No {rt.label.lower()} with id {', '.join(missing[:5])}"]})
    with transaction.atomic():
        runs = triggers.start_manual(workflow, record_type, [str(r) for r in record_ids], actor.label)
        audit.record(tenant, actor, "workflow.started", obj=workflow, changes={"runs": [None, len(runs)]})
    return runs


def retry_run(tenant, actor: Actor, run: Run, mode: str) -> Run:
    """A new run linked to a failed one: from its failed step, from the start, or on the latest version."""
    require_edit(actor)
    if mode not in RETRY_MODES:
        raise ValidationError({"mode": [f"Use one of {', '.join(RETRY_MODES)}"]})
    if run.status not in (RunStatus.FAILED, RunStatus.CANCELLED):
        raise ValidationError({"status": ["Only a failed or cancelled run can be retried"]})
    workflow = Workflow.objects.get(pk=run.workflow_id)
    version = workflow.version if mode == "latest" else run.version
    with transaction.atomic():
        new = Run.objects.create(
            tenant=tenant, workflow=workflow, version=version, status=RunStatus.QUEUED, admitted=True,
            trigger=run.trigger, dedupe_key=f"retry:{run.pk}:{mode}:{timezone.now().timestamp()}",
            record_type=run.record_type, record_id=run.record_id, contact_id=run.contact_id, depth=run.depth,
            record_label=run.record_label,
            cause_run=run.cause_run, retry_of=run, retry_mode=mode,
        )  # fmt: skip
        if mode == "failed_step":
            done = StepRun.objects.filter(run=run, status__in=(StepStatus.SUCCEEDED, StepStatus.SKIPPED))
            StepRun.objects.bulk_create(
                [StepRun(tenant=tenant, run=new, step_id=s.step_id, type=s.type, position=s.position,
                         key=f"{new.pk}:{s.step_id}", status=s.status, attempts=s.attempts, input=s.input,
                         output=s.output, error=s.error, started_at=s.started_at, finished_at=s.finished_at,
                         copied=True) for s in done]
            )  # fmt: skip
        audit.record(tenant, actor, "workflow_run.retried", obj=new,
                     changes={"retry_of": [None, str(run.pk)], "mode": [None, mode]})  # fmt: skip
        engine.kick()
    return new


def cancel_run(tenant, actor: Actor, run: Run) -> Run:
    require_edit(actor)
    with transaction.atomic():
        cancelled = Run.objects.filter(pk=run.pk, status__in=(RunStatus.QUEUED, RunStatus.WAITING)).update(
            status=RunStatus.CANCELLED, finished_at=timezone.now(), error="Cancelled by " + actor.label[:200]
        )
        if not cancelled:
            raise ValidationError({"status": ["Only a queued or waiting run can be cancelled"]})
        audit.record(tenant, actor, "workflow_run.cancelled", obj=run, changes={"status": [run.status, "cancelled"]})
    run.refresh_from_db()
    return run


def run_dict(run: Run, steps: list[StepRun] | None = None) -> dict:
    rt = automation.RECORD_TYPES.get(run.record_type)
    steps = list(run.steps.all()) if steps is None else steps
    return {
        "id": str(run.pk),
        "workflow_id": str(run.workflow_id),
        "workflow_name": run.workflow.name,
        "version": run.version,
        "status": run.status,
        "trigger": run.trigger,
        "record": {
            "type": run.record_type,
            "id": run.record_id,
            "url": rt.url(run.record_id) if rt else "",
            "label": run.record_label,
        }
        if run.record_id
        else None,
        "depth": run.depth,
        "retry_of": str(run.retry_of_id) if run.retry_of_id else None,
        "retry_mode": run.retry_mode or None,
        "error": run.error,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "wake_at": run.run_after if run.status == RunStatus.WAITING else None,
        "steps": [
            {
                "step_id": s.step_id,
                "type": s.type,
                "status": s.status,
                "attempts": s.attempts,
                "started_at": s.started_at,
                "finished_at": s.finished_at,
                "duration_ms": int((s.finished_at - s.started_at).total_seconds() * 1000) if s.finished_at else None,
                "input": s.input,
                "output": s.output,
                "error": s.error,
                "copied": s.copied,
            }
            for s in steps
        ],
    }


# --- failures, pausing, pruning --------------------------------------------------------------


def after_failure(run: Run) -> None:
    """A run failed for good: pause its workflow when nearly all its runs of the day fail."""
    since = timezone.now() - timedelta(days=1)
    stats = Run.objects.filter(
        workflow_id=run.workflow_id, finished_at__gte=since, admitted=True, test=False
    ).aggregate(total=Count("pk"), failed=Count("pk", filter=Q(status=RunStatus.FAILED)))
    if stats["total"] < PAUSE_MIN_RUNS or stats["failed"] / stats["total"] <= PAUSE_FAILURE_RATE:
        return
    workflow = Workflow.objects.select_related("tenant").get(pk=run.workflow_id)
    if not workflow.enabled:
        return
    reason = f"Paused: {stats['failed']} of its {stats['total']} runs in the last 24 hours failed. Last error: {run.error[:150]}"
    with transaction.atomic():
        if not Workflow.objects.filter(pk=workflow.pk, enabled=True).update(
            enabled=False, paused_at=timezone.now(), paused_reason=reason[:300]
        ):
            return
        config.changed(workflow.tenant_id)  # no signal from update(): the listening workflows changed
        workflow.enabled = False
        triggers.sync_triggers(workflow)
        audit.record(workflow.tenant, Actor.system("studio"), "workflow.paused", obj=workflow,
                     changes={"enabled": [True, False], "reason": [None, reason[:200]]})  # fmt: skip
    _tell_admins(workflow, reason)


def _tell_admins(workflow: Workflow, reason: str) -> None:
    from octopushx.tenancy.models import Membership

    recipients = list(
        Membership.objects.filter(tenant=workflow.tenant, role__in=EDITORS).values_list("user__email", flat=True)
    )
    if recipients:
        send_mail(f"Workflow paused: {workflow.name}", f"{reason}\n\nOpen Studio to fix it and turn it on again.",
                  workflow.tenant.from_email, recipients, fail_silently=True)  # fmt: skip


def prune_runs(now=None, chunk: int = 1000) -> int:
    """Delete finished runs older than the retention, and beyond the per-organisation cap, in chunks."""
    now = now or timezone.now()
    deleted = 0
    cutoff = now - timedelta(days=settings.STUDIO_RUN_RETENTION_DAYS)
    while True:
        ids = list(Run.objects.filter(status__in=FINISHED, created_at__lt=cutoff).values_list("pk", flat=True)[:chunk])
        if not ids:
            break
        deleted += _delete_runs(ids)
    cap = settings.STUDIO_RUN_MAX_PER_ORG
    crowded = Run.objects.order_by().values("tenant_id").annotate(n=Count("pk")).filter(n__gt=cap)
    for row in crowded:
        keep_after = (
            Run.objects.filter(tenant_id=row["tenant_id"])
            .order_by("-created_at")
            .values_list("created_at", flat=True)[cap - 1]
        )
        while True:
            ids = list(Run.objects.filter(tenant_id=row["tenant_id"], status__in=FINISHED, created_at__lt=keep_after)
                       .values_list("pk", flat=True)[:chunk])  # fmt: skip
            if not ids:
                break
            deleted += _delete_runs(ids)
    return deleted


def _delete_runs(ids: list) -> int:
    with transaction.atomic():
        StepRun.objects.filter(run_id__in=ids).delete()
        Run.objects.filter(retry_of_id__in=ids).update(retry_of=None)
        count, _ = Run.objects.filter(pk__in=ids).delete()
    return count


def copy_body(body: dict) -> dict:
    return copy.deepcopy(body)
