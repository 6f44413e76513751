"""The month-end billing run at scale; reproducibility of invoices from the usage ledger.

    .venv/bin/python bench/billing_run.py [--customers 10000] [--resellers 50] [--events 1000000]
                                          [--data-dir DIR]

Data (issue 15's Speed section), written with bulk inserts (``executemany`` on SQLite, ``COPY`` on
PostgreSQL, through ``bench/crm_data.py``'s writer): ``--resellers`` resellers, the first with a
tenth of the customers (1,000 at the defaults), the rest sharing the others; each customer on a
plan (Starter, Team or Enterprise), 1 to 25 seats, a fifth with a minute pack, a 14-day trial that
ended on 1 October 2026; ``--events`` transcription-minute usage events spread over October and
November. SQLite in a fresh data folder (the embedded defaults), or PostgreSQL when
``DATABASE_URL`` is set (use a scratch database: its tables are filled).

Measured:

1. ``billing.invoices.run(at=2026-12-05)``: closes October and November for every customer (two
   invoices each, issued: their grace days are over). Target: under 5 minutes on PostgreSQL,
   under 10 on SQLite.
2. The same run again: it must issue nothing.
3. Reproducibility: the usage events are deleted and ingested again, shuffled, twice over
   (``ledger.record_many``: the second copy is all duplicates); every issued invoice is recomputed
   from the ledger and must equal, byte for byte, the one issued.
4. The reseller money side: every reseller sells at a 20 % markup (its price book). A run on
   1 January 2027 issues each reseller its December statement; for the reseller with 1,000
   customers, their retail invoices (pre-tax) minus its wholesale statement must equal its
   margin report, to the penny.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

RUN_AT = date(2026, 12, 5)
STATEMENTS_AT = date(2027, 1, 1)
MARKUP = {"plans": {"starter": "18.00", "team": "42.00", "enterprise": "72.00"}, "addons": {"minutes_1000": "24.00"}}
TRIAL_START, TRIAL_END = date(2026, 9, 17), date(2026, 10, 1)
USAGE_FROM, USAGE_DAYS = datetime(2026, 10, 1, tzinfo=UTC), 61
CHUNK = 20_000


def _setup(data_dir: str | None) -> None:
    os.environ["OCTOPUSHX_DATA_DIR"] = data_dir or tempfile.mkdtemp(prefix="opx-billing-")
    os.environ["OCTOPUSHX_BILLING"] = "1"
    os.environ.setdefault("OCTOPUSHX_LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")
    sys.path.insert(0, str(Path(__file__).parent))
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrations applied in {time.perf_counter() - started:.1f} s", flush=True)


def _rows(model, items: list[dict]) -> list[dict]:
    """Plain rows (attname -> value) with the model's defaults, for the bulk writer."""
    fields = model._meta.concrete_fields
    stamp = datetime.now(UTC)
    out = []
    for values in items:
        obj = model(**values)
        row = {f.attname: getattr(obj, f.attname) for f in fields}
        row.update({f.attname: stamp for f in fields if getattr(f, "auto_now", False) and row[f.attname] is None})
        out.append(row)
    return out


def _write(model, items: list[dict]) -> None:
    from crm_data import _writer
    from django.db import transaction

    write = _writer(model)
    for start in range(0, len(items), CHUNK):
        with transaction.atomic():
            write(_rows(model, items[start : start + CHUNK]))


