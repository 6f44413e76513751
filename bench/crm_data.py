"""A large CRM tenant for the list and search benchmark (``bench/crm_lists.py``).

Contacts with one or two emails and phone numbers (UK mobiles and London numbers),
varied names, companies, tags, lifecycle stages, a ``segment`` custom field, and owners
spread over agents in four teams. PostgreSQL is loaded with ``COPY``; SQLite with one
``executemany`` per chunk. A million contacts load in a few minutes.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

FIRST = (
    "Ada Grace Alan Katherine Linus Margaret Tim Barbara Dennis Radia Amara Bilal Chloe Dmitri Eilidh Farah "
    "Gareth Hana Idris Jun Kofi Leila Mateo Niamh Oskar Priya Quentin Rhiannon Sanjay Tomasz Ulla Valentina "
    "Wei Ximena Yusuf Zofia Aoife Bruno Carys Deepa Emeka Fiona Gustav Hugo Ingrid Jamal Kamala Luca Mairead "
    "Nikhil Olga Pedro Rosa Siobhan Tariq Uma Viktor Wanjiru Yara Zain Anya Ben Cora Dara Elsa Finn Gwen Hal"
).split()
SYLLABLES_A = (
    "Ash Black Brad Carr Dun Eng Fair Gold Hart Ing Kel Lind Mar North Oak Pem Quin Rad Stan Thorn Up Vick "
    "Wal Yar Zell Brook Cliff Dray Ell Frost"
).split()
SYLLABLES_B = "ford ley ton wood field worth by stead ham well more son wick combe holt".split()
STAGES = ["subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist", "other"]
SEGMENTS = ["gold", "silver", "bronze", "trial", "partner"]
TEAMS = 4
AGENTS_PER_TEAM = 5
CHUNK = 20_000


@dataclass
class Tenant:
    """What the benchmark needs to know about the loaded tenant."""

    tenant: object
    admin: object
    agents: list = field(default_factory=list)
    managers: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    companies: list = field(default_factory=list)


def last_names() -> list[str]:
    """About 7,000 distinct surnames, so name searches have realistic selectivity."""
    names = [a + b for a in SYLLABLES_A for b in SYLLABLES_B]
    names += [a + b.lower() + c for a in SYLLABLES_A for b in SYLLABLES_A[:15] for c in SYLLABLES_B[:1]]
    return names + [f"{a}-{b}" for a in names[:40] for b in names[40:190]]


def phone_number(rng: random.Random) -> str:
    """A valid UK number in E.164: a mobile (07400-07999) or a London 020 7/8 number."""
    if rng.random() < 0.6:
        return f"+447{rng.randint(400_000_000, 999_999_999)}"
    return f"+4420{rng.choice('78')}{rng.randint(0, 9_999_999):07d}"


def _members(tenant, actor) -> Tenant:
    from octopushx.tenancy import services as tenancy
    from octopushx.tenancy.models import Team

    owner = tenancy.add_member(tenant, actor, email="bench@example.test", role="owner", check=False)
    loaded = Tenant(tenant=tenant, admin=owner)
    for team_index in range(TEAMS):
        team = Team.objects.create(tenant=tenant, name=f"Team {team_index + 1}")
        manager = tenancy.add_member(
            tenant, actor, email=f"manager{team_index}@example.test", role="manager", check=False
        )
        manager.team = team
        manager.save(update_fields=["team"])
        loaded.managers.append(manager)
        for agent_index in range(AGENTS_PER_TEAM):
            agent = tenancy.add_member(
                tenant, actor, email=f"agent{team_index}-{agent_index}@example.test", role="agent", check=False
            )
            agent.team = team
            agent.save(update_fields=["team"])
            loaded.agents.append(agent)
    return loaded


def _sql_value(value, vendor: str):
    """A Python value as the database stores it (the fast path of ``get_db_prep_save``)."""
    if isinstance(value, uuid.UUID):
        return value.hex if vendor == "sqlite" else str(value)
    if isinstance(value, datetime):
        if vendor == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _copy_line(values: list) -> str:
    cells = []
    for value in values:
        if value is None:
            cells.append("\\N")
        elif value is True or value is False:
            cells.append("t" if value else "f")
        else:
            cells.append(str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " "))
    return "\t".join(cells) + "\n"


def _writer(model):
    """A function inserting plain rows (dicts keyed by attname) into ``model``'s table:
    ``COPY`` text on PostgreSQL, ``executemany`` on SQLite."""
    from django.db import connection

    # An auto-created many-to-many table numbers its rows itself.
    fields = [f for f in model._meta.concrete_fields if not (model._meta.auto_created and f.primary_key)]
    quote = connection.ops.quote_name
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    names, vendor = [f.attname for f in fields], connection.vendor

    def write(rows: list[dict]) -> None:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    copy.write("".join(_copy_line([_sql_value(row[n], vendor) for n in names]) for row in rows))
                return
            sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
            cursor.executemany(sql, [[_sql_value(row[n], vendor) for n in names] for row in rows])

    return write


def populate(contacts: int, seed: int = 7) -> Tenant:
    """Create a tenant with ``contacts`` contacts and everything around them; print the load time."""
    from django.db import connection, transaction
    from django.utils import timezone

    from octopushx.core import maintenance
    from octopushx.core.context import Actor
    from octopushx.crm.imports import COMPANY_DEFAULTS, CONTACT_DEFAULTS
    from octopushx.crm.models import Company, Contact, ContactEmail, ContactPhone, CustomField, Tag
    from octopushx.tenancy import services as tenancy

    # As an import does, but larger: 200,000 random-key contacts thrash 64 MB of SQLite index pages.
    maintenance.large_page_cache(megabytes=1024)
    actor = Actor.system("bench")
    tenant = tenancy.create_organization(actor, name="Big Ltd")
    loaded = _members(tenant, actor)
    CustomField.objects.create(
        tenant=tenant, object_type="contact", key="segment", label="Segment", field_type="select", options=SEGMENTS
    )
    rng = random.Random(seed)
    surnames = last_names()
    now = timezone.now()
    started = time.perf_counter()
    loaded.tags = [Tag.objects.create(tenant=tenant, name=f"tag-{n}") for n in range(30)]
    companies = []
    for index in range(max(10, contacts // 50)):
        companies.append(
            {
                **COMPANY_DEFAULTS,
                "id": uuid.uuid4(),
                "tenant_id": tenant.pk,
                "created_at": now,
                "updated_at": now,
                "name": f"{rng.choice(surnames)} {rng.choice(['Ltd', 'plc', 'Group', 'Partners'])} {index}",
                "domain": f"company{index}.example",
                "industry": "",
                "size": "",
                "phone": "",
                "owner_id": None,
                "external_id": "",
                "custom": {},
            }
        )
    with transaction.atomic():
        _writer(Company)(companies)
    loaded.companies = [row["id"] for row in companies]
    owners = [loaded.admin.user_id] + [m.user_id for m in loaded.agents + loaded.managers]
    if connection.vendor == "postgresql":
        _generate_in_postgresql(tenant, contacts, owners, loaded, surnames, started)
        return loaded
    through = Contact.tags.through
    write_contacts, write_emails, write_phones = _writer(Contact), _writer(ContactEmail), _writer(ContactPhone)
    write_tags = _writer(through)
    for offset in range(0, contacts, CHUNK):
        rows, emails, phones, tags = [], [], [], []
        for index in range(offset, min(offset + CHUNK, contacts)):
            contact_id = uuid.uuid4()
            first, last = rng.choice(FIRST), rng.choice(surnames)
            company = rng.choice(companies) if rng.random() < 0.7 else None
            domain = company["domain"] if company else rng.choice(["mail.example", "post.example", "inbox.example"])
            addresses = [f"{first}.{last}{index}@{domain}".lower()]
            if rng.random() < 0.2:
                addresses.append(f"{first[0]}{last}{index}@home.example".lower())
            numbers = [phone_number(rng)]
            if rng.random() < 0.3:
                numbers.append(phone_number(rng))
            created = now - timedelta(seconds=index * 31)
            rows.append(
                {
                    **CONTACT_DEFAULTS,
                    "id": contact_id,
                    "tenant_id": tenant.pk,
                    "created_at": created,
                    "updated_at": created,
                    "first_name": first,
                    "last_name": last,
                    "email": addresses[0],
                    "phone": numbers[0],
                    "company_id": company["id"] if company else None,
                    "owner_id": None if index % 97 == 0 else owners[index % len(owners)],
                    "lifecycle_stage": rng.choice(STAGES),
                    "custom": {"segment": rng.choice(SEGMENTS)} if rng.random() < 0.5 else {},
                }
            )
            for position, address in enumerate(addresses):
                emails.append(
                    {
                        "id": uuid.uuid4(),
                        "tenant_id": tenant.pk,
                        "created_at": created,
                        "updated_at": created,
                        "contact_id": contact_id,
                        "email": address,
                        "label": "",
                        "is_primary": position == 0,
                    }
                )
            for position, number in enumerate(numbers):
                phones.append(
                    {
                        "id": uuid.uuid4(),
                        "tenant_id": tenant.pk,
                        "created_at": created,
                        "updated_at": created,
                        "contact_id": contact_id,
                        "number": number,
                        "label": "mobile" if number.startswith("+447") else "work",
                        "is_primary": position == 0,
                    }
                )
            for tag in rng.sample(loaded.tags, rng.choice([0, 0, 1, 1, 2])):
                tags.append({"contact_id": contact_id, "tag_id": tag.pk})
        with transaction.atomic():
            write_contacts(rows)
            write_emails(emails)
            write_phones(phones)
            write_tags(tags)
        done = offset + len(rows)
        if done % 100_000 == 0 or done == contacts:
            print(f"  {done:,} contacts, {time.perf_counter() - started:.0f} s", flush=True)
    # Statistics as the application keeps them (at start, hourly and after an import), sampled.
    maintenance.refresh_statistics()
    print(f"loaded {contacts:,} contacts in {time.perf_counter() - started:.1f} s", flush=True)
    return loaded


CONTACTS_SQL = """
INSERT INTO crm_contact ({columns})
SELECT gen_random_uuid(), %(tenant)s, c.created, c.created, {defaults},
       c.first, c.last, lower(c.first || '.' || c.last || c.i || '@' || coalesce(co.domain, 'mail.example')),
       c.phone, co.id, c.owner, c.stage,
       CASE WHEN random() < 0.5 THEN jsonb_build_object('segment', (%(segments)s::text[])[1 + floor(random() * 5)])
            ELSE '{{}}'::jsonb END
