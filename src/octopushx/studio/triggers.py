"""How runs begin: bus events, schedules, inbound webhooks and manual starts.

Bus events are matched in the emitter's transaction (``events.listen``): one indexed query for
the enabled workflows listening to the event, then the trigger's watched fields and conditions
against the record as the change left it (read once for all such workflows), and one insert per
run that passes, committed with the change itself. A filtered event creates no run, queues no
work and leaves no history. The worker checks the conditions again when it starts the run (the
record may have changed meanwhile), and the re-enrolment rule. Events are deduplicated by their id.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from datetime import UTC, datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from octopushx.core import automation, entitlements, events, jobs
from octopushx.studio import conditions, definition, engine, remote
from octopushx.studio.models import Run, Workflow, WorkflowTrigger
from octopushx.tenancy import config

log = logging.getLogger(__name__)
MAX_WEBHOOK_BODY = 256 * 1024


def _new_run(workflow_id, tenant_id, version: int, **fields) -> Run:
    return Run(id=uuid.uuid4(), tenant_id=tenant_id, workflow_id=workflow_id, version=version, **fields)


@events.listen
def on_events(tenant, batch: list[events.Event]) -> None:
    automation.discover()
    names = {event.name for event in batch if event.name in automation.TRIGGERS}
    if not names:
        return  # no workflow can start on these events (invoices, alerts, …): not even a query
    # Workflow runs executed together in one transaction read who listens once for all of them.
    # Cached per process while the organisation's configuration is unchanged (a workflow saved or its
    # triggers synced raises its version: tenancy.config).
    listening = config.cached(
        tenant,
        ("studio.listening", frozenset(names)),
        lambda: list(
            WorkflowTrigger.objects.filter(
                tenant=tenant, kind="event", event__in=names, workflow__enabled=True
            ).values_list("workflow_id", "event", "workflow__version", "workflow__definition", "workflow__name")
        ),
    )
    if not listening:
        return
    if not entitlements.allows(tenant, "studio"):
        log.info("studio: %s events not run for %s: Studio is not in its plan", len(batch), tenant.pk)
        return
    records = _records_for_conditions(tenant, batch, listening)
    rows = []
    for event in batch:
        found = automation.TRIGGERS.get(event.name)
        if found is None:
            continue
        for workflow_id, name, version, body, workflow_name in listening:
            if name != event.name:
                continue
            trigger = body.get("trigger", {})
            watch = trigger.get("watch")
            if watch and not set(watch) & set(event.payload.get("fields") or []):
                continue  # none of the watched fields changed
            cause = event.payload.get("cause") or {}
            run = _new_run(
                workflow_id,
                tenant.pk,
                version,
                trigger={"type": "event", "event": event.name, "event_id": event.id, "at": event.at,
                         "payload": {k: v for k, v in event.payload.items() if k != "cause"}},
                dedupe_key=f"event:{event.id}",
                record_type=found.record_type,
                record_id=str(event.payload.get(found.id_key) or ""),
                depth=int(cause.get("depth", -1)) + 1 if cause else 0,
                cause_run=cause.get("run_id"),
            )  # fmt: skip
            if trigger.get("conditions") and not _passes(run, tenant, workflow_name, body, records):
                continue
            rows.append(run)
    if rows:
        Run.objects.bulk_create(rows, batch_size=500)
        engine.kick()


def _records_for_conditions(tenant, batch: list[events.Event], listening: list) -> dict[tuple[str, str], dict]:
    """The records the trigger conditions of ``listening`` need, read at once: {(type, id): variables}."""
    conditional = {
        event for _id, event, _version, body, _name in listening if body.get("trigger", {}).get("conditions")
    }
    wanted: dict[str, set[str]] = {}
    records: dict[tuple[str, str], dict] = {}
    for event in batch:
        found = automation.TRIGGERS.get(event.name) if event.name in conditional else None
        if found is None or not event.payload.get(found.id_key):
            continue
        rt = automation.RECORD_TYPES.get(found.record_type)
        record_id = str(event.payload[found.id_key])
        if event.subject is not None and rt is not None and rt.values_of is not None:
            try:
                records[(found.record_type, record_id)] = rt.values_of(event.subject)  # as just written
                continue
            except Exception:  # read it from the database below instead
                log.debug("studio: the %s in hand gave no variables", found.record_type, exc_info=True)
        wanted.setdefault(found.record_type, set()).add(record_id)
    for record_type, ids in wanted.items():
        rt = automation.RECORD_TYPES.get(record_type)
        if rt is None:
            continue
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            # In a savepoint: a malformed id must not break the emitter's transaction.
            guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
            try:
                with guard:
                    found_records = (
                        rt.load_many(tenant, chunk)
                        if rt.load_many
                        else {record_id: rt.load(tenant, record_id) for record_id in chunk}
                    )
            except Exception:  # the worker reads the record itself and says why it cannot
                log.debug("studio: reading %s records for trigger conditions failed", record_type, exc_info=True)
                continue
            records.update(((record_type, record_id), values) for record_id, values in found_records.items() if values)
    return records


def _passes(run: Run, tenant, workflow_name: str, body: dict, records: dict) -> bool:
    """Whether the trigger's conditions hold for the record as the change left it. When they cannot
    be told here (the record could not be read), the run is created and the worker decides."""
    record = records.get((run.record_type, run.record_id))
    if run.record_type and record is None:
        return True
    run.tenant = tenant
    holder = Workflow(id=run.workflow_id, tenant_id=tenant.pk, name=workflow_name)
    try:
        variables = engine.base_variables(run, holder, body, record)
        return conditions.evaluate(body["trigger"]["conditions"], variables, engine.changes_of(run))
    except Exception:
        log.debug("studio: trigger conditions of workflow %s not decided at the event", run.workflow_id, exc_info=True)
        return True


# --- schedules -------------------------------------------------------------------------------


def sync_triggers(workflow: Workflow) -> None:
    """Index the latest version's trigger (called whenever a workflow is saved, enabled or disabled)."""
    WorkflowTrigger.objects.filter(workflow=workflow).delete()
    trigger = workflow.definition.get("trigger", {})
    kind = trigger.get("type")
    if not workflow.enabled or kind is None:
        return
    row = WorkflowTrigger(tenant_id=workflow.tenant_id, workflow=workflow, kind=kind, event=trigger.get("event", ""))
    if kind == "schedule":
        row.cron = trigger["cron"]
        row.time_zone = trigger.get("timezone") or "UTC"
        row.next_at = definition.next_runs(row.cron, row.time_zone, 1)[0]
    row.save()