def populate(customers: int, resellers: int, events: int, rng: random.Random) -> list[tuple]:
    """Write the organisations, subscriptions and their timelines; return the usage events."""
    from octopushx.billing import catalogue
    from octopushx.billing.models import ChangeKind, Status, Subscription, SubscriptionAddOn, SubscriptionChange
    from octopushx.tenancy.models import Organization, OrgKind
    from octopushx.tenancy.services import platform_org

    started = time.perf_counter()
    platform = platform_org()
    version = catalogue.current_version()
    plans = list(version.plans.order_by("position"))
    pack = version.addons.filter(slug="minutes-1000").first() or version.addons.order_by("position").first()
    now = datetime.combine(TRIAL_START, datetime.min.time(), tzinfo=UTC)
    reseller_rows = [
        {"id": uuid.uuid4(), "kind": OrgKind.RESELLER, "parent_id": platform.pk, "name": f"Reseller {n:02d}"}
        for n in range(resellers)
    ]
    big = max(1, customers // 10) if resellers > 1 else customers
    owners = [reseller_rows[0]["id"]] * big + [
        reseller_rows[1 + n % (resellers - 1)]["id"] for n in range(customers - big) if resellers > 1
    ]
    org_rows = [
        {"id": uuid.uuid4(), "kind": OrgKind.CUSTOMER, "parent_id": parent, "name": f"Customer {n:05d}"}
        for n, parent in enumerate(owners)
    ]
    _write(Organization, reseller_rows + org_rows)
    from octopushx.billing import clock
    from octopushx.billing import resellers as programme
    from octopushx.core.context import Actor

    with clock.frozen(TRIAL_START):  # in force before the first period ends
        for row in reseller_rows:
            book = {kind: {slug: {"month": price} for slug, price in items.items()} for kind, items in MARKUP.items()}
            reseller = Organization.objects.get(pk=row["id"])
            programme.set_price_book(reseller, Actor.system("bench"), **book)
    subscriptions, changes, addons = [], [], []
    for org in org_rows:
        plan, seats = rng.choice(plans), rng.randint(1, 25)
        seats = max(seats, plan.min_seats)
        held = {pack.slug: 1} if rng.random() < 0.2 else {}
        sub_id = uuid.uuid4()
        subscriptions.append(
            {
                "id": sub_id,
                "tenant_id": org["id"],
                "version_id": version.pk,
                "plan_id": plan.pk,
                "plan_chosen": True,
                "seats": seats,
                "started_on": TRIAL_START,
                "trial_end": TRIAL_END,
                "status": Status.ACTIVE,
                "created_at": now,
            }
        )
        if held:
            addons.append({"tenant_id": org["id"], "subscription_id": sub_id, "addon_id": pack.pk, "quantity": 1})
        state = {
            "plan": plan.slug,
            "plan_chosen": True,
            "catalogue_version": version.number,
            "interval": "month",
            "currency": "GBP",
            "seats": seats,
            "addons": held,
            "status": Status.TRIALING,
            "trial_end": TRIAL_END.isoformat(),
            "auto_renew": True,
            "cancel_at_period_end": False,
        }
        for kind, day, status in (
            (ChangeKind.STARTED, TRIAL_START, Status.TRIALING),
            (ChangeKind.TRIAL_ENDED, TRIAL_END, Status.ACTIVE),
        ):
            changes.append(
                {
                    "tenant_id": org["id"],
                    "subscription_id": sub_id,
                    "kind": kind,
                    "effective_on": day,
                    "recorded_at": now,
                    "state": {**state, "status": status},
                }
            )
    _write(Subscription, subscriptions)
    _write(SubscriptionAddOn, addons)
    _write(SubscriptionChange, changes)
    tenants = [org["id"] for org in org_rows]
    usage = [
        (
            tenants[n % len(tenants)],
            f"call:{n}",
            Decimal(rng.randint(1, 600)) / 10,
            USAGE_FROM + timedelta(seconds=rng.randrange(USAGE_DAYS * 86400)),
        )
        for n in range(events)
    ]
    print(
        f"{resellers} resellers, {customers} customers (the first reseller has {big}), "
        f"{len(addons)} minute packs; written in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return usage


def ingest(usage: list[tuple]) -> tuple[int, float]:
    from octopushx.billing import ledger
    from octopushx.billing.models import Metric

    started = time.perf_counter()
    added = ledger.record_many(
        (tenant_id, Metric.TRANSCRIPTION_MINUTES, key, quantity, at) for tenant_id, key, quantity, at in usage
    )
    return added, time.perf_counter() - started


def check_margins(vendor: str) -> bool:
    from decimal import Decimal

    from octopushx.billing import invoices, resellers
    from octopushx.billing.models import Invoice, InvoiceStatus, Statement
    from octopushx.tenancy.models import Organization, OrgKind

    started = time.perf_counter()
    counts = invoices.run(STATEMENTS_AT)
    print(f"billing run on {STATEMENTS_AT}: {time.perf_counter() - started:.1f} s ({counts['statements']} statements)")
    big = Organization.objects.filter(kind=OrgKind.RESELLER).order_by("name").first()
    month = date(2026, 12, 1)
    statement = Statement.objects.get(tenant=big, month=month)
    retail = sum(
        Invoice.objects.filter(tenant__parent=big, status=InvoiceStatus.ISSUED, period_end__lt=month).values_list(
            "subtotal", flat=True
        ),
        Decimal(0),
    )
    report = resellers.margin_report(big, month)
    margin = sum((Decimal(item["margin"]) for item in report["items"]), Decimal(0))
    customers = len(report["items"])
    equal = retail - statement.subtotal == margin
    print(
        f"{big.name} ({customers:,} customers): retail {retail:,.2f} − wholesale statement {statement.subtotal:,.2f} "
        f"= {retail - statement.subtotal:,.2f}; margin report {margin:,.2f}: {'equal' if equal else 'DIFFERENT'}"
    )
    return equal and margin > 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--resellers", type=int, default=50)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--data-dir", help="data folder (SQLite file, keys); a fresh one by default")
    args = parser.parse_args()
    _setup(args.data_dir)
    from django.db import connection

    from octopushx.billing import invoices
    from octopushx.billing.models import Invoice, InvoiceStatus, UsageEvent

    vendor = connection.vendor
    target = 300 if vendor == "postgresql" else 600
    print(f"database: {vendor}", flush=True)
    rng = random.Random(15)
    usage = populate(args.customers, args.resellers, args.events, rng)
    added, took = ingest(usage)
    print(f"usage: {added:,} events ingested in {took:.1f} s", flush=True)
    ok = True

    started = time.perf_counter()
    counts = invoices.run(RUN_AT)
    took = time.perf_counter() - started
    issued = Invoice.objects.filter(status=InvoiceStatus.ISSUED).count()
    print(
        f"billing run 1: {took:.1f} s ({counts}); {issued:,} invoices issued "
        f"(target {target // 60} min) {'ok' if took < target else 'OVER TARGET'}",
        flush=True,
    )
    ok &= took < target and issued == 2 * args.customers

    started = time.perf_counter()
    again = invoices.run(RUN_AT)
    took = time.perf_counter() - started
    print(
        f"billing run 2: {took:.1f} s ({again}); {'issued nothing: ok' if not again.get('issued') else 'ISSUED AGAIN'}"
    )
    ok &= not again.get("issued")

    UsageEvent.objects.all().delete()
    shuffled = usage * 2
    rng.shuffle(shuffled)
    added, took = ingest(shuffled)
    print(f"re-ingest: {len(shuffled):,} events shuffled (each twice), {added:,} new, in {took:.1f} s", flush=True)
    ok &= added == len(usage)
    started, differ, cache = time.perf_counter(), 0, invoices.RunCache()
    for invoice in Invoice.objects.filter(status=InvoiceStatus.ISSUED).select_related("subscription__tenant__parent"):
        _, _, recomputed, _ = invoices.compute_invoice(
            invoice.subscription, invoice.period_start, invoice.period_end, cache
        )
        differ += recomputed.canonical() != invoice.computed
    print(
        f"recomputed {issued:,} invoices from the re-ingested ledger in {time.perf_counter() - started:.1f} s: "
        f"{'all identical' if not differ else f'{differ} DIFFER'}"
    )
    ok &= differ == 0
    ok &= check_margins(vendor)
    print("\nall targets met" if ok else "\nSOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
