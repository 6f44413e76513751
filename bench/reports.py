"""Time every ready dashboard widget, a two-dimension builder query and whole dashboards; print p50 / p95.

    .venv/bin/python bench/reports.py [--scale 1.0] [--repeat 15] [--period last_90_days]
                                      [--data-dir DIR] [--reuse] [--only TEXT]

Data (issue 14's Speed section), loaded with bulk inserts (``executemany`` on SQLite, ``COPY`` on
PostgreSQL, through ``bench/crm_data.py``'s writer):

- SQLite (embedded defaults, a fresh data folder): 200,000 contacts, 40,000 deals, 100,000 tasks,
  50,000 notes, 20,000 analysed calls;
- PostgreSQL (``DATABASE_URL`` set; use a scratch database): 1,000,000 contacts, 200,000 deals,
  500,000 tasks, 250,000 notes, 100,000 analysed calls.

``--scale 0.1`` loads a tenth of either. Deals carry their stage history (a path through the
pipeline), three currencies and two years of dates; calls carry analysis results with per-role
metrics and keywords; Shield has privacy requests, retention runs and alerts.

Every widget runs ``--repeat`` times for an admin (sees everything) and an agent (their own records),
through ``reports.dashboards.run_widget`` (the same code the API and the pages call), after one
untimed build of each dashboard (a running server's warm connection and caches); then each
dashboard is built whole (``dashboards.build``). Targets: 500 ms p95 per widget, 2 s per dashboard.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

WIDGET_TARGET_MS = 500
DASHBOARD_TARGET_MS = 2000
SIZES = {  # at scale 1
    "sqlite": {"contacts": 200_000, "deals": 40_000, "tasks": 100_000, "notes": 50_000, "calls": 20_000},
    "postgresql": {"contacts": 1_000_000, "deals": 200_000, "tasks": 500_000, "notes": 250_000, "calls": 100_000},
}
CHUNK = 10_000
KEYWORDS = "pricing renewal contract discount onboarding invoice upgrade trial support integration".split()


def _setup(data_dir: str | None) -> None:
    os.environ["OCTOPUSHX_DATA_DIR"] = data_dir or tempfile.mkdtemp(prefix="opx-reports-")
    os.environ.setdefault("OCTOPUSHX_LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")
    sys.path.insert(0, str(Path(__file__).parent))
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    from octopushx.core import maintenance

    maintenance.refresh_statistics()
    print(f"migrations applied in {time.perf_counter() - started:.1f} s", flush=True)


def _row(table, /, **values) -> dict:
    """A plain row (attname -> value) with the model's defaults, for the bulk writer."""
    obj = table(**values)
    return {f.attname: getattr(obj, f.attname) for f in table._meta.concrete_fields}


def _write(model, rows: list[dict]) -> None:
    from crm_data import _writer
    from django.db import transaction

    write = _writer(model)
    for start in range(0, len(rows), CHUNK):
        with transaction.atomic():
            write(rows[start : start + CHUNK])


