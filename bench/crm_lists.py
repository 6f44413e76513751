"""List, search and open contacts through the API on a large tenant; print p50 / p95 latencies.

    .venv/bin/python bench/crm_lists.py [CONTACTS] [--repeat N]

CONTACTS defaults to 200,000 (SQLite, embedded defaults, fresh data folder). With
DATABASE_URL set it runs against that PostgreSQL database instead (use a scratch database).
Target: each query under 100 ms at the 95th percentile.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contacts", nargs="?", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    os.environ["OCTOPUSHX_DATA_DIR"] = tempfile.mkdtemp(prefix="opx-crm-lists-")
    os.environ.setdefault("OCTOPUSHX_LOG_LEVEL", "WARNING")
    os.environ.setdefault("OCTOPUSHX_API_RATE_LIMIT", "100000000")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client
    from django.utils import timezone

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", interactive=False, verbosity=0)
    from octopushx.accounts import services as accounts
    from octopushx.core.context import Actor
    from octopushx.crm.imports import CONTACT_DEFAULTS, fast_insert
    from octopushx.crm.models import Contact, ContactEmail, ContactPhone
    from octopushx.tenancy import services as tenancy

    tenant = tenancy.create_organization(Actor.system("bench"), name="Big Ltd")
    owner = tenancy.add_member(
        tenant,
        Actor.system("bench"),
        email="bench@example.test",
        role="owner",
        password="bench-password-2026",
        check=False,
    )
    rng = random.Random(7)
    first = ["Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Tim", "Barbara", "Dennis", "Radia"]
    last = [f"Surname{i}" for i in range(5000)]
    stages = ["lead", "customer", "opportunity", "subscriber", "mql", "sql"]
    started = time.perf_counter()
    now = timezone.now()
    for offset in range(0, args.contacts, 10_000):
        contacts, emails, phones = [], [], []
        for index in range(offset, min(offset + 10_000, args.contacts)):
            contact_id = uuid.uuid4()
            email = f"person{index}@example.com"
            number = f"+44161{index:07d}"[:13]
            created = now - timedelta(seconds=index * 7)
            contacts.append(
                {
                    **CONTACT_DEFAULTS,
                    "id": contact_id,
                    "tenant_id": tenant.pk,
                    "created_at": created,
                    "updated_at": created,
                    "first_name": rng.choice(first),
                    "last_name": rng.choice(last),
                    "email": email,
                    "phone": number,
                    "company_id": None,
                    "owner_id": owner.user.pk,
                    "lifecycle_stage": rng.choice(stages),
                    "custom": {},
                }
            )
            emails.append(
                {
                    "id": uuid.uuid4(),
                    "tenant_id": tenant.pk,
                    "created_at": now,
                    "updated_at": now,
                    "contact_id": contact_id,
                    "email": email,
                    "label": "",
                    "is_primary": True,
                }
            )
            phones.append(
                {
                    "id": uuid.uuid4(),
                    "tenant_id": tenant.pk,
                    "created_at": now,
                    "updated_at": now,
                    "contact_id": contact_id,
                    "number": number,
                    "label": "",
                    "is_primary": True,
                }
            )
        with transaction.atomic():
            fast_insert(Contact, contacts)
            fast_insert(ContactEmail, emails)
            fast_insert(ContactPhone, phones)
    print(f"loaded {args.contacts:,} contacts in {time.perf_counter() - started:.1f} s")
    _token, secret = accounts.create_token(tenant, Actor.system("bench"), owner.user, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    sample = list(
        Contact.objects.for_tenant(tenant).values_list("pk", "last_name", "email", "phone")[
            :: max(1, args.contacts // 500)
        ]
    )

    def national(e164: str) -> str:
        return "0" + e164[3:6] + " " + e164[6:9] + " " + e164[9:]

    cases = {
        "list, filter lifecycle=customer": lambda row: "/api/v1/contacts?lifecycle_stage=customer&limit=50",
        "list, ordered by last name": lambda row: "/api/v1/contacts?ordering=last_name&limit=50",
        "search by name": lambda row: f"/api/v1/contacts?q={row[1]}&limit=20",
        "search by email": lambda row: f"/api/v1/contacts?q={row[2]}&limit=20",
        "search by phone, national format": lambda row: f"/api/v1/contacts?q={national(row[3]).replace(' ', '%20')}",
        "open a contact": lambda row: f"/api/v1/contacts/{row[0]}",
    }
    print(f"{'query':36} {'p50 ms':>8} {'p95 ms':>8}")
    ok = True
    for name, path_of in cases.items():
        timings = []
        client.get(path_of(sample[0]))  # warm up: the first call of each kind loads code
        for _ in range(args.repeat):
            path = path_of(rng.choice(sample))
            begin = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - begin) * 1000)
            if response.status_code != 200:
                print(f"{name}: {response.status_code} {response.content[:200]!r}")
                return 1
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        ok = ok and p95 < 100
        print(f"{name:36} {statistics.median(timings):8.1f} {p95:8.1f}")
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