FROM (
    SELECT i, %(now)s::timestamptz - i * interval '31 seconds' AS created,
           (%(first)s::text[])[1 + floor(random() * %(first_count)s)] AS first,
           (%(last)s::text[])[1 + floor(random() * %(last_count)s)] AS last,
           CASE WHEN random() < 0.6 THEN '+447' || (400000000 + floor(random() * 600000000))::bigint
                ELSE '+4420' || (7 + floor(random() * 2))::int || lpad(floor(random() * 10000000)::int::text, 7, '0')
           END AS phone,
           CASE WHEN random() < 0.7 THEN 1 + floor(random() * %(company_count)s)::int END AS company,
           CASE WHEN i %% 97 = 0 THEN NULL ELSE (%(owners)s::uuid[])[1 + i %% %(owner_count)s] END AS owner,
           (%(stages)s::text[])[1 + floor(random() * 8)] AS stage
    FROM generate_series(%(start)s, %(stop)s) AS i
) c
LEFT JOIN (SELECT id, domain, row_number() OVER (ORDER BY id) AS n FROM crm_company WHERE tenant_id = %(tenant)s) co
    ON co.n = c.company
"""
SIDE_TABLES_SQL = [
    # every contact's primary email and phone, then a second email for 20% and a second phone for 30%
    """INSERT INTO crm_contactemail (id, tenant_id, created_at, updated_at, contact_id, email, label, is_primary)
       SELECT gen_random_uuid(), tenant_id, created_at, created_at, id, email, '', true
       FROM crm_contact WHERE tenant_id = %(tenant)s""",
    """INSERT INTO crm_contactemail (id, tenant_id, created_at, updated_at, contact_id, email, label, is_primary)
       SELECT gen_random_uuid(), tenant_id, created_at, created_at, id,
              lower(left(first_name, 1) || last_name) || floor(random() * 1000000)::int || '@home.example', '', false
       FROM crm_contact WHERE tenant_id = %(tenant)s AND random() < 0.2""",
    """INSERT INTO crm_contactphone (id, tenant_id, created_at, updated_at, contact_id, number, label, is_primary)
       SELECT gen_random_uuid(), tenant_id, created_at, created_at, id, phone, 'mobile', true
       FROM crm_contact WHERE tenant_id = %(tenant)s""",
    """INSERT INTO crm_contactphone (id, tenant_id, created_at, updated_at, contact_id, number, label, is_primary)
       SELECT gen_random_uuid(), tenant_id, created_at, created_at, id,
              '+4420' || (7 + floor(random() * 2))::int || lpad(floor(random() * 10000000)::int::text, 7, '0'),
              'work', false
       FROM crm_contact WHERE tenant_id = %(tenant)s AND random() < 0.3""",
    """INSERT INTO crm_contact_tags (contact_id, tag_id)
       SELECT DISTINCT c.id, (%(tags)s::uuid[])[1 + floor(random() * 30)]
       FROM crm_contact c, generate_series(1, 2) AS n
       WHERE c.tenant_id = %(tenant)s AND random() < 0.4""",
]


def _generate_in_postgresql(tenant, contacts: int, owners: list, loaded: Tenant, surnames: list, started) -> None:
    """The same shape of data as the SQLite path, generated by the server (a million rows a minute)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from octopushx.crm.imports import CONTACT_DEFAULTS

    computed = ["first_name", "last_name", "email", "phone", "company_id", "owner_id", "lifecycle_stage", "custom"]
    leading = ["id", "tenant_id", "created_at", "updated_at"]
    others = [k for k in CONTACT_DEFAULTS if k not in computed + leading]
    columns = ", ".join(leading + others + computed)
    defaults = ", ".join(
        "NULL"
        if CONTACT_DEFAULTS[k] is None
        else (
            "'[]'::jsonb"
            if CONTACT_DEFAULTS[k] == []
            else "false"
            if CONTACT_DEFAULTS[k] is False
            else f"'{CONTACT_DEFAULTS[k]}'"
        )
        for k in others
    )
    params = {
        "tenant": tenant.pk,
        "now": timezone.now(),
        "first": FIRST,
        "first_count": len(FIRST),
        "last": surnames,
        "last_count": len(surnames),
        "segments": SEGMENTS,
        "stages": STAGES,
        "owners": owners,
        "owner_count": len(owners),
        "company_count": len(loaded.companies),
        "tags": [t.pk for t in loaded.tags],
    }
    sql = CONTACTS_SQL.format(columns=columns, defaults=defaults)
    with connection.cursor() as cursor:
        for start in range(0, contacts, 250_000):
            with transaction.atomic():
                cursor.execute(sql, {**params, "start": start, "stop": min(start + 250_000, contacts) - 1})
            print(f"  {min(start + 250_000, contacts):,} contacts, {time.perf_counter() - started:.0f} s", flush=True)
        for statement in SIDE_TABLES_SQL:
            with transaction.atomic():
                cursor.execute(statement, params)
            print(f"  {statement.split()[2]}: {time.perf_counter() - started:.0f} s", flush=True)
        cursor.execute("ANALYZE")
    print(f"loaded {contacts:,} contacts in {time.perf_counter() - started:.1f} s", flush=True)