def _deals(loaded, count: int, owners: list, rng: random.Random, now) -> list:
    from octopushx.crm import services
    from octopushx.crm.models import Deal, DealStageChange, StageKind

    pipeline = services.default_pipeline(loaded.tenant)
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won = next(s for s in stages if s.kind == StageKind.WON)
    lost = next(s for s in stages if s.kind == StageKind.LOST)
    deals, history = [], []
    for index in range(count):
        created = now - timedelta(days=rng.uniform(0, 730))
        roll = rng.random()
        stage = won if roll < 0.25 else lost if roll < 0.45 else rng.choice(open_stages)
        closed = created + (now - created) * rng.uniform(0.1, 1.0) if stage.kind != StageKind.OPEN else None
        if stage.kind == StageKind.OPEN:
            path = open_stages[: open_stages.index(stage) + 1]
        elif stage.kind == StageKind.WON:
            path = [*open_stages, stage]
        else:
            path = [*open_stages[: rng.randint(1, len(open_stages))], stage]
        end = closed or created + (now - created) * rng.uniform(0.2, 1.0)
        moments = [created, *sorted(created + (end - created) * rng.random() for _ in path[1:])]
        deal_id = uuid.uuid4()
        deals.append(
            _row(
                Deal,
                id=deal_id,
                tenant_id=loaded.tenant.pk,
                name=f"Deal {index}",
                value=Decimal(rng.randrange(500, 80_000, 50)),
                currency=rng.choices(["GBP", "EUR", "USD"], [80, 15, 5])[0],
                pipeline_id=pipeline.pk,
                stage_id=stage.pk,
                status=stage.kind,
                company_id=rng.choice(loaded.companies),
                owner_id=rng.choice(owners),
                expected_close=(created + timedelta(days=rng.randint(10, 180))).date(),
                closed_at=closed,
                created_at=created,
                updated_at=moments[-1],
            )
        )
        previous, entered = None, None
        for step, moment in zip(path, moments, strict=True):
            history.append(
                _row(
                    DealStageChange,
                    tenant_id=loaded.tenant.pk,
                    deal_id=deal_id,
                    pipeline_id=pipeline.pk,
                    from_stage_id=previous.pk if previous else None,
                    from_entered_at=entered,
                    to_stage_id=step.pk,
                    from_stage_name=previous.name if previous else "",
                    to_stage_name=step.name,
                    to_kind=step.kind,
                    changed_at=moment,
                    created_at=moment,
                    updated_at=moment,
                )
            )
            previous, entered = step, moment
    _write(Deal, deals)
    _write(DealStageChange, history)
    print(f"  {count:,} deals, {len(history):,} stage changes", flush=True)
    return [row["id"] for row in deals]


def _activities(
    loaded, tasks: int, notes: int, owners: list, contacts: list, deals: list, rng: random.Random, now
) -> None:
    """Tasks and notes on contacts, a third of them also on a deal."""
    from octopushx.crm.models import Note, Task, TaskStatus

    rows = []
    for index in range(tasks):
        created = now - timedelta(days=rng.uniform(0, 365))
        due = created + timedelta(days=rng.uniform(-2, 30))
        status = rng.choices([TaskStatus.DONE, TaskStatus.OPEN, TaskStatus.CANCELLED], [60, 35, 5])[0]
        completed = min(due, now) if status == TaskStatus.DONE else None
        rows.append(
            _row(
                Task,
                tenant_id=loaded.tenant.pk,
                title=f"Follow up {index}",
                assignee_id=rng.choice(owners),
                contact_id=rng.choice(contacts),
                deal_id=rng.choice(deals) if rng.random() < 0.3 else None,
                status=status,
                due_at=due,
                completed_at=completed,
                created_at=created,
                updated_at=completed or created,
            )
        )
    _write(Task, rows)
    rows = []
    for index in range(notes):
        created = now - timedelta(days=rng.uniform(0, 365))
        rows.append(
            _row(
                Note,
                tenant_id=loaded.tenant.pk,
                body=f"<p>Spoke about the quote ({index}).</p>",
                author_id=rng.choice(owners),
                contact_id=rng.choice(contacts),
                deal_id=rng.choice(deals) if rng.random() < 0.3 else None,
                created_at=created,
                updated_at=created,
            )
        )
    _write(Note, rows)
    print(f"  {tasks:,} tasks, {notes:,} notes", flush=True)


