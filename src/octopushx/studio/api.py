"""API of Octopush Studio: workflows, versions, test runs, runs and retries, the inbound webhook.

Owners and admins change workflows and act on runs; managers and auditors read them; agents
have no Studio (403). Another organisation's ids are 404. Bodies that do not validate are 422
with one error per field, named by step id (``steps.s2.url``), and nothing is saved.
"""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from ninja import Router
from ninja.responses import NinjaJSONEncoder

from octopushx.api.errors import ErrorOut
from octopushx.api.pagination import paginate
from octopushx.core import automation, entitlements
from octopushx.crm.endpoints import idempotent
from octopushx.studio import catalog, definition, services, triggers
from octopushx.studio import schemas as s
from octopushx.studio.models import Run, RunStatus, StepRun, Workflow

router = Router(tags=["studio"])
router.add_decorator(entitlements.api_requires("studio"))  # 403 "Not in your plan: Studio" off the plan
ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _read(request) -> None:
    if not services.can_read(getattr(request, "membership", None)):
        raise PermissionDenied("Studio is for owners, admins, managers and auditors")


def _edit(request) -> None:
    if not services.can_edit(getattr(request, "membership", None)):
        raise PermissionDenied("Only owners and admins change workflows")


def _json(data, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, encoder=NinjaJSONEncoder)


def _body(request) -> dict:
    """The body as sent: ``WorkflowIn`` documents it and checks its types, but ninja's schemas keep
    only the fields they declare, and a step's fields depend on its type (``definition.check``)."""
    return json.loads(request.body or b"{}")


def _workflow(request, workflow_id: str) -> Workflow:
    return Workflow.objects.get_for_tenant(request.tenant, workflow_id)


def _with_next_runs(data: dict) -> dict:
    trigger = data.get("trigger") or {}
    if trigger.get("type") == "schedule" and trigger.get("cron"):
        data["next_runs"] = [t.isoformat() for t in definition.next_runs(trigger["cron"], trigger.get("timezone"))]
    return data


def _workflow_out(workflow: Workflow, **extra) -> dict:
    return _with_next_runs({**services.workflow_dict(workflow), **extra})


@router.get("/workflows", summary="List workflows", response={200: dict, **ERRORS})
def list_workflows(request, cursor: str | None = None, limit: int = 50):
    """Each workflow with its trigger, whether it is on, and its runs and failures of the last 7 days."""
    _read(request)
    rows, next_cursor = paginate(services.workflow_rows(request.tenant), cursor=cursor, limit=limit)
    items = [_workflow_out(w, runs_7d=w.runs_7d, failures_7d=w.failures_7d) for w in rows]
    return _json({"items": items, "next": next_cursor})


@router.post("/workflows", summary="Create a workflow", response={201: dict, **ERRORS})
def create_workflow(request, payload: s.WorkflowIn):
    """Creates version 1. The answer holds the webhook signing secret (``whsec_…``), shown this once."""
    _edit(request)
    data = _body(request)

    def build() -> dict:
        workflow, secret = services.create_workflow(request.tenant, request.actor, data)
        return _workflow_out(workflow, secret=secret)

    return idempotent(request, build, None)


@router.post("/workflows/validate", summary="Check a workflow body without saving it", response={200: dict, **ERRORS})
def validate_workflow(request, payload: s.WorkflowIn, workflow_id: str | None = None):
    """200 with the body in normal form (step ids filled in, next schedule times) or 422 naming each problem."""
    _read(request)
    key = _workflow(request, workflow_id).key if workflow_id else ""
    normal, _ai = definition.check(request.tenant, _body(request), workflow_key=key)
    return _json(_with_next_runs({"ok": True, "definition": normal, "trigger": normal["trigger"]}))


@router.get("/workflows/{workflow_id}", summary="Get a workflow", response={200: dict, **ERRORS})
def get_workflow(request, workflow_id: str):
    _read(request)
    return _json(_workflow_out(_workflow(request, workflow_id)))


@router.patch("/workflows/{workflow_id}", summary="Change a workflow", response={200: dict, **ERRORS})
def update_workflow(request, workflow_id: str, payload: s.WorkflowIn):
    """A changed trigger, steps, name or re-enrolment rule publishes a new version; runs in flight
    finish on the version they started with."""
    _edit(request)
    workflow = services.update_workflow(request.tenant, request.actor, _workflow(request, workflow_id), _body(request))
    return _json(_workflow_out(workflow))


@router.delete("/workflows/{workflow_id}", summary="Delete a workflow", response={204: None, **ERRORS})
def delete_workflow(request, workflow_id: str):
    _edit(request)
    services.delete_workflow(request.tenant, request.actor, _workflow(request, workflow_id))
    return 204, None


@router.post("/workflows/{workflow_id}/enable", summary="Turn a workflow on", response={200: dict, **ERRORS})
def enable_workflow(request, workflow_id: str):
    _edit(request)
    return _json(
        _workflow_out(services.set_enabled(request.tenant, request.actor, _workflow(request, workflow_id), True))
    )


@router.post("/workflows/{workflow_id}/disable", summary="Turn a workflow off", response={200: dict, **ERRORS})
def disable_workflow(request, workflow_id: str):
    _edit(request)
    return _json(
        _workflow_out(services.set_enabled(request.tenant, request.actor, _workflow(request, workflow_id), False))
    )


@router.post(
    "/workflows/{workflow_id}/rotate-secret", summary="Rotate the signing secret", response={200: dict, **ERRORS}
)
def rotate_secret(request, workflow_id: str):
    """A new ``whsec_…`` secret, shown this once; the old one stops working at once."""
    _edit(request)
    secret = services.rotate_secret(request.tenant, request.actor, _workflow(request, workflow_id))
    return _json({"secret": secret})


