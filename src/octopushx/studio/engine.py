"""Running workflows: claiming runs fairly, replaying their steps, and never doing a step twice.

A run is replayed from its first step every time a worker picks it up. A step whose execution
row says it succeeded (or was skipped) is not run again: its stored output feeds the steps after
it, and a branch follows the side it chose. So a worker killed anywhere resumes where the rows
say, and:

- a **local** step (task, field, tag, owner, note) claims its row and makes its change in one
  transaction: both commit or neither does, and a second worker finds the row taken;
- a **remote** step (HTTP, email) first commits its row as running, then sends with the row's
  key as the receiver's dedupe id (``webhook-id``, ``Message-ID``), then records the answer; a
  resumed run sends again with the same key, which receivers drop as a duplicate;
- a **delay** stores its wake time; the run waits (no thread sleeps) and the reaper's round
  hands it back to a worker once it is due.

Fairness: workers take runs one organisation at a time, in a shuffled round over the
organisations with due runs, and no organisation holds more than ``STUDIO_ORG_CONCURRENCY``
claims at once, so a backlog of one organisation delays another's run by about one round.

Batches: a claim takes up to ``PER_ROUND`` due runs of one organisation, run one after the other
by that worker. The fresh ones whose steps are all local and ``batchable`` (they change nothing but
their own record and rows they create) run inside one transaction: their records read in one go,
their step rows and audit entries written together just before it commits, each run in a savepoint
of its own. A step's row and its effect still commit together (the whole batch or none of it); a
step that fails there undoes its run's part of the batch and that run then runs alone, step by
step; a batch that cannot commit (a step row another worker wrote meanwhile) is undone and its
runs are run one by one.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import random
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from octopushx.core import audit, automation, events, jobs, memo
from octopushx.core.context import Actor
from octopushx.core.models import WorkerProcess
from octopushx.studio import conditions, definition, remote, templating
from octopushx.studio.models import FINISHED, Enrolment, Run, RunStatus, StepRun, StepStatus, Workflow, WorkflowVersion
from octopushx.tenancy.models import Organization

log = logging.getLogger(__name__)

MAX_DEPTH = 3  # a run caused by runs this deep is stopped: loop_prevented
MAX_CLAIMS = 10  # a run whose worker died this many times fails (a poison run); ``Run.claims`` counts them
PER_ROUND = 20  # runs one organisation gets per round (one claim, one batch) before the next one's turn
RESTRICTED = "restricted"


class StepFailed(Exception):
    """A step failed; ``permanent`` ones (bad template, refused URL, 4xx) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False, output: dict | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.output = output or {}


class _Waiting(Exception):
    def __init__(self, until: datetime):
        self.until = until


class _Retry(Exception):
    def __init__(self, after: datetime):
        self.after = after


class _Failed(Exception):
    pass


class _AlreadyDone(Exception):
    pass


class _RunAlone(BaseException):  # noqa: N818 - passes every step's ``except Exception``
    """A step failed inside a batch: undo the run's part of the batch and run it alone."""


class _Clash(Exception):
    """The step's row appeared meanwhile (another worker): undo and take the careful path."""


def workflow_actor(workflow: Workflow) -> Actor:
    """The audit trail's actor for everything a run does: the workflow itself."""
    return Actor(label_override=f"Workflow “{workflow.name}”"[:200], ref_override=f"w:{workflow.pk}")


def step_backoff(attempts: int) -> int:
    return min(settings.STUDIO_RETRY_SECONDS * 2 ** max(attempts - 1, 0), 3600)


# --- variables -------------------------------------------------------------------------------


def base_variables(run: Run, workflow: Workflow, definition_: dict, record: dict | None) -> dict:
    now = timezone.now()
    variables: dict[str, Any] = {
        "workflow": {"id": str(workflow.pk), "name": workflow.name},
        "org": {"name": run.tenant.name},
        "now": now.isoformat(),
        "today": now.date().isoformat(),
        "trigger": run.trigger,
        "steps": {},
    }
    record_type = definition.record_type_of(definition_.get("trigger", {}))
    if record_type and record is not None:
        variables[record_type] = record
    return variables


def load_record(run: Run) -> dict | None:
    rt = automation.RECORD_TYPES.get(run.record_type)
    if rt is None or not run.record_id:
        return None
    batch = _batch.get()
    if batch is not None:
        found = batch.records.pop((run.record_type, run.record_id), None)
        if found is not None:
            return found
    return rt.load(run.tenant, run.record_id)


def changes_of(run: Run) -> dict:
    fields = (run.trigger.get("payload") or {}).get("fields") or []
    return {name: True for name in fields}


# --- admission -------------------------------------------------------------------------------


def admit(run: Run, workflow: Workflow, version: dict, record: dict | None) -> str:
    """ "ok", or why the run does not start ("conditions", "enrolled", "gone", "loop")."""
    if run.depth >= MAX_DEPTH:
        return "loop"
    if run.record_type and record is None:
        return "gone"
    trigger = version.get("trigger", {})
    if trigger.get("conditions"):
        variables = base_variables(run, workflow, version, record)
        if not conditions.evaluate(trigger["conditions"], variables, changes_of(run)):
            return "conditions"
    if version.get("reenrol") == "once" and run.record_id and not run.retry_of_id:
        try:
            with transaction.atomic():
                Enrolment.objects.create(
                    tenant_id=run.tenant_id, workflow=workflow, record_type=run.record_type, record_id=run.record_id
                )
        except IntegrityError:
            return "enrolled"
    return "ok"