def _calls(loaded, count: int, agents: list, contacts: list, rng: random.Random, now) -> None:
    from octopushx.calls.models import Call, CallAnalysisResult, CallStatus, ReviewState, headline_metrics

    calls, results = [], []
    for _index in range(count):
        started = now - timedelta(days=rng.uniform(0, 365))
        duration = rng.uniform(60, 1800)
        talk = rng.uniform(0.25, 0.75)
        call_id, result_id = uuid.uuid4(), uuid.uuid4()
        metrics = {
            "duration": duration,
            "talk_ratio": {"agent": round(talk, 3), "customer": round(1 - talk, 3)},
            "talk_time": {"agent": duration * talk, "customer": duration * (1 - talk)},
            "longest_monologue_by_speaker": {"agent": rng.uniform(10, 120), "customer": rng.uniform(5, 90)},
            "questions": {"agent": rng.randint(0, 20)},
            "interruptions": {"agent": rng.randint(0, 6), "customer": rng.randint(0, 6)},
            "patience": rng.uniform(0.3, 2.0),
            "turns": rng.randint(5, 120),
            "silence_ratio": rng.uniform(0, 0.3),
        }
        review = rng.choice([ReviewState.UNREVIEWED, ReviewState.APPROVED])
        data = {
            "insights": {"metrics": metrics, "keywords": rng.sample(KEYWORDS, 3)},
            "speakers": {"roles_known": True},
        }
        calls.append(
            _row(
                Call,
                id=call_id,
                tenant_id=loaded.tenant.pk,
                agent_id=rng.choice(agents),
                contact_id=rng.choice(contacts),
                started_at=started,
                duration=duration,
                status=CallStatus.ANALYSED,
                sentiment=rng.uniform(-1, 1),
                review_state=review,
                current_id=result_id,
                metrics=headline_metrics(data),
                created_at=started,
                updated_at=started,
            )
        )
        results.append(
            _row(
                CallAnalysisResult,
                id=result_id,
                tenant_id=loaded.tenant.pk,
                call_id=call_id,
                run=1,
                pipeline_version="bench",
                model="bench",
                review_state=review,
                data=data,
                created_at=started,
                updated_at=started,
            )
        )
    from crm_data import _writer
    from django.db import transaction

    write_calls, write_results = _writer(Call), _writer(CallAnalysisResult)
    for start in range(0, count, CHUNK):
        with transaction.atomic():  # each call points at its result and back: one transaction
            write_calls(calls[start : start + CHUNK])
            write_results(results[start : start + CHUNK])
    print(f"  {count:,} analysed calls", flush=True)


def _shield(loaded, rng: random.Random, now) -> None:
    from octopushx.shield.monitoring.models import SecurityAlert
    from octopushx.shield.privacy.models import PrivacyRequest
    from octopushx.shield.retention.models import RetentionRun

    requests, runs, alerts = [], [], []
    for index in range(300):
        created = now - timedelta(days=rng.uniform(0, 365))
        state = rng.choice(["received", "verified", "in_progress", "completed", "completed", "rejected"])
        requests.append(
            _row(
                PrivacyRequest,
                tenant_id=loaded.tenant.pk,
                kind=rng.choice(["access", "export", "erasure", "restriction"]),
                source="staff",
                state=state,
                phone=f"+4420790{index:05d}",
                due_at=created + timedelta(days=30),
                completed_at=created + timedelta(days=rng.uniform(1, 30)) if state == "completed" else None,
                created_at=created,
                updated_at=created,
            )
        )
    for day in range(365):
        finished = now - timedelta(days=day)
        counts = {"notes": rng.randint(0, 40), "recordings": rng.randint(0, 10)}
        runs.append(
            _row(RetentionRun, tenant_id=loaded.tenant.pk, counts=counts, finished_at=finished, created_at=finished)
        )
        runs[-1]["updated_at"] = finished
    for index in range(500):
        raised = now - timedelta(days=rng.uniform(0, 365))
        alerts.append(
            _row(
                SecurityAlert,
                tenant_id=loaded.tenant.pk,
                kind=rng.choice(["failed_burst", "concurrent_ips", "large_export", "role_escalation"]),
                summary="bench",
                dedupe_key=f"bench-{index}",
                created_at=raised,
                updated_at=raised,
            )
        )
    for model, rows in ((PrivacyRequest, requests), (RetentionRun, runs), (SecurityAlert, alerts)):
        _write(model, rows)
    print("  300 privacy requests, 365 retention runs, 500 alerts", flush=True)


