"""Studio pages: the workflow list, the template gallery, the builder, versions and run history.

Thin views over ``services``: owners and admins edit, managers and auditors read (every button that
changes something is hidden from them and refused here too), agents have no Studio. The builder is
a plain-JS page (static/studio/builder.js) that reads the catalog and calls the API; the actions
that work without it (enable, rotate the secret, delete, retry, cancel) are ordinary form posts.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from octopushx.studio import catalog, display, gallery, services
from octopushx.studio.models import FINISHED, Run, RunStatus, StepRun, Workflow, WorkflowVersion

RUNS_PAGE = 50
SECRET_SESSION_KEY = "studio_secret"


# --- access --------------------------------------------------------------------------------


def reader(view):
    """Owners, admins, managers and auditors; agents (and members of no organisation) are refused."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if request.tenant is None:
            return redirect("home")
        if not services.can_read(request.membership):
            raise PermissionDenied("Your role has no access to Studio")
        return view(request, *args, **kwargs)

    return wrapped


def editor(view):
    """Owners and admins only."""

    @wraps(view)
    @reader
    def wrapped(request, *args, **kwargs):
        if not services.can_edit(request.membership):
            raise PermissionDenied("Only owners and admins change workflows")
        return view(request, *args, **kwargs)

    return wrapped


def _workflow(request, workflow_id) -> Workflow:
    return Workflow.objects.get_for_tenant(request.tenant, workflow_id)


def _run(request, run_id) -> Run:
    run = Run.objects.select_related("workflow").get_for_tenant(request.tenant, run_id)
    if run.test:
        raise Http404("No run with that id")
    return run


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {"__all__": exc.messages}


def _error_text(exc: ValidationError) -> str:
    return " ".join(m for messages_ in _errors(exc).values() for m in messages_)


def _show_secret_once(request, workflow: Workflow, secret: str) -> None:
    """The secret is never stored readable: the next builder page shows it, then it is gone."""
    request.session[SECRET_SESSION_KEY] = {"workflow_id": str(workflow.pk), "secret": secret}


def _take_secret(request, workflow: Workflow) -> str:
    held = request.session.get(SECRET_SESSION_KEY)
    if held and held.get("workflow_id") == str(workflow.pk):
        del request.session[SECRET_SESSION_KEY]
        return held.get("secret", "")
    return ""


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"__all__": ["The request body is not JSON"]})
    if not isinstance(body, dict):
        raise ValidationError({"__all__": ["The request body must be a JSON object"]})
    return body


# --- workflows -----------------------------------------------------------------------------


@reader
@require_GET
def workflow_list(request):
    described = catalog.describe(request.tenant)
    rows = [
        {
            "workflow": wf,
            "trigger": display.trigger_words((wf.definition or {}).get("trigger") or {}, described),
            "trigger_icon": display.trigger_icon((wf.definition or {}).get("trigger") or {}),
            "steps": display.count_steps((wf.definition or {}).get("steps") or []),
        }
        for wf in services.workflow_rows(request.tenant).order_by("name", "pk")
    ]
    since = timezone.now() - timedelta(days=7)
    recent = Run.objects.for_tenant(request.tenant).filter(test=False, admitted=True, created_at__gte=since)
    return render(
        request,
        "studio/list.html",
        {
            "rows": rows,
            "can_edit": services.can_edit(request.membership),
            "totals": {
                "enabled": sum(1 for r in rows if r["workflow"].enabled and not r["workflow"].paused_at),
                "runs": recent.count(),
                "failed": recent.filter(status=RunStatus.FAILED).count(),
            },
        },
    )