# --- claiming --------------------------------------------------------------------------------


@contextlib.contextmanager
def _bookkeeping() -> Iterator[None]:
    """A write of the engine's own state (claim, admission, branch, lease, finish) whose commit does
    not wait for the disk on PostgreSQL (``synchronous_commit`` off for that transaction only).

    Safe for runs: PostgreSQL writes its log in order, so the next step's effect, committed
    synchronously, makes every earlier bookkeeping write durable with it; one lost in a database
    crash only has the run replayed, and its finished steps are not done again. Each such commit
    saved 2-3.5 ms. Inside an outer transaction, or on SQLite (whose commits do not wait for the
    disk in WAL mode with synchronous=NORMAL), this changes nothing.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _claim(tenant_id, cache: dict | None = None) -> Run | None:
    """Take the organisation's next due run (None when none is due or it is at its cap)."""
    runs = _claim_many(tenant_id, 1, cache)
    return runs[0] if runs else None


def _claim_many(tenant_id, limit: int, cache: dict | None = None) -> list[Run]:
    """Take up to ``limit`` of the organisation's due runs in one claim ([] when none is due or the
    organisation holds ``STUDIO_ORG_CONCURRENCY`` claims already).

    One statement picks and takes the rows and returns them (``UPDATE … RETURNING``; on PostgreSQL
    the pick skips rows another worker is taking). ``cache`` keeps the tenant and workflow rows
    for a tick: a run uses its own version's definition whatever the cached workflow says.
    """
    now = timezone.now()
    cap = settings.STUDIO_ORG_CONCURRENCY
    busy = Run.objects.filter(tenant_id=tenant_id, status=RunStatus.RUNNING, lease_until__gte=now).aggregate(
        claims=Count("claim", distinct=True)
    )["claims"]
    if busy >= cap:
        return []
    table, fields = Run._meta.db_table, {f.name: f for f in Run._meta.concrete_fields}

    def prep(name: str, value):
        return fields[name].get_db_prep_value(value, connection)

    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    # The table name comes from the model, every value is a parameter.
    sql = (
        f"UPDATE {table} SET status = %s, lease_until = %s, claimed_by = %s, claim = %s, "  # noqa: S608
        f"started_at = COALESCE(started_at, %s) "
        f"WHERE id IN (SELECT id FROM {table} WHERE status IN (%s, %s) AND tenant_id = %s AND run_after <= %s "
        f"ORDER BY run_after LIMIT %s{lock}) AND status IN (%s, %s) RETURNING *"
    )
    due = (RunStatus.QUEUED, RunStatus.WAITING)
    params = [
        RunStatus.RUNNING,
        prep("lease_until", now + timedelta(seconds=settings.JOB_LEASE_SECONDS)),
        prep("claimed_by", jobs._worker_id),
        prep("claim", uuid.uuid4()),
        prep("started_at", now),
        *due,
        prep("tenant", tenant_id),
        prep("run_after", now),
        int(limit),
        *due,
    ]
    with _bookkeeping():
        found = sorted(Run.objects.raw(sql, params), key=lambda run: (run.run_after, run.created_at))
    cache = {} if cache is None else cache
    for run in found:
        tenant = cache.get(run.tenant_id)
        if tenant is None:
            tenant = cache[run.tenant_id] = Organization.objects.get(pk=run.tenant_id)
        workflow = cache.get(run.workflow_id)
        if workflow is None:
            workflow = cache[run.workflow_id] = Workflow.objects.get(pk=run.workflow_id)
        run.tenant, run.workflow = tenant, workflow
    return found


def _due_tenants(limit: int = 500) -> list:
    now = timezone.now()
    ids = list(
        Run.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.WAITING), run_after__lte=now)
        .filter(tenant__suspended_at__isnull=True)
        .order_by()
        .values_list("tenant_id", flat=True)
        .distinct()[:limit]
    )
    random.shuffle(ids)
    return ids


def _more_due() -> bool:
    return Run.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.WAITING), run_after__lte=timezone.now()).exists()


def tick(budget: float | None = None, fan_out: bool = True) -> int:
    """Run due runs, organisation by organisation, for about ``budget`` seconds; returns how many.

    When time is up and work remains another tick is queued behind the queue's other work. A tick
    that finds work and sees more waiting queues one more tick at once (``fan_out``), which does
    the same: a backlog spreads over every idle consumer thread and process instead of one.
    """
    budget = settings.STUDIO_TICK_SECONDS if budget is None else budget
    deadline = time.monotonic() + budget
    ran = 0
    while True:
        tenants = _due_tenants()
        if not tenants:
            return ran
        progressed = False
        cache: dict = {}  # tenants and workflows, read once a round
        for tenant_id in tenants:
            runs = _claim_many(tenant_id, PER_ROUND, cache)
            if runs:
                if fan_out and not ran and _more_due():
                    kick(now=True)
                execute_many(runs)
                ran += len(runs)
                progressed = True
            if time.monotonic() > deadline:
                kick(now=True)
                return ran
        if not progressed:  # every organisation with due runs is at its cap: other workers hold them
            return ran