def populate(vendor: str, scale: float, loaded=None):
    """Load the tenant (or, given ``loaded``, an earlier run's tenant whose contacts are in place) with
    the reports data."""
    from crm_data import populate as populate_contacts
    from django.utils import timezone

    from octopushx.core import maintenance
    from octopushx.crm.models import Contact

    sizes = {k: max(10, int(v * scale)) for k, v in SIZES[vendor].items()}
    if loaded is None:
        print("loading: " + ", ".join(f"{v:,} {k}" for k, v in sizes.items()), flush=True)
        loaded = populate_contacts(sizes["contacts"])
    else:
        have = Contact.objects.for_tenant(loaded.tenant).count()
        print(
            f"reusing {have:,} contacts; loading: "
            + ", ".join(f"{v:,} {k}" for k, v in sizes.items() if k != "contacts")
        )
    rng = random.Random(14)
    now = timezone.now()
    started = time.perf_counter()
    owners = [loaded.admin.user_id] + [m.user_id for m in loaded.agents + loaded.managers]
    agents = [m.user_id for m in loaded.agents + loaded.managers]
    contacts = list(Contact.objects.for_tenant(loaded.tenant).values_list("pk", flat=True)[:50_000])
    deals = _deals(loaded, sizes["deals"], owners, rng, now)
    _activities(loaded, sizes["tasks"], sizes["notes"], owners, contacts, deals, rng, now)
    from octopushx.crm import activity
    from octopushx.crm.models import Deal

    started = time.perf_counter()  # bulk writes skip crm.activity's receivers, as the demo's do
    activity.refresh(Deal.objects.for_tenant(loaded.tenant))
    print(f"  deals' last activity and stage entry worked out in {time.perf_counter() - started:.1f} s", flush=True)
    _calls(loaded, sizes["calls"], agents, contacts, rng, now)
    _shield(loaded, rng, now)
    maintenance.refresh_statistics()
    if vendor == "postgresql":  # a server's autovacuum does this within minutes; we measure right after the load
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # statistics, and the visibility map index-only scans need
    print(f"reports data loaded in {time.perf_counter() - started:.1f} s", flush=True)
    return loaded


def _existing():
    from crm_data import Tenant

    from octopushx.crm.models import Company
    from octopushx.tenancy.models import Membership, Organization

    tenant = Organization.objects.filter(name="Big Ltd").order_by("-created_at").first()
    if tenant is None:
        return None
    members = Membership.objects.filter(tenant=tenant).select_related("user", "tenant")
    return Tenant(
        tenant=tenant,
        admin=members.get(role="owner"),
        agents=list(members.filter(role="agent").order_by("user__email")),
        managers=list(members.filter(role="manager").order_by("user__email")),
        companies=list(Company.objects.for_tenant(tenant).values_list("pk", flat=True)[:5000]),
    )


def _ms(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered), p95, ordered[-1]