@reader
@require_http_methods(["GET", "POST"])
def template_gallery(request):
    templates = [{**t, "summary": display.definition_summary(t["definition"], None)} for t in gallery.TEMPLATES]
    if request.method == "POST":
        if not services.can_edit(request.membership):
            raise PermissionDenied("Only owners and admins create workflows")
        key = request.POST.get("template", "")
        if key not in {t["key"] for t in gallery.TEMPLATES}:
            raise Http404("No such template")
        try:
            workflow, secret = services.create_from_template(request.tenant, request.actor, key)
        except ValidationError as exc:
            messages.error(request, f"The template could not be used: {_error_text(exc)}")
            return redirect("studio:gallery")
        _show_secret_once(request, workflow, secret)
        messages.success(request, f"“{workflow.name}” was created from the template. It stays off until you enable it.")
        return redirect("studio:builder", workflow_id=workflow.pk)
    return render(
        request, "studio/gallery.html", {"templates": templates, "can_edit": services.can_edit(request.membership)}
    )


def _builder_config(request, workflow: Workflow | None, *, read_only: bool) -> dict:
    """What builder.js needs: the endpoints it calls and what it may do."""
    config = {
        "readOnly": read_only,
        "validateUrl": "/api/v1/workflows/validate" + (f"?workflow_id={workflow.pk}" if workflow else ""),
        "testUrl": reverse("studio:test"),
        "recordsUrl": "/api/v1/studio/records",
        "createUrl": reverse("studio:new"),
        "listUrl": reverse("studio:list"),
    }
    if workflow is not None:
        config.update(
            workflowId=str(workflow.pk),
            saveUrl=f"/api/v1/workflows/{workflow.pk}",
            enableUrl=f"/api/v1/workflows/{workflow.pk}/enable",
            disableUrl=f"/api/v1/workflows/{workflow.pk}/disable",
            version=workflow.version,
        )
    return config


def _blank_definition() -> dict:
    return {
        "name": "Untitled workflow",
        "enabled": False,
        "reenrol": "every",
        "trigger": {"type": "event", "event": "contact.created", "conditions": []},
        "steps": [],
    }


def _body_of(workflow: Workflow, definition: dict | None = None) -> dict:
    definition = dict(definition if definition is not None else workflow.definition or {})
    return {
        "name": definition.pop("name", None) or workflow.name,
        "enabled": workflow.enabled,
        "reenrol": definition.pop("reenrol", None) or workflow.reenrol,
        **definition,
    }


@reader
@require_http_methods(["GET", "POST"])
def workflow_new(request):
    """GET: the builder for a workflow not saved yet. POST (JSON, from the builder): create it."""
    if not services.can_edit(request.membership):
        raise PermissionDenied("Only owners and admins create workflows")
    if request.method == "POST":
        try:
            data = _json_body(request)
            data["enabled"] = False  # a new workflow starts off; enabling is its own step
            workflow, secret = services.create_workflow(request.tenant, request.actor, data)
        except ValidationError as exc:
            errors = _errors(exc)
            return JsonResponse({"detail": "The workflow is not valid", "errors": errors}, status=422)
        _show_secret_once(request, workflow, secret)
        messages.success(request, f"“{workflow.name}” was saved as version {workflow.version}.")
        return JsonResponse(
            {"id": str(workflow.pk), "version": workflow.version, "url": reverse("studio:builder", args=[workflow.pk])},
            status=201,
        )
    return render(
        request,
        "studio/builder.html",
        {
            "workflow": None,
            "body": _blank_definition(),
            "catalog": catalog.describe(request.tenant),
            "config": _builder_config(request, None, read_only=False),
            "can_edit": True,
        },
    )


@reader
@require_GET
def builder(request, workflow_id):
    workflow = _workflow(request, workflow_id)
    can_edit = services.can_edit(request.membership)
    return render(
        request,
        "studio/builder.html",
        {
            "workflow": workflow,
            "body": _body_of(workflow),
            "catalog": catalog.describe(request.tenant),
            "config": _builder_config(request, workflow, read_only=not can_edit),
            "can_edit": can_edit,
            "secret": _take_secret(request, workflow) if can_edit else "",
            "webhook_url": request.build_absolute_uri(f"/hooks/studio/{workflow.key}"),
            "tab": "builder",
        },
    )