def drain(max_seconds: float = 120) -> int:
    """Run everything due in this process (tests, benchmarks, ``octopushx jobs run``)."""
    deadline = time.monotonic() + max_seconds
    ran = 0
    while time.monotonic() < deadline:
        recover()
        done = tick(budget=max_seconds, fan_out=False)
        ran += done
        if not done:
            break
    return ran


def _fire_tick() -> None:
    from octopushx.studio.tasks import studio_tick

    try:
        studio_tick()
    except Exception:  # the rows are the truth; the reaper's round kicks again
        log.warning("could not enqueue a Studio tick; the next reaper round will", exc_info=True)


def kick(now: bool = False) -> None:
    """Have a worker look at due runs once the surrounding transaction commits (once per transaction)."""
    if now or not connection.in_atomic_block:
        _fire_tick()
        return
    if any(getattr(entry[1], "__name__", "") == "_fire_tick" for entry in connection.run_on_commit):
        return
    transaction.on_commit(_fire_tick)


def recover() -> int:
    """Release runs whose worker died or whose lease ran out; fail those that kill workers."""
    now = timezone.now()
    alive = WorkerProcess.objects.values("pk")
    lost = Run.objects.filter(status=RunStatus.RUNNING).filter(
        Q(lease_until__lt=now) | (Q(claimed_by__isnull=False) & ~Q(claimed_by__in=alive) & Q(lease_until__gte=now))
    )
    poisoned = lost.filter(claims__gte=MAX_CLAIMS - 1)
    for run in poisoned.select_related("workflow", "tenant")[:100]:
        _finish(run, RunStatus.FAILED, f"The worker stopped {run.claims + 1} times while running this run.")
    released = lost.filter(claims__lt=MAX_CLAIMS - 1).update(
        status=RunStatus.QUEUED, lease_until=None, run_after=now, claims=F("claims") + 1
    )
    if released:
        log.warning("released %s workflow run(s) held by a stopped worker", released)
    return released


def round_hook() -> None:
    """Each reaper round: release lost runs, fire due schedules, and wake a worker for due runs."""
    from octopushx.studio import triggers

    recover()
    triggers.fire_schedules()
    now = timezone.now()
    if Run.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.WAITING), run_after__lte=now).exists():
        kick(now=True)


# --- execution -------------------------------------------------------------------------------