BUILDER = {
    "builder: deals by owner × month": {
        "dataset": "deals",
        "measures": [{"agg": "count"}, {"agg": "sum", "field": "value"}],
        "group_by": [{"field": "owner"}, {"field": "created_at", "grain": "month"}],
    },
    "builder: tasks by assignee × status": {
        "dataset": "tasks",
        "measures": [{"agg": "count"}],
        "group_by": [{"field": "assignee"}, {"field": "status"}],
    },
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the issue's data sizes")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--period", default="last_90_days", help="the dashboards' period (reports.dashboards.PERIODS)")
    parser.add_argument("--data-dir", help="data folder (SQLite file, keys); a fresh one by default")
    parser.add_argument(
        "--reuse", action="store_true", help="the tenant an earlier run loaded (its contacts at least) in --data-dir"
    )
    parser.add_argument("--only", help="measure only widgets whose key contains this text")
    args = parser.parse_args()
    _setup(args.data_dir)
    from django.db import connection

    from octopushx.reports import dashboards, query

    print(f"database: {connection.vendor}, data folder {os.environ['OCTOPUSHX_DATA_DIR']}", flush=True)
    from octopushx.crm.models import Deal

    loaded = _existing() if args.reuse else None
    if loaded is None:
        loaded = populate(connection.vendor, args.scale)
    elif not Deal.objects.for_tenant(loaded.tenant).exists():  # an earlier run stopped after the contacts
        loaded = populate(connection.vendor, args.scale, loaded)
    connection.close()  # measured on a connection as a server thread has one: the default page cache
    tenant = loaded.tenant
    tenant.refresh_from_db()
    period = dashboards.resolve_period(tenant, args.period)
    print(f"period: {period.label} ({period.text()}), {args.repeat} runs per widget\n")
    failed: list[str] = []
    header = f"{'role':7} {'dashboard':11} {'widget':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
    print(header)
    print("-" * len(header))
    boards: list[tuple[str, str, float, float]] = []
    for role, membership in (("admin", loaded.admin), ("agent", loaded.agents[0])):
        for slug in dashboards.DASHBOARDS:  # warm-up, untimed: a running server has answered before
            if dashboards.can_see(membership, slug):
                dashboards.build(tenant, membership, slug, period)
        for slug, board in dashboards.DASHBOARDS.items():
            if not dashboards.can_see(membership, slug):
                continue
            for widget in board.widgets:
                if args.only and args.only not in widget.key:
                    continue
                samples = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    dashboards.run_widget(tenant, membership, widget, period)
                    samples.append((time.perf_counter() - started) * 1000)
                p50, p95, worst = _ms(samples)
                mark = "" if p95 < WIDGET_TARGET_MS else "  <-- over 500 ms"
                if mark:
                    failed.append(f"{role} {slug}.{widget.key} p95 {p95:.0f} ms")
                print(f"{role:7} {slug:11} {widget.key:34} {p50:8.1f} {p95:8.1f} {worst:8.1f}{mark}", flush=True)
            if args.only:
                continue
            samples = []
            for _ in range(max(3, args.repeat // 5)):
                started = time.perf_counter()
                dashboards.build(tenant, membership, slug, period)
                samples.append((time.perf_counter() - started) * 1000)
            p50, _p95, worst = _ms(samples)
            boards.append((role, slug, p50, worst))
        for name, spec in BUILDER.items():
            spec = {**spec, "period": period.spec("created_at"), "compare": "previous_period"}
            samples = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                query.run(tenant, membership, spec)
                samples.append((time.perf_counter() - started) * 1000)
            p50, p95, worst = _ms(samples)
            mark = "" if p95 < WIDGET_TARGET_MS else "  <-- over 500 ms"
            if mark:
                failed.append(f"{role} {name} p95 {p95:.0f} ms")
            print(f"{role:7} {'builder':11} {name[9:]:34} {p50:8.1f} {p95:8.1f} {worst:8.1f}{mark}", flush=True)
    if boards:
        print(f"\n{'role':7} {'dashboard':11} {'whole build p50 ms':>20} {'max ms':>8}")
        for role, slug, p50, worst in boards:
            mark = "" if worst < DASHBOARD_TARGET_MS else "  <-- over 2 s"
            if mark:
                failed.append(f"{role} {slug} dashboard {worst:.0f} ms")
            print(f"{role:7} {slug:11} {p50:20.1f} {worst:8.1f}{mark}")
    print()
    if failed:
        print("verdict: over target — " + "; ".join(failed))
        return 2
    print("verdict: every widget and builder query under 500 ms at p95; every dashboard under 2 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
