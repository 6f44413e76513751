"""List, filter, search and open contacts through the API on a large tenant; print p50 / p95 latencies.

    .venv/bin/python bench/crm_lists.py [CONTACTS] [--repeat N] [--http] [--reuse] [--data-dir DIR] [--role R] [--only TEXT]

CONTACTS defaults to 200,000 on SQLite (embedded defaults, fresh data folder). With DATABASE_URL
set it runs against that PostgreSQL database instead (use a scratch database; 1,000,000 contacts
load in a few minutes with COPY). ``--reuse`` measures a tenant loaded by an earlier run (same
database; for SQLite pass the same ``--data-dir``) after applying any new migrations.

Every query runs as an admin (sees every contact), a manager (their team's) and an agent (their
own). Requests go through Django's test client in-process, or with ``--http`` to ``octopushx
serve`` in a subprocess over keep-alive HTTP. Target: each query under 100 ms at the 95th percentile.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

TARGET_MS = 100


def _setup(data_dir: str | None, crm_migration: str | None) -> None:
    os.environ["OCTOPUSHX_DATA_DIR"] = data_dir or tempfile.mkdtemp(prefix="opx-crm-lists-")
    os.environ.setdefault("OCTOPUSHX_LOG_LEVEL", "WARNING")
    os.environ.setdefault("OCTOPUSHX_RATE_LIMITS", "0")  # the benchmark sends thousands of requests a minute
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")
    sys.path.insert(0, str(Path(__file__).parent))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    if crm_migration:
        call_command("migrate", "crm", crm_migration, interactive=False, verbosity=0)
    from octopushx.core import maintenance

    maintenance.refresh_statistics()  # as `octopushx serve` does at start
    print(f"migrations applied in {time.perf_counter() - started:.1f} s", flush=True)


def _existing():
    """The tenant an earlier run loaded, or ``None``."""
    from crm_data import Tenant

    from octopushx.crm.models import Company, Tag
    from octopushx.tenancy.models import Membership, Organization

    tenant = Organization.objects.filter(name="Big Ltd").order_by("-created_at").first()
    if tenant is None:
        return None
    members = Membership.objects.filter(tenant=tenant).select_related("user")
    return Tenant(
        tenant=tenant,
        admin=members.get(role="owner"),
        agents=list(members.filter(role="agent").order_by("user__email")),
        managers=list(members.filter(role="manager").order_by("user__email")),
        tags=list(Tag.objects.for_tenant(tenant)),
        companies=list(Company.objects.for_tenant(tenant).values_list("pk", flat=True)[:1000]),
    )


def _sample(loaded, owners: list | None, size: int, rng: random.Random) -> list[dict]:
    """``size`` contacts the member sees, spread over the whole table (index lookups, no full scan)."""
    from octopushx.crm.models import Contact

    qs = Contact.objects.for_tenant(loaded.tenant)
    if owners is not None:
        qs = qs.filter(owner_id__in=owners)
    newest = qs.order_by("-created_at").values_list("created_at", flat=True).first()
    oldest = qs.order_by("created_at").values_list("created_at", flat=True).first()
    rows = []
    for _ in range(size):
        point = oldest + (newest - oldest) * rng.random()
        contact = qs.filter(created_at__lte=point).order_by("-created_at").prefetch_related("phones", "emails")[:1]
        for row in contact:
            rows.append(
                {
                    "id": str(row.pk),
                    "first": row.first_name,
                    "last": row.last_name,
                    "email": row.email,
                    "phone": [p.number for p in row.phones.all()][-1],
                    "owner": str(row.owner_id or loaded.admin.user_id),
                    "company": str(row.company_id) if row.company_id else "",
                }
            )
    return rows


def _formats(e164: str) -> dict[str, str]:
    import phonenumbers

    number = phonenumbers.parse(e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return {
        "national": national,
        "international": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        "digits": "".join(c for c in national if c.isdigit()),
        "last6": e164[-6:],
    }


def _accented(name: str) -> str:
    """ "Ashford" typed as "Äshförd": the search folds accents away."""
    return name.translate(str.maketrans("aeiouAEIOU", "äéîöüÄÉÎÖÜ"))


def cases(loaded, rng: random.Random) -> dict:
    """Query name -> function of a sample row giving the request path."""
    from octopushx.api.pagination import _encode

    tags = [t.name for t in loaded.tags]

    def q(value: str, **extra) -> str:
        return "/api/v1/contacts?" + urlencode({"q": value, "limit": 20, **extra})

    return {
        "list, newest first": lambda row: "/api/v1/contacts?limit=50",
        "filter lifecycle_stage": lambda row: "/api/v1/contacts?lifecycle_stage=customer&limit=50",
        "filter owner_id": lambda row: f"/api/v1/contacts?owner_id={row['owner']}&limit=50",
        "filter tag": lambda row: f"/api/v1/contacts?tag={rng.choice(tags)}&limit=50",
        "filter company_id": lambda row: f"/api/v1/contacts?company_id={row['company'] or loaded.companies[0]}",
        "filter cf.segment (custom)": lambda row: "/api/v1/contacts?cf.segment=gold&limit=50",
        "filter stage + tag + segment": lambda row: (
            f"/api/v1/contacts?lifecycle_stage=lead&tag={rng.choice(tags)}&cf.segment=trial&limit=50"
        ),
        "ordered by last_name": lambda row: "/api/v1/contacts?ordering=last_name&limit=50",
        "ordered by last_name, cursor": lambda row: (
            "/api/v1/contacts?"
            + urlencode(
                {"ordering": "last_name", "limit": 50, "cursor": _encode([row["last"], row["first"], row["id"]])}
            )
        ),
        "search last name": lambda row: q(row["last"]),
        "search last name prefix": lambda row: q(row["last"][:4]),
        "search first + last name": lambda row: q(f"{row['first']} {row['last']}"),
        "search first name only": lambda row: q(row["first"]),
        "search last name, accented": lambda row: q(_accented(row["last"])),
        "search word inside an email": lambda row: q(row["email"].split("@")[0].split(".")[-1]),
        "search whole email": lambda row: q(row["email"]),
        "search email local part": lambda row: q(row["email"].split("@")[0]),
        "search phone national": lambda row: q(_formats(row["phone"])["national"]),
        "search phone international": lambda row: q(_formats(row["phone"])["international"]),
        "search phone digits only": lambda row: q(_formats(row["phone"])["digits"]),
        "search phone last 6 digits": lambda row: q(_formats(row["phone"])["last6"]),
        "open a contact": lambda row: f"/api/v1/contacts/{row['id']}",
    }


class _Http:
    """``octopushx serve`` in a subprocess, reached with one keep-alive session."""

    def __init__(self) -> None:
        import requests

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        binary = Path(sys.executable).parent / "octopushx"
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            [str(binary), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
        )
        self.session = requests.Session()
        for _ in range(100):
            try:
                self.session.get(f"http://127.0.0.1:{self.port}/api/v1/contacts", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)

    def get(self, path: str, token: str):
        response = self.session.get(
            f"http://127.0.0.1:{self.port}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        return response.status_code, response.content

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


DB_MS: list[float] = []


def _db_clock(execute, sql, params, many, context):
    """Add the time spent in the database to the request being measured."""
    begin = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        DB_MS[-1] += (time.perf_counter() - begin) * 1000


def measure(get, rows: list[dict], all_cases: dict, repeat: int, rng: random.Random):
    """Yield (query name, p50, p95, max, p95 of the database time) in ms, one query at a time."""
    for name, path_of in all_cases.items():
        DB_MS[:] = [0.0]
        status, body = get(path_of(rows[0]))  # warm up: the first call of each kind loads code
        if status != 200:
            raise SystemExit(f"{name}: {status} {body[:300]!r}")
        timings, DB_MS[:] = [], []
        for _ in range(repeat):
            path = path_of(rng.choice(rows))
            DB_MS.append(0.0)
            begin = time.perf_counter()
            status, body = get(path)
            timings.append((time.perf_counter() - begin) * 1000)
            if status != 200:
                raise SystemExit(f"{name}: {path} answered {status} {body[:300]!r}")
        timings.sort()
        rank = max(0, int(len(timings) * 0.95) - 1)
        yield name, statistics.median(timings), timings[rank], timings[-1], sorted(DB_MS)[rank]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contacts", nargs="?", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--http", action="store_true", help="measure over HTTP against `octopushx serve`")
    parser.add_argument("--reuse", action="store_true", help="measure the tenant an earlier run loaded")
    parser.add_argument("--data-dir", help="data folder (SQLite file, keys); a fresh one by default")
    parser.add_argument(
        "--crm-migration", help="migrate the crm app to this migration (to measure without newer indexes)"
    )
    parser.add_argument("--role", choices=["admin", "manager", "agent"], help="measure as this member only")
    parser.add_argument("--only", help="run only the queries whose name contains this text")
    args = parser.parse_args()
    _setup(args.data_dir, args.crm_migration)
    from django.db import connection
    from django.test import Client

    from octopushx.accounts import services as accounts
    from octopushx.core.context import Actor
    from octopushx.crm.models import Contact

    print(f"database: {connection.vendor}, data folder {os.environ['OCTOPUSHX_DATA_DIR']}", flush=True)
    from crm_data import populate

    loaded = _existing() if args.reuse else None
    if loaded is None:
        loaded = populate(args.contacts)
    total = Contact.objects.for_tenant(loaded.tenant).count()
    print(f"tenant has {total:,} contacts", flush=True)
    rng = random.Random(11)
    roles = {
        "admin": (loaded.admin, None),
        "manager": (loaded.managers[0], [m.user_id for m in loaded.agents[:5]] + [loaded.managers[0].user_id]),
        "agent": (loaded.agents[0], [loaded.agents[0].user_id]),
    }
    server = _Http() if args.http else None
    all_cases = {k: v for k, v in cases(loaded, rng).items() if not args.only or args.only in k}
    failed = []
    try:
        for role, (membership, owners) in roles.items():
            if args.role and role != args.role:
                continue
            _token, secret = accounts.create_token(
                loaded.tenant, Actor.system("bench"), membership.user, name=f"bench {role}"
            )
            rows = _sample(loaded, owners, 300, rng)
            if server is not None:

                def get(path, secret=secret):
                    return server.get(path, secret)
            else:
                client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

                def get(path, client=client):
                    with connection.execute_wrapper(_db_clock):
                        response = client.get(path)
                    return response.status_code, response.content

            via = "HTTP (octopushx serve)" if server else "Django test client"
            print(f"\n{role} ({membership.role}), {via}, {args.repeat} requests each")
            print(f"{'query':36} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'db p95':>8}")
            for name, p50, p95, worst, db in measure(get, rows, all_cases, args.repeat, rng):
                mark = "" if p95 < TARGET_MS else "  <-- over target"
                if mark:
                    failed.append(f"{role}: {name}")
                db_text = f"{db:8.1f}" if server is None else f"{'-':>8}"
                print(f"{name:36} {p50:8.1f} {p95:8.1f} {worst:8.1f} {db_text}{mark}", flush=True)
    finally:
        if server is not None:
            server.close()
    if failed:
        print("\nover the 100 ms p95 target: " + "; ".join(failed))
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