@editor
@require_POST
def test_run(request):
    """What each step of the builder's current draft would do, with nothing changed (JSON in, JSON out)."""
    try:
        body = _json_body(request)
        definition = body.get("definition")
        if not isinstance(definition, dict):
            raise ValidationError({"definition": ["Send the workflow to test"]})
        sample = body.get("sample")
        workflow = _workflow(request, body["workflow_id"]) if body.get("workflow_id") else None
        result = services.test_run(
            request.tenant,
            request.actor,
            definition,
            record_id=str(body.get("record_id") or "") or None,
            sample=sample if isinstance(sample, dict) else None,
            workflow=workflow,
        )
    except ValidationError as exc:
        return JsonResponse({"detail": "The test could not run", "errors": _errors(exc)}, status=422)
    return JsonResponse(result)


@editor
@require_POST
def set_enabled(request, workflow_id):
    workflow = _workflow(request, workflow_id)
    enabled = request.POST.get("enabled") == "1"
    try:
        services.set_enabled(request.tenant, request.actor, workflow, enabled)
    except ValidationError as exc:
        messages.error(request, f"“{workflow.name}” could not be enabled: {_error_text(exc)}")
    else:
        messages.success(request, f"“{workflow.name}” is {'enabled' if enabled else 'disabled'}.")
    return redirect(_next(request, reverse("studio:list")))


@editor
@require_POST
def rotate_secret(request, workflow_id):
    workflow = _workflow(request, workflow_id)
    secret = services.rotate_secret(request.tenant, request.actor, workflow)
    _show_secret_once(request, workflow, secret)
    messages.success(request, "A new signing secret was made: the old one no longer verifies.")
    return redirect(reverse("studio:builder", args=[workflow.pk]) + "#trigger")


@editor
@require_POST
def delete(request, workflow_id):
    workflow = _workflow(request, workflow_id)
    name = workflow.name
    services.delete_workflow(request.tenant, request.actor, workflow)
    messages.success(request, f"“{name}” was deleted.")
    return redirect("studio:list")


def _next(request, default: str) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else default


# --- versions ------------------------------------------------------------------------------


@reader
@require_GET
def versions(request, workflow_id):
    workflow = _workflow(request, workflow_id)
    described = catalog.describe(request.tenant)
    rows = [
        {"version": v, "summary": display.definition_summary(v.definition, described)}
        for v in WorkflowVersion.objects.for_tenant(request.tenant).filter(workflow=workflow).order_by("-number")
    ]
    return render(
        request,
        "studio/versions.html",
        {"workflow": workflow, "rows": rows, "can_edit": services.can_edit(request.membership), "tab": "versions"},
    )


@reader
@require_GET
def version_detail(request, version_id):
    version = WorkflowVersion.objects.select_related("workflow").get_for_tenant(request.tenant, version_id)
    workflow = version.workflow
    return render(
        request,
        "studio/builder.html",
        {
            "workflow": workflow,
            "version": version,
            "body": _body_of(workflow, version.definition),
            "catalog": catalog.describe(request.tenant),
            "config": _builder_config(request, workflow, read_only=True),
            "can_edit": services.can_edit(request.membership),
            "webhook_url": request.build_absolute_uri(f"/hooks/studio/{workflow.key}"),
            "tab": "versions",
        },
    )


@editor
@require_POST
def version_restore(request, version_id):
    version = WorkflowVersion.objects.select_related("workflow").get_for_tenant(request.tenant, version_id)
    workflow = version.workflow
    try:
        updated = services.update_workflow(
            request.tenant, request.actor, workflow, _body_of(workflow, version.definition)
        )
    except ValidationError as exc:
        messages.error(request, f"Version {version.number} cannot be published again: {_error_text(exc)}")
        return redirect("studio:versions", workflow_id=workflow.pk)
    messages.success(request, f"Version {version.number} was published again as version {updated.version}.")
    return redirect("studio:builder", workflow_id=workflow.pk)


# --- runs ----------------------------------------------------------------------------------