@router.get("/workflows/{workflow_id}/versions", summary="List a workflow's versions", response={200: dict, **ERRORS})
def list_versions(request, workflow_id: str):
    _read(request)
    workflow = _workflow(request, workflow_id)
    items = [
        {"number": v.number, "author": v.author, "created_at": v.created_at, "definition": v.definition,
         "current": v.number == workflow.version}
        for v in services.versions(workflow)
    ]  # fmt: skip
    return _json({"items": items, "next": None})


@router.post(
    "/workflows/{workflow_id}/test", summary="Test-run a workflow (changes nothing)", response={200: dict, **ERRORS}
)
def test_workflow(request, workflow_id: str, payload: s.TestIn):
    """What each step would do for ``record_id`` (or ``sample`` values): nothing is saved or sent."""
    _edit(request)
    workflow = _workflow(request, workflow_id)
    body = payload.definition if payload.definition is not None else workflow.definition
    result = services.test_run(request.tenant, request.actor, body, record_id=payload.record_id,
                               sample=payload.sample, workflow=workflow)  # fmt: skip
    return _json(result)


def _run_item(run: Run) -> dict:
    data = services.run_dict(run, steps=[])
    data.pop("steps")
    data["step_count"] = run.step_count
    return data


def _runs_page(request, qs, cursor, limit, status) -> JsonResponse:
    if status and status not in RunStatus.values:
        from django.core.exceptions import ValidationError

        raise ValidationError({"status": [f"One of {', '.join(RunStatus.values)}"]})
    if status:
        qs = qs.filter(status=status)
    rows, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    return _json({"items": [_run_item(r) for r in rows], "next": next_cursor})


@router.post("/workflows/{workflow_id}/runs", summary="Run a workflow on records", response={202: dict, **ERRORS})
def start_runs(request, workflow_id: str, payload: s.ManualRunIn):
    """Manual trigger: one run per record id (the workflow's trigger must be manual)."""
    _edit(request)
    workflow = _workflow(request, workflow_id)

    def build() -> dict:
        runs = services.start_manual(request.tenant, request.actor, workflow, payload.record_ids)
        return {"items": [{"id": str(r.pk), "status": r.status, "record_id": r.record_id} for r in runs]}

    return idempotent(request, build, None, status=202)


@router.get("/workflows/{workflow_id}/runs", summary="List a workflow's runs", response={200: dict, **ERRORS})
def list_workflow_runs(
    request, workflow_id: str, status: str | None = None, cursor: str | None = None, limit: int = 50
):
    _read(request)
    workflow = _workflow(request, workflow_id)
    return _runs_page(request, services.runs_for(request.tenant, workflow), cursor, limit, status)


@router.get("/workflow-runs", summary="List the organisation's workflow runs", response={200: dict, **ERRORS})
def list_runs(request, status: str | None = None, cursor: str | None = None, limit: int = 50):
    _read(request)
    return _runs_page(request, services.runs_for(request.tenant), cursor, limit, status)


def _run(request, run_id: str) -> Run:
    run = Run.objects.get_for_tenant(request.tenant, run_id)
    if not run.admitted or run.test:
        from django.http import Http404

        raise Http404("No workflow run with that id")
    return run


@router.get("/workflow-runs/{run_id}", summary="Get a run with every step", response={200: dict, **ERRORS})
def get_run(request, run_id: str):
    _read(request)
    run = _run(request, run_id)
    return _json(services.run_dict(run, list(StepRun.objects.filter(run=run).order_by("position"))))


@router.post("/workflow-runs/{run_id}/retry", summary="Retry a failed run", response={201: dict, **ERRORS})
def retry_run(request, run_id: str, payload: s.RetryIn | None = None):
    """A new run linked to this one: ``failed_step`` (keeps the steps that succeeded), ``start`` (same
    version, from the first step) or ``latest`` (the workflow's latest version)."""
    _edit(request)
    mode = payload.mode if payload is not None else "failed_step"
    new = services.retry_run(request.tenant, request.actor, _run(request, run_id), mode)
    return _json(services.run_dict(new), status=201)


@router.post("/workflow-runs/{run_id}/cancel", summary="Cancel a queued or waiting run", response={200: dict, **ERRORS})
def cancel_run(request, run_id: str):
    _edit(request)
    return _json(services.run_dict(services.cancel_run(request.tenant, request.actor, _run(request, run_id))))


@router.get(
    "/studio/catalog",
    summary="Triggers, steps, variables and operators for the builder",
    response={200: dict, **ERRORS},
)
def get_catalog(request):
    _read(request)
    return _json(catalog.describe(request.tenant))


@router.get("/studio/records", summary="Records to test a workflow on", response={200: dict, **ERRORS})
def search_records(request, type: str = "contact", q: str = "", limit: int = 20):
    _read(request)
    automation.discover()
    rt = automation.RECORD_TYPES.get(type)
    if rt is None or rt.search is None:
        from django.core.exceptions import ValidationError

        raise ValidationError({"type": [f"No records of type {type!r} to choose from"]})
    items = [
        {"id": pk, "label": label} for pk, label in rt.search(request.tenant, q.strip()[:100], max(1, min(limit, 50)))
    ]
    return _json({"items": items, "next": None})


def webhook_response(request: HttpRequest, workflow_key: str) -> JsonResponse:
    """``POST /hooks/studio/<key>``: 202 with the run id; a bad signature is 401 and creates nothing."""
    try:
        run = triggers.receive_webhook(workflow_key, request.headers, request.body)
    except triggers.WebhookRejected as exc:
        return JsonResponse({"detail": exc.message, "errors": {}}, status=exc.status)
    return JsonResponse({"run_id": str(run.pk), "status": run.status}, status=202)