class _Batch:
    """Runs executed in one transaction: records read up front, step rows inserted at its end."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict] = {}  # taken once: a second run on it reads it again
        self.rows: list[StepRun] = []
        self.written = 0

    def mark(self) -> tuple[int, int]:
        return self.written + len(self.rows), audit.mark()

    def undo(self, mark: tuple[int, int]) -> None:
        """Forget the rows and audit entries added since ``mark`` (their savepoint was rolled back;
        rows written since are undone with it)."""
        del self.rows[max(0, mark[0] - self.written) :]
        audit.undo(mark[1])

    def write(self) -> None:
        rows, self.rows = self.rows, []
        if rows:
            StepRun.objects.bulk_create(rows)
            self.written += len(rows)


_batch: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("studio_batch", default=None)
_RUN_STATE = ("admitted", "contact_id", "record_label", "lease_until")


def _batchable(run: Run) -> bool:
    """A fresh run whose steps are all branches or batchable local actions."""
    if run.admitted or run.test:
        return False
    for step in definition.walk(_version(run).get("steps", [])):
        if step.get("type") == "branch":
            continue
        action = automation.ACTIONS.get(step.get("type"))
        if action is None or not action.batchable:
            return False
    return True


def execute_many(runs: list[Run]) -> None:
    """Execute the runs of one claim: the batchable ones together, the others one by one."""
    automation.discover()
    together = [run for run in runs if _batchable(run)] if len(runs) > 1 else []
    redo = _execute_together(together) if len(together) > 1 else together
    chosen = {run.pk for run in together} - {run.pk for run in redo}
    for run in runs:
        if run.pk not in chosen:
            execute(run)


def _execute_together(runs: list[Run]) -> list[Run]:
    """Execute ``runs`` in one transaction; returns those to run alone (the batch's, if it failed)."""
    batch = _Batch()
    token = _batch.set(batch)
    redo: list[Run] = []
    # What ``execute`` changes on a run object: put back on the runs whose part is undone, so that
    # run alone they start from what the database holds (not admitted, no enrolment, the claim's lease).
    before = {run.pk: {name: getattr(run, name) for name in _RUN_STATE} for run in runs}

    def undone(run: Run) -> Run:
        for name, value in before[run.pk].items():
            setattr(run, name, value)
        return run

    try:
        # Reads repeated by every run (members, tags, who listens) are read once (core.memo).
        with memo.batch(), audit.deferred(), transaction.atomic():
            _preload(batch, runs)
            for run in runs:
                mark = batch.mark()
                try:
                    with transaction.atomic():
                        execute(run)
                except _RunAlone:
                    batch.undo(mark)
                    redo.append(undone(run))
                except Exception:
                    log.warning("workflow run %s will run alone", run.pk, exc_info=True)
                    batch.undo(mark)
                    redo.append(undone(run))
            batch.write()
            # The audit entries last: the chain's head is locked from here to the commit only.
            audit.write_deferred()
    except Exception:  # e.g. a step row another worker wrote meanwhile: nothing of the batch committed
        log.warning("a batch of %s workflow runs is undone; they run one by one", len(runs), exc_info=True)
        return [undone(run) for run in runs]
    finally:
        _batch.reset(token)
    return redo


def _preload(batch: _Batch, runs: list[Run]) -> None:
    wanted: dict[str, set[str]] = {}
    for run in runs:
        if run.record_type and run.record_id:
            wanted.setdefault(run.record_type, set()).add(run.record_id)
    for name, ids in wanted.items():
        rt = automation.RECORD_TYPES.get(name)
        if rt is None or rt.load_many is None:
            continue
        try:
            with transaction.atomic():
                found = rt.load_many(runs[0].tenant, sorted(ids))
        except Exception:  # a malformed id, say: each run reads its record itself (and says why)
            log.debug("reading %s records at once failed; each run reads its own", name, exc_info=True)
            continue
        batch.records.update(((name, record_id), values) for record_id, values in found.items())


def _version(run: Run) -> dict:
    if run.version == run.workflow.version:
        return run.workflow.definition
    found = WorkflowVersion.objects.filter(workflow_id=run.workflow_id, number=run.version).first()
    return found.definition if found else run.workflow.definition


def execute(run: Run) -> None:
    """Replay ``run`` (claimed by this process) until it finishes, waits or must retry later."""
    # A worker process may not have imported the products' automation.py yet: without their
    # record types every record looks gone and the run is dropped as not admitted.
    automation.discover()
    workflow = run.workflow
    version = _version(run)
    try:
        record = load_record(run)
    except Exception as exc:  # a loader failing is the run's failure, not the worker's
        _finish(run, RunStatus.FAILED, f"The record could not be read: {exc}")
        return
    changed: dict[str, Any] = {}  # written in one update below
    fresh = not run.admitted  # never started: it has no step rows yet (a retry's copies are admitted)
    if not run.admitted:
        verdict = admit(run, workflow, version, record)
        if verdict == "loop":
            run.admitted = True
            _finish(
                run,
                RunStatus.LOOP_PREVENTED,
                f"Stopped: this run was caused by workflow runs {run.depth} deep (at most {MAX_DEPTH - 1}).",
            )
            return
        if verdict != "ok":
            # Filtered before it started: no run in the history (the trigger did not apply).
            Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).delete()
            return
        changed["admitted"] = run.admitted = True
    if run.record_type and record is None:
        if changed:
            with _bookkeeping():
                Run.objects.filter(pk=run.pk).update(**changed)
        _finish(run, RunStatus.SKIPPED, "The record no longer exists.")
        return
    rt = automation.RECORD_TYPES.get(run.record_type)
    contact_id = rt.contact_of(run.tenant, record) if (rt and record) else None
    label = (rt.describe(record) or "")[:200] if (rt and record) else ""
    if (contact_id and run.contact_id != str(contact_id)) or label != run.record_label:
        run.contact_id, run.record_label = str(contact_id or run.contact_id or ""), label
        changed.update(contact_id=run.contact_id, record_label=label)
    if record is not None and contact_id and str(record.get("id")) == str(contact_id) and "restricted" in record:
        restricted = bool(record["restricted"])  # the record is the person: its row was just read
    else:
        restricted = automation.is_restricted(run.tenant, contact_id)
    runner = _Runner(run, workflow, version, record, restricted=restricted, fresh=fresh)
    # In a batch everything commits together: the admission is written with the run's last update.
    late = changed if _batch.get() is not None else {}
    if changed and not late:
        # Admitted before any step acts (a resumed run is not filtered out by its own effects):
        # written with the first step's row, or at the end.
        runner.later(lambda: Run.objects.filter(pk=run.pk).update(**changed))
    try:
        with events.caused_by(str(run.pk), run.depth):
            runner.steps(version.get("steps", []))
    except _Waiting as waiting:
        with _bookkeeping():
            Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
                status=RunStatus.WAITING, run_after=waiting.until, lease_until=None, claimed_by=None, **late
            )
        return
    except _Retry as retry:
        with _bookkeeping():
            Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
                status=RunStatus.QUEUED, run_after=retry.after, lease_until=None, claimed_by=None, **late
            )
        return
    except _Failed as failed:
        _finish(run, RunStatus.FAILED, str(failed), fields=late)
        return
    except Exception as exc:  # a bug in a step must fail the run visibly, never the worker
        log.exception("workflow run %s crashed", run.pk)
        with contextlib.suppress(Exception):
            runner.flush()
        _finish(run, RunStatus.FAILED, f"{type(exc).__name__}: {exc}", fields=late)
        return
    runner.flush()
    status = (
        RunStatus.SKIPPED if runner.executed and runner.executed == runner.skipped_restricted else RunStatus.SUCCEEDED
    )
    reason = (
        "Every step was skipped: the person is under a restriction of processing."
        if status == RunStatus.SKIPPED
        else ""
    )
    _finish(run, status, reason, steps=runner.position if runner.exact else None, fields=late)