def fire_schedules(now: datetime | None = None) -> int:
    """Start the runs of every schedule whose time has come: one firing per slot, whoever is first."""
    now = now or timezone.now()
    fired = 0
    due = WorkflowTrigger.objects.filter(
        kind="schedule", next_at__lte=now, workflow__enabled=True, tenant__suspended_at__isnull=True
    ).select_related("workflow", "tenant")
    for trig in due[:200]:
        slot = trig.next_at
        following = definition.next_runs(trig.cron, trig.time_zone, 1, after=now)[0]
        with transaction.atomic():
            if not WorkflowTrigger.objects.filter(pk=trig.pk, next_at=slot).update(next_at=following):
                continue  # another process fired this slot
            if not entitlements.allows(trig.tenant, "studio"):
                continue  # the slot passes unrun: an upgrade starts from the next one, not a backlog
            fired += _start_scheduled(trig.workflow, slot)
    return fired


def _start_scheduled(workflow: Workflow, slot: datetime) -> int:
    trigger = workflow.definition.get("trigger", {})
    base = {"type": "schedule", "slot": slot.isoformat(), "cron": trigger.get("cron")}
    if trigger.get("for_each") == "member":
        from octopushx.tenancy.models import Membership

        members = Membership.objects.filter(tenant_id=workflow.tenant_id).values_list("user_id", flat=True)
        rows = [
            _new_run(workflow.pk, workflow.tenant_id, workflow.version, trigger=base,
                     dedupe_key=f"schedule:{slot.isoformat()}:{user_id}", record_type="member", record_id=str(user_id))
            for user_id in members
        ]  # fmt: skip
    else:
        rows = [_new_run(workflow.pk, workflow.tenant_id, workflow.version, trigger=base,
                         dedupe_key=f"schedule:{slot.isoformat()}")]  # fmt: skip
    Run.objects.bulk_create(rows, ignore_conflicts=True)
    engine.kick()
    return len(rows)


# --- inbound webhooks ------------------------------------------------------------------------


class WebhookRejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def receive_webhook(key: str, headers, body: bytes) -> Run:
    """Verify a Standard Webhooks call to ``/hooks/studio/<key>`` and start (or find) its run."""
    workflow = Workflow.objects.select_related("tenant").filter(key=key).first()
    if workflow is None or workflow.definition.get("trigger", {}).get("type") != "webhook":
        raise WebhookRejected(404, "No workflow listens at this address")
    if len(body) > MAX_WEBHOOK_BODY:
        raise WebhookRejected(413, f"The body is larger than {MAX_WEBHOOK_BODY // 1024} kB")
    wanted = {name: headers.get(name, "") for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    try:
        Webhook(remote.open_secret(workflow)).verify(body, wanted)
    except WebhookVerificationError as exc:
        raise WebhookRejected(401, f"Bad signature: {exc}") from exc
    if workflow.tenant.suspended_at is not None:
        raise WebhookRejected(423, "This organisation is suspended")
    if not workflow.enabled:
        raise WebhookRejected(409, "This workflow is turned off")
    if (refused := entitlements.refusal(workflow.tenant, "studio")) is not None:
        raise WebhookRejected(403, refused)
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise WebhookRejected(400, "The body is not JSON") from exc
    if not isinstance(data, dict):
        raise WebhookRejected(400, "The body must be a JSON object")
    dedupe = f"webhook:{wanted['webhook-id']}"[:200]
    existing = Run.objects.filter(workflow=workflow, dedupe_key=dedupe).first()
    if existing is not None:
        return existing
    run = _new_run(
        workflow.pk, workflow.tenant_id, workflow.version,
        trigger={"type": "webhook", "webhook_id": wanted["webhook-id"], "body": data,
                 "at": datetime.now(UTC).isoformat()},
        dedupe_key=dedupe,
    )  # fmt: skip
    try:
        with transaction.atomic():
            run.save(force_insert=True)
            engine.kick()
    except IntegrityError:
        return Run.objects.get(workflow=workflow, dedupe_key=dedupe)
    return run


# --- manual starts ---------------------------------------------------------------------------


def start_manual(workflow: Workflow, record_type: str, record_ids: list[str], started_by: str) -> list[Run]:
    rows = [
        _new_run(workflow.pk, workflow.tenant_id, workflow.version,
                 trigger={"type": "manual", "by": started_by, "at": timezone.now().isoformat()},
                 dedupe_key=f"manual:{uuid.uuid4().hex}", record_type=record_type, record_id=str(record_id))
        for record_id in record_ids
    ]  # fmt: skip
    Run.objects.bulk_create(rows)
    engine.kick()
    return rows


jobs.each_round(engine.round_hook)