STATUS_CHIPS = [
    ("", "All"),
    ("failed", "Failed"),
    ("running", "Running"),
    ("waiting", "Waiting"),
    ("queued", "Queued"),
    ("succeeded", "Succeeded"),
    ("skipped", "Skipped"),
    ("cancelled", "Cancelled"),
    ("loop_prevented", "Loop prevented"),
]


def _run_rows(request, workflow: Workflow | None):
    status = request.GET.get("status", "")
    if status not in {code for code, _label in STATUS_CHIPS}:
        status = ""
    qs = services.runs_for(request.tenant, workflow=workflow, status=status or None).select_related("workflow")
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    start = (page - 1) * RUNS_PAGE
    # One row more than a page says whether another follows, without counting a million rows.
    found = list(qs[start : start + RUNS_PAGE + 1])
    rows = [display.run_row(run) for run in found[:RUNS_PAGE]]
    return {
        "rows": rows,
        "status": status,
        "chips": [
            {"code": code, "label": label, "current": code == status, "query": f"?status={code}" if code else "?"}
            for code, label in STATUS_CHIPS
        ],
        "page": page,
        "has_next": len(found) > RUNS_PAGE,
        "has_previous": page > 1,
        "status_query": f"status={status}&" if status else "",
    }


@reader
@require_GET
def runs(request):
    return render(request, "studio/runs.html", {**_run_rows(request, None), "workflow": None})


@reader
@require_GET
def workflow_runs(request, workflow_id):
    workflow = _workflow(request, workflow_id)
    return render(
        request,
        "studio/runs.html",
        {
            **_run_rows(request, workflow),
            "workflow": workflow,
            "tab": "runs",
            "can_edit": services.can_edit(request.membership),
        },
    )


@reader
@require_GET
def run_detail(request, run_id):
    run = _run(request, run_id)
    version = (
        WorkflowVersion.objects.for_tenant(request.tenant).filter(workflow=run.workflow, number=run.version).first()
    )
    labels = display.step_labels((version.definition if version else run.workflow.definition) or {})
    steps = [
        display.step_row(step, labels)
        for step in StepRun.objects.for_tenant(request.tenant).filter(run=run).order_by("position")
    ]
    retries = list(Run.objects.for_tenant(request.tenant).filter(retry_of=run, test=False).order_by("created_at"))
    can_edit = services.can_edit(request.membership)
    return render(
        request,
        "studio/run_detail.html",
        {
            "run": run,
            "row": display.run_row(run),
            "steps": steps,
            "retries": retries,
            "version": version,
            "can_edit": can_edit,
            "can_retry": can_edit and run.status == RunStatus.FAILED,
            "can_cancel": can_edit and run.status in (RunStatus.QUEUED, RunStatus.WAITING),
            "finished": run.status in FINISHED,
            "retry_modes": display.RETRY_MODES,
            "retry_label": dict(display.RETRY_MODES).get(run.retry_mode, ""),
            "record_name": display.record_name(request.tenant, run.record_type, run.record_id),
        },
    )


@editor
@require_POST
def run_retry(request, run_id):
    run = _run(request, run_id)
    mode = request.POST.get("mode", "")
    if mode not in dict(display.RETRY_MODES):
        messages.error(request, "Choose how to retry the run.")
        return redirect("studio:run", run_id=run.pk)
    try:
        retry = services.retry_run(request.tenant, request.actor, run, mode)
    except ValidationError as exc:
        messages.error(request, f"The run was not retried: {_error_text(exc)}")
        return redirect("studio:run", run_id=run.pk)
    messages.success(request, f"{dict(display.RETRY_MODES)[mode]}: a new run was queued.")
    return redirect("studio:run", run_id=retry.pk)


@editor
@require_POST
def run_cancel(request, run_id):
    run = _run(request, run_id)
    try:
        services.cancel_run(request.tenant, request.actor, run)
    except ValidationError as exc:
        messages.error(request, f"The run was not cancelled: {_error_text(exc)}")
    else:
        messages.success(request, "The run was cancelled.")
    return redirect("studio:run", run_id=run.pk)