def _write_batch_rows() -> None:
    """Insert a batch's step rows now (before a query that must see them)."""
    batch = _batch.get()
    if batch is not None:
        batch.write()


def _finish(run: Run, status: str, error: str = "", steps: int | None = None, fields: dict | None = None) -> None:
    now = timezone.now()
    if steps is None:
        _write_batch_rows()
    count = StepRun.objects.filter(run=run).count() if steps is None else steps
    values = {"status": status, "error": error[:4000], "finished_at": now, "lease_until": None, "claimed_by": None,
              "step_count": count, **(fields or {})}  # fmt: skip
    if status == RunStatus.LOOP_PREVENTED:
        values["admitted"] = True
    # One plain statement (every run ends here; the ORM's update cost more than the database).
    table, model_fields = Run._meta.db_table, {f.name: f for f in Run._meta.concrete_fields}
    names = list(values)
    sql = (
        f"UPDATE {table} SET {', '.join(f'{model_fields[n].column} = %s' for n in names)}, "  # noqa: S608
        f"started_at = COALESCE(started_at, %s) WHERE id = %s AND status NOT IN ({', '.join(['%s'] * len(FINISHED))})"
    )
    params = [model_fields[n].get_db_prep_save(values[n], connection) for n in names]
    params += [
        model_fields["started_at"].get_db_prep_save(now, connection),
        model_fields["id"].get_db_prep_save(run.pk, connection),
        *(str(status_) for status_ in FINISHED),
    ]
    with _bookkeeping(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    if status == RunStatus.FAILED:
        from octopushx.studio import services

        services.after_failure(run)


class _Runner:
    def __init__(
        self, run: Run, workflow: Workflow, version: dict, record: dict | None, *, restricted: bool, fresh: bool = False
    ):
        self.run = run
        self.workflow = workflow
        self.version = version
        self.record = record
        self.restricted = restricted
        self.actor = workflow_actor(workflow)
        self.variables = base_variables(run, workflow, version, record)
        self.changes = changes_of(run)
        self.done = {} if fresh else {row.step_id: row for row in StepRun.objects.filter(run=run)}
        self.exact = True  # ``position`` counts the run's step rows (not after a clash with another worker)
        # Bookkeeping that can wait for the next step's transaction (a branch's row, the admission):
        # it commits with that step's effect, so it is never lost when the effect is not.
        self.pending: list[Any] = []
        self.position = len(self.done)
        self.ai_steps = {s["id"] for s in definition.walk(version.get("steps", [])) if s.get("type") == "ai"}
        self.executed = 0
        self.skipped_restricted = 0
        self.stale = False  # a step changed the record: the variables need reading again

    def later(self, write) -> None:
        self.pending.append(write)

    def flush(self) -> None:
        """Write the pending bookkeeping, in order (inside the caller's transaction, if any)."""
        pending, self.pending = self.pending, []
        for write in pending:
            write()

    @contextlib.contextmanager
    def _unit(self) -> Iterator[None]:
        """A step's transaction, the pending bookkeeping written first; rolled back, it stays pending."""
        saved = list(self.pending)
        batch = _batch.get()
        try:
            # In a batch a step has no savepoint of its own (two statements saved per step): a step
            # that fails there undoes its whole run, which is then run alone, step by step.
            with transaction.atomic(savepoint=batch is None):
                self.flush()
                yield
        except Exception as exc:
            if batch is not None:
                raise _RunAlone from exc
            self.pending = saved + self.pending
            raise
        except BaseException:
            self.pending = saved + self.pending
            raise

    # Each step: reuse a finished row, else run it.
    def steps(self, steps: list[dict]) -> None:
        for step in steps:
            self.step(step)

    def step(self, step: dict) -> None:
        row = self.done.get(step["id"])
        if row is not None and row.status in (StepStatus.SUCCEEDED, StepStatus.SKIPPED):
            self.variables["steps"][step["id"]] = row.output
            if row.status == StepStatus.SKIPPED and row.error == RESTRICTED:
                self.skipped_restricted += 1
            self.executed += 1
            if step["type"] == "branch":
                self.steps(step.get(row.output.get("branch", "else")) or [])
            return
        if row is not None and row.status == StepStatus.WAITING:
            if row.wake_at and row.wake_at > timezone.now():
                raise _Waiting(row.wake_at)
            StepRun.objects.filter(pk=row.pk).update(status=StepStatus.SUCCEEDED, finished_at=timezone.now())
            row.status = StepStatus.SUCCEEDED
            self.variables["steps"][step["id"]] = row.output
            self.executed += 1
            return
        jobs_lease(self.run)
        if self.stale:
            self._reload_record()
        self.executed += 1
        if self.restricted and self._acts_on_person(step):
            self.skipped_restricted += 1
            self._record(step, StepStatus.SKIPPED, {}, {"reason": "restricted"}, RESTRICTED)
            return
        kind = step["type"]
        if kind == "branch":
            holds = conditions.evaluate(step.get("conditions"), self.variables, self.changes)
            output = {"branch": "then" if holds else "else", "result": holds}
            # The side taken is kept with the first step on it (or at the end): replayed before
            # anything under it acted, the branch may choose afresh.
            self.later(lambda: self._record(step, StepStatus.SUCCEEDED, {"conditions": step.get("conditions")}, output))
            self.variables["steps"][step["id"]] = output
            self.steps(step.get(output["branch"]) or [])
            return
        if kind == "delay":
            until = delay_until(step, self.variables, self.version)
            output = {"until": until.isoformat()}
            if until <= timezone.now():
                self._record(step, StepStatus.SUCCEEDED, dict(step), output)
                self.variables["steps"][step["id"]] = output
                return
            self._record(step, StepStatus.WAITING, dict(step), output, wake_at=until)
            raise _Waiting(until)
        if kind in ("http_request", "send_email", "ai"):
            self._remote(step)
            return
        self._local(step)

    def _acts_on_person(self, step: dict) -> bool:
        kind = step["type"]
        if kind in ("branch", "delay"):
            return False
        if kind in ("http_request", "ai"):
            return True  # the record's data leaves the CRM or is processed
        if kind == "send_email":
            return True
        action = automation.ACTIONS.get(kind)
        return action is None or action.acts_on_contact

    def _render(self, step: dict, names: tuple[str, ...], html: tuple[str, ...] = ()) -> tuple[dict, str]:
        """The step's parameters with templates rendered, and the unreviewed-AI label if any was used."""
        params: dict[str, Any] = {}
        ai_used = False
        for name in names:
            if name not in step:
                continue
            value = step[name]
            try:
                paths = templating.paths_in(value)
                if isinstance(value, str):
                    params[name] = templating.render(value, self.variables, html=name in html)
                else:
                    params[name] = templating.render_data(value, self.variables)
            except templating.TemplateProblem as exc:
                raise StepFailed(f"{definition.step_label(step['type'])} ({name}): {exc}", permanent=True) from exc
            ai_used = ai_used or any(_is_ai_path(p, self.ai_steps) for p in paths)
        label = "Unreviewed AI output" if ai_used else ""
        return params, label

    def _local(self, step: dict) -> None:
        action = automation.ACTIONS.get(step["type"])
        if action is None:
            self._fail(step, {}, StepFailed(f"Unknown step type {step['type']!r}", permanent=True))
            return
        key = f"{self.run.pk}:{step['id']}"
        try:
            params, ai_label = self._render(step, tuple(p.name for p in action.params))
        except StepFailed as exc:
            self._fail(step, {}, exc)
            return
        ctx = automation.StepContext(
            tenant=self.run.tenant,
            actor=self.actor,
            record_type=self.run.record_type,
            record_id=self.run.record_id,
            record=self.record or {},
            params=params,
            key=key,
            sequence=lambda: self._sequence(step["id"]),
            ai_label=ai_label,
        )
        started = timezone.now()
        try:
            output = self._effect(step, key, params, started, lambda: action.run(ctx) or {})
        except _AlreadyDone:
            row = StepRun.objects.get(key=key)
            self.variables["steps"][step["id"]] = row.output
            return
        except ValidationError as exc:
            self._fail(step, params, StepFailed(_validation_text(exc), permanent=True))
            return
        except StepFailed as exc:
            self._fail(step, params, exc)
            return
        except Exception as exc:
            self._fail(step, params, StepFailed(f"{type(exc).__name__}: {exc}", permanent=isinstance(exc, ValueError)))
            return
        self.variables["steps"][step["id"]] = output
        if action.type in ("update_field", "add_tag", "remove_tag", "assign_owner") and self.record is not None:
            self.stale = True  # read again before the next step runs (not at all after the last one)

    def _effect(self, step: dict, key: str, params: dict, started, act) -> dict:
        """Run ``act`` and record the step as succeeded in one transaction (both or neither)."""
        if step["id"] not in self.done:
            # The usual case, a step with no row yet: act, then insert the row with its output. A
            # second worker that did the same fails on the row's unique key and its effect is undone.
            try:
                with self._unit():
                    output = act()
                    try:
                        self._insert(step, key, StepStatus.SUCCEEDED, params, started, savepoint=False,
                                     output=_json(output), finished_at=timezone.now())  # fmt: skip
                    except IntegrityError as exc:
                        raise _Clash from exc
                return output
            except _Clash:
                pass  # someone else's row: decide below, with the row taken first
        with self._unit():
            row = self._take(step, params, started)
            output = act()
            StepRun.objects.filter(pk=row.pk).update(output=_json(output), finished_at=timezone.now())
        return output

    def _reload_record(self) -> None:
        self.stale = False
        fresh = load_record(self.run)
        record_type = definition.record_type_of(self.version.get("trigger", {}))
        if fresh is not None and record_type:
            self.record = fresh
            self.variables[record_type] = fresh

    def _take(self, step: dict, params: dict, started) -> StepRun:
        """Claim the step's row as succeeded inside the effect's transaction (or find it taken)."""
        key = f"{self.run.pk}:{step['id']}"
        if step["id"] not in self.done:
            # The usual case, a step that has no row yet: insert it at once (the unique key stops a
            # second worker here) rather than first looking for a row to update.
            try:
                return self._insert(step, key, StepStatus.SUCCEEDED, params, started)
            except IntegrityError:
                pass  # another worker's row: decide below
        updated = (
            StepRun.objects.filter(key=key)
            .exclude(status=StepStatus.SUCCEEDED)
            .update(status=StepStatus.SUCCEEDED, attempts=F("attempts") + 1, input=_json(params), error="",
                    started_at=started)
        )  # fmt: skip
        if updated:
            return StepRun.objects.get(key=key)
        if StepRun.objects.filter(key=key).exists():
            raise _AlreadyDone
        try:
            return self._insert(step, key, StepStatus.SUCCEEDED, params, started)
        except IntegrityError:
            raise _AlreadyDone from None

    def _insert(self, step: dict, key: str, status: str, input_: dict, started, savepoint=True, **fields) -> StepRun:
        """The step's row, new (``IntegrityError`` when its key exists: another worker has it).

        In a batch the row is inserted with the batch's other rows before it commits; a key that
        exists then undoes the whole batch, and its runs are run again one by one.
        """
        self.position += 1
        batch = _batch.get()
        if batch is not None:
            row = StepRun(
                id=uuid.uuid4(), tenant_id=self.run.tenant_id, run=self.run, step_id=step["id"], type=step["type"],
                position=self.position, key=key, status=status, attempts=1, input=_json(input_), started_at=started,
                **fields,
            )  # fmt: skip
            batch.rows.append(row)
            return row
        try:
            with transaction.atomic(savepoint=savepoint):
                return StepRun.objects.create(
                    tenant_id=self.run.tenant_id, run=self.run, step_id=step["id"], type=step["type"],
                    position=self.position, key=key, status=status, attempts=1, input=_json(input_),
                    started_at=started, **fields,
                )  # fmt: skip
        except IntegrityError:
            self.position -= 1
            self.exact = False
            raise

    def _remote(self, step: dict) -> None:
        key = f"{self.run.pk}:{step['id']}"
        kind = step["type"]
        names = {
            "http_request": ("url", "headers", "body"),
            "send_email": ("subject", "body"),
            "ai": ("text",),
        }[kind]
        try:
            params, ai_label = self._render(step, names, html=("body",) if kind == "send_email" else ())
        except StepFailed as exc:
            self._fail(step, {}, exc)
            return
        for name in ("method", "to", "task", "labels"):
            if name in step:
                params[name] = step[name]
        row = self._start_remote(step, params)
        try:
            if kind == "http_request":
                output = remote.http_request(self.workflow, key, params, ai_label)
            elif kind == "send_email":
                output = remote.send_email(self.run, self.workflow, key, params, self.record or {}, ai_label)
            else:
                output = remote.ai_step(self.run, params)
        except remote.StepSkipped as skipped:
            StepRun.objects.filter(pk=row.pk).update(status=StepStatus.SKIPPED, output={"reason": str(skipped)},
                                                     error=str(skipped), finished_at=timezone.now())  # fmt: skip
            self.variables["steps"][step["id"]] = {"reason": str(skipped)}
            return
        except StepFailed as exc:
            self._fail(step, params, exc, row=row)
            return
        except Exception as exc:
            self._fail(step, params, StepFailed(f"{type(exc).__name__}: {exc}"), row=row)
            return
        with transaction.atomic():
            StepRun.objects.filter(pk=row.pk).update(status=StepStatus.SUCCEEDED, output=_json(output), error="",
                                                     finished_at=timezone.now())  # fmt: skip
            if kind == "http_request":
                audit.record(self.run.tenant, self.actor, "workflow.http_request", obj=self.run,
                             changes={"url": [None, params.get("url", "")[:200]], "status": [None, output.get("status")],
                                      "webhook_id": [None, key]})  # fmt: skip
            elif kind == "send_email":
                audit.record(self.run.tenant, self.actor, "workflow.email_sent", obj=self.run,
                             changes={"to": [None, output.get("to")], "subject": [None, output.get("subject")]})  # fmt: skip
        self.variables["steps"][step["id"]] = output

    def _start_remote(self, step: dict, params: dict) -> StepRun:
        """Commit the step's row as running before anything leaves the platform."""
        self.flush()
        key = f"{self.run.pk}:{step['id']}"
        now = timezone.now()
        row = StepRun.objects.filter(key=key).first()
        if row is None:
            self.position += 1
            row, created = StepRun.objects.get_or_create(
                key=key,
                defaults={
                    "tenant_id": self.run.tenant_id,
                    "run": self.run,
                    "step_id": step["id"],
                    "type": step["type"],
                    "position": self.position,
                    "status": StepStatus.RUNNING,
                    "input": _json(_redacted(params)),
                    "started_at": now,
                },
            )
            self.exact = self.exact and created
        StepRun.objects.filter(pk=row.pk).update(
            status=StepStatus.RUNNING, attempts=F("attempts") + 1, input=_json(_redacted(params)), started_at=now
        )
        row.refresh_from_db()
        return row

    def _record(self, step: dict, status: str, input_: dict, output: dict, error: str = "", wake_at=None) -> None:
        self.flush()
        key = f"{self.run.pk}:{step['id']}"
        now = timezone.now()
        finished = None if status == StepStatus.WAITING else now
        if step["id"] not in self.done:
            try:
                with _bookkeeping():
                    self._insert(step, key, status, input_, now, output=_json(output), error=error,
                                 finished_at=finished, wake_at=wake_at)  # fmt: skip
                return
            except IntegrityError:
                pass
        self.position += 1
        self.exact = False
        StepRun.objects.update_or_create(
            key=key,
            defaults={"status": status, "input": _json(input_), "output": _json(output), "error": error,
                      "finished_at": None if status == StepStatus.WAITING else now, "wake_at": wake_at},
            create_defaults={"tenant_id": self.run.tenant_id, "run": self.run, "step_id": step["id"],
                             "type": step["type"], "position": self.position, "status": status, "attempts": 1,
                             "input": _json(input_), "output": _json(output), "error": error, "started_at": now,
                             "finished_at": None if status == StepStatus.WAITING else now, "wake_at": wake_at},
        )  # fmt: skip

    def _fail(self, step: dict, params: dict, exc: StepFailed, row: StepRun | None = None) -> None:
        self.flush()
        _write_batch_rows()
        key = f"{self.run.pk}:{step['id']}"
        now = timezone.now()
        if row is None:
            row = StepRun.objects.filter(key=key).first()
        if row is None:
            self.position += 1
            row = StepRun.objects.create(
                tenant_id=self.run.tenant_id, run=self.run, step_id=step["id"], type=step["type"],
                position=self.position, key=key, status=StepStatus.FAILED, attempts=1, input=_json(_redacted(params)),
                started_at=now,
            )  # fmt: skip
        else:
            StepRun.objects.filter(pk=row.pk).update(
                attempts=F("attempts") + (0 if row.status == StepStatus.RUNNING else 1)
            )
        StepRun.objects.filter(pk=row.pk).update(
            status=StepStatus.FAILED, error=str(exc)[:4000], output=_json(exc.output), finished_at=now
        )
        row.refresh_from_db()
        allowed = int(step.get("attempts") or settings.STUDIO_STEP_ATTEMPTS)
        if not exc.permanent and row.attempts < allowed:
            raise _Retry(now + timedelta(seconds=step_backoff(row.attempts)))
        tries = "" if exc.permanent else f" after {row.attempts} attempts"
        raise _Failed(f"Step {step['id']} · {definition.step_label(step['type'])} failed{tries}: {exc}")

    def _sequence(self, step_id: str) -> int:
        _write_batch_rows()  # the batch's earlier runs count
        return StepRun.objects.filter(
            run__workflow_id=self.workflow.pk, step_id=step_id, status=StepStatus.SUCCEEDED
        ).count()


def jobs_lease(run: Run) -> None:
    """Extend the run's lease between steps (a long run is not taken for lost).

    Only once a quarter of it has passed: a write per step cost a commit each (3.5 ms on
    PostgreSQL with synchronous commits) for runs that finish well within their lease.
    """
    now = timezone.now()
    lease = timedelta(seconds=settings.JOB_LEASE_SECONDS)
    if run.lease_until is not None and run.lease_until - now > lease * 3 / 4:
        return
    run.lease_until = now + lease
    with _bookkeeping():
        Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(lease_until=run.lease_until)


def _is_ai_path(path: str, ai_steps: set[str]) -> bool:
    head, _, rest = path.partition(".")
    if head == "steps":
        return rest.split(".", 1)[0] in ai_steps
    return head == "call" and rest.split(".", 1)[0] in ("summary", "action_items", "sentiment_label")


def _redacted(params: dict) -> dict:
    """Parameters as stored in the run history: header values that look like credentials hidden."""
    headers = params.get("headers")
    if not isinstance(headers, dict):
        return params
    hidden = {
        name: ("•••" if any(w in name.lower() for w in ("auth", "token", "key", "secret", "cookie")) else value)
        for name, value in headers.items()
    }
    return {**params, "headers": hidden}


def _json(value: Any) -> Any:
    """JSON-safe (dates, decimals, UUIDs as text) so a row never fails to save."""
    return json.loads(json.dumps(value, default=str))


def _validation_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def delay_until(step: dict, variables: dict, version: dict) -> datetime:
    now = timezone.now()
    if step.get("minutes"):
        return now + timedelta(minutes=int(step["minutes"]))
    if step.get("until_field"):
        value = conditions.lookup(variables, step["until_field"])
        moment = conditions._moment(value)
        if moment is None:
            return now  # no date: nothing to wait for
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=definition.zone(version.get("trigger", {}).get("timezone")))
        return moment
    tz = definition.zone(step.get("timezone"))
    local = now.astimezone(tz)
    hour, minute = (int(x) for x in (step.get("time") or "09:00").split(":"))
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    weekday = step.get("weekday")
    if weekday:
        target = definition.WEEKDAYS.index(weekday)
        candidate += timedelta(days=(target - candidate.weekday()) % 7)
    if candidate <= local:
        candidate += timedelta(days=7 if weekday else 1)
    return candidate


def audit_run_action(run: Run, actor: Actor, action: str, changes: dict | None = None) -> None:
    audit.record(run.tenant, actor, action, obj=run, changes=changes or {})
