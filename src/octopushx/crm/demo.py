"""A believable CRM for the demo tenant: companies, contacts, deals across the stages of two
pipelines, tasks (some overdue), notes, custom fields and a few duplicates to review.

Idempotent (nothing is added when the demo contacts exist) and fast (bulk inserts)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from octopushx.core import audit
from octopushx.core.context import Actor
from octopushx.crm import activity, services
from octopushx.crm.models import (
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    CustomField,
    Deal,
    DealStageChange,
    Lifecycle,
    Note,
    NoteKind,
    Pipeline,
    Stage,
    StageKind,
    Task,
    TaskStatus,
)
from octopushx.tenancy.models import Membership

MARKER = "demo-"
FIRST = [
    "Olivia",
    "Noah",
    "Amelia",
    "Oliver",
    "Isla",
    "George",
    "Ava",
    "Arthur",
    "Mia",
    "Leo",
    "Ivy",
    "Oscar",
    "Freya",
    "Harry",
    "Lily",
    "Jack",
    "Grace",
    "Charlie",
    "Sophia",
    "Thomas",
    "Priya",
    "Mohammed",
    "Chloe",
    "Aisha",
    "Daniel",
    "Zara",
    "Samuel",
    "Emily",
    "Yusuf",
    "Hannah",
]
LAST = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Khan",
    "Clarke",
    "Lewis",
    "Harris",
    "Martin",
    "Cooper",
    "Hughes",
    "Ward",
    "Morris",
    "King",
    "Baker",
    "Turner",
]
COMPANY_WORDS = [
    "Northern",
    "Bright",
    "Harbour",
    "Summit",
    "Oak",
    "Copper",
    "Meridian",
    "Blue",
    "Granite",
    "Swift",
    "Lantern",
    "Silver",
    "Beacon",
    "Willow",
    "Crown",
]
COMPANY_KINDS = [
    "Logistics",
    "Dental",
    "Software",
    "Energy",
    "Foods",
    "Lettings",
    "Insurance",
    "Engineering",
    "Travel",
    "Print",
]
INDUSTRIES = {
    "Logistics": "Transport",
    "Dental": "Healthcare",
    "Software": "Technology",
    "Energy": "Utilities",
    "Foods": "Retail",
    "Lettings": "Property",
    "Insurance": "Finance",
    "Engineering": "Manufacturing",
    "Travel": "Leisure",
    "Print": "Media",
}
CITIES = ["London", "Manchester", "Leeds", "Bristol", "Glasgow", "Cardiff", "Birmingham", "Belfast", "York", "Brighton"]
TITLES = [
    "Operations Manager",
    "Head of Support",
    "Office Manager",
    "Director",
    "Finance Lead",
    "IT Manager",
    "Customer Success Lead",
    "Founder",
    "Practice Manager",
    "Procurement Officer",
]
NOTES = [
    "<p>Called about the <strong>renewal</strong>; wants a quote for 20 more seats.</p>",
    "<p>Asked for the call-recording retention settings before signing.</p>",
    "<p>Met at the Manchester expo. Interested in the workflow automation.</p>",
    "<p>Complained about hold times last month; follow up after the rollout.</p>",
    "<p>Prefers email. Decision maker is the finance lead.</p>",
    "<p>Trial going well: 4 agents active, 300 calls analysed.</p>",
]
TASKS = [
    "Send the proposal",
    "Call back about pricing",
    "Book a demo",
    "Check in after onboarding",
    "Confirm contract details",
    "Share the DPA",
    "Follow up on the trial",
    "Update billing contact",
]
LOST_REASONS = ["Price", "Chose a competitor", "No budget this year", "Timing"]


def _stage_history(tenant, deals: list, stages: list, now, rng: random.Random) -> None:
    """Each deal's way to its stage, as the CRM records it (crm.DealStageChange): created in the first
    stage, then through the open stages in order (a lost deal drops out on the way), moves spread
    between its creation and its close (or now). The deal's ``updated_at`` is its last move, so deals
    nobody touched for weeks show as quiet."""
    history, last_moves = [], {}
    for deal in deals:
        pipeline_stages = [s for s in stages if s.pipeline_id == deal.pipeline_id]
        open_stages = [s for s in pipeline_stages if s.kind == StageKind.OPEN]
        if deal.stage.kind == StageKind.OPEN:
            path = open_stages[: open_stages.index(deal.stage) + 1]
        elif deal.stage.kind == StageKind.WON:
            path = [*open_stages, deal.stage]
        else:
            path = [*open_stages[: rng.randint(1, len(open_stages))], deal.stage]
        end = deal.closed_at or deal.created_at + (now - deal.created_at) * rng.uniform(0.3, 1.0)
        moments = sorted(deal.created_at + (end - deal.created_at) * rng.random() for _ in path[1:])
        if deal.closed_at and moments:
            moments[-1] = deal.closed_at
        previous, entered = None, None
        for stage, moment in zip(path, [deal.created_at, *moments], strict=True):
            history.append(
                DealStageChange(
                    tenant=tenant,
                    deal=deal,
                    pipeline_id=deal.pipeline_id,
                    from_entered_at=entered,
                    from_stage=previous,
                    to_stage=stage,
                    from_stage_name=previous.name if previous else "",
                    to_stage_name=stage.name,
                    to_kind=stage.kind,
                    changed_at=moment,
                )
            )
            previous, entered = stage, moment
        last_moves[deal.pk] = history[-1].changed_at
    DealStageChange.objects.bulk_create(history, batch_size=500)
    for deal in deals:  # auto_now on save; a queryset update keeps the given time
        Deal.objects.filter(pk=deal.pk).update(updated_at=last_moves[deal.pk])


def load(tenant, rng: random.Random | None = None) -> str:
    """Add the demo CRM to ``tenant`` once; returns a one-line summary."""
    if Contact.objects.for_tenant(tenant).filter(external_id__startswith=MARKER).exists():
        return "CRM demo data was already loaded."
    rng = rng or random.Random(2026)
    actor = Actor.system("demo")
    now = timezone.now()
    members = list(Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__email"))
    sellers = [m.user for m in members if m.role in ("owner", "admin", "manager", "agent")] or [None]
    agents = [m.user for m in members if m.role in ("agent", "manager")] or sellers

    sales = services.default_pipeline(tenant)
    if not Pipeline.objects.for_tenant(tenant).filter(name="Renewals").exists():
        services.create_pipeline(
            tenant,
            actor,
            {
                "name": "Renewals",
                "stages": [
                    {"name": "Due in 90 days", "probability": 60},
                    {"name": "In talks", "probability": 80},
                    {"name": "Renewed", "probability": 100, "kind": "won"},
                    {"name": "Churned", "probability": 0, "kind": "lost"},
                ],
            },
        )
    for object_type, label, options in (
        ("contact", "Plan", ["Free", "Team", "Enterprise"]),
        ("company", "Tier", ["Bronze", "Silver", "Gold"]),
    ):
        if not CustomField.objects.for_tenant(tenant).filter(object_type=object_type, key=label.lower()).exists():
            services.create_custom_field(
                tenant, actor, {"object_type": object_type, "label": label, "field_type": "select", "options": options}
            )
    tags = services.get_or_create_tags(tenant, ["vip", "newsletter", "partner", "churn-risk"])

    companies = []
    names = set()
    while len(companies) < 120:
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
        if name in names:
            name = f"{name} {rng.choice(CITIES)}"
        if name in names:
            continue
        names.add(name)
        kind = name.split()[1]
        slug = name.lower().replace(" ", "")
        companies.append(
            Company(
                tenant=tenant,
                name=name,
                domain=f"{slug}.example",
                industry=INDUSTRIES[kind],
                size=rng.choice(["1-10", "11-50", "51-200", "201-1000"]),
                city=rng.choice(CITIES),
                country="GB",
                owner=rng.choice(sellers),
                external_id=f"{MARKER}co-{len(companies)}",
                custom={"tier": rng.choice(["Bronze", "Silver", "Gold"])},
                created_at=now - timedelta(days=rng.randint(30, 400)),
            )
        )
    Company.objects.bulk_create(companies)

    contacts, emails, phones, contact_tags = [], [], [], []
    for index in range(360):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = rng.choice(companies)
        email = f"{first}.{last}{index}@{company.domain}".lower()
        number = f"+44207946{index:04d}" if index < 1000 else f"+44161496{index % 1000:04d}"
        contact = Contact(
            tenant=tenant,
            first_name=first,
            last_name=last,
            email=email,
            phone=number,
            company=company,
            job_title=rng.choice(TITLES),
            owner=company.owner if rng.random() < 0.7 else rng.choice(sellers),
            lifecycle_stage=rng.choice(
                [
                    Lifecycle.LEAD,
                    Lifecycle.LEAD,
                    Lifecycle.MQL,
                    Lifecycle.SQL,
                    Lifecycle.OPPORTUNITY,
                    Lifecycle.CUSTOMER,
                    Lifecycle.CUSTOMER,
                ]
            ),
            lead_status=rng.choice(["new", "open", "in_progress", "connected"]),
            city=company.city,
            country="GB",
            preferred_language=rng.choice(["en", "en", "en", "cy", "pl"]),
            consent=rng.choice(["granted", "unknown"]),
            lawful_basis=rng.choice(["consent", "legitimate_interests"]),
            restricted=index % 97 == 0,
            external_id=f"{MARKER}{index}",
            custom={"plan": rng.choice(["Free", "Team", "Enterprise"])},
            created_at=now - timedelta(days=rng.randint(1, 365)),
        )
        contacts.append(contact)
        emails.append(ContactEmail(tenant=tenant, contact=contact, email=email, label="work", is_primary=True))
        phones.append(ContactPhone(tenant=tenant, contact=contact, number=number, label="work", is_primary=True))
        if rng.random() < 0.3:
            contact_tags.append((contact, rng.choice(tags)))
    # Three likely duplicates for the review page: same email, same phone, similar name.
    for index, (source, tweak) in enumerate(((contacts[5], "email"), (contacts[17], "phone"), (contacts[29], "name"))):
        twin = Contact(
            tenant=tenant,
            first_name=source.first_name + ("n" if tweak == "name" else ""),
            last_name=source.last_name,
            company=source.company,
            owner=source.owner,
            email=source.email if tweak == "email" else "",
            phone=source.phone if tweak == "phone" else "",
            external_id=f"{MARKER}dup-{index}",
            created_at=now - timedelta(days=2),
        )
        contacts.append(twin)
        if twin.email:
            emails.append(ContactEmail(tenant=tenant, contact=twin, email=twin.email, is_primary=True))
        if twin.phone:
            phones.append(ContactPhone(tenant=tenant, contact=twin, number=twin.phone, is_primary=True))
    Contact.objects.bulk_create(contacts, batch_size=500)
    ContactEmail.objects.bulk_create(emails, batch_size=500)
    ContactPhone.objects.bulk_create(phones, batch_size=500)
    through = Contact.tags.through
    through.objects.bulk_create([through(contact_id=c.pk, tag_id=t.pk) for c, t in contact_tags])

    deals, deal_contacts = [], []
    pipelines = {p.pk: p for p in Pipeline.objects.for_tenant(tenant)}
    stages = list(Stage.objects.for_tenant(tenant).order_by("pipeline_id", "position"))
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for index in range(160):
        pipeline = sales if index % 4 else next(p for p in pipelines.values() if p.name == "Renewals")
        stage = rng.choice([s for s in stages if s.pipeline_id == pipeline.pk])
        contact = rng.choice(contacts[:360])
        closed = stage.kind != StageKind.OPEN
        # a quarter of the deals this month (the dashboards' default period), the rest over 200 days
        if index % 4 == 1:
            created = month_start + (now - month_start) * rng.random()
        else:
            created = now - timedelta(days=rng.randint(1, 200), hours=rng.randint(0, 23))
        closed_at = created + (now - created) * rng.uniform(0.5, 1.0) if closed else None
        deals.append(
            Deal(
                tenant=tenant,
                name=f"{contact.company.name} — {rng.choice(['Team plan', 'Call analytics', 'Renewal', 'Add-on seats', 'Enterprise'])}",
                value=Decimal(rng.randrange(500, 60000, 250)),
                currency="GBP",
                pipeline=pipeline,
                stage=stage,
                status=stage.kind,
                company=contact.company,
                owner=contact.owner,
                expected_close=(now + timedelta(days=rng.randint(-20, 120))).date(),
                closed_at=closed_at,
                close_reason=rng.choice(LOST_REASONS) if stage.kind == StageKind.LOST else "",
                created_at=created,
            )
        )
        deal_contacts.append((deals[-1], contact))
    Deal.objects.bulk_create(deals)
    deal_through = Deal.contacts.through
    deal_through.objects.bulk_create([deal_through(deal_id=d.pk, contact_id=c.pk) for d, c in deal_contacts])
    _stage_history(tenant, deals, stages, now, rng)

    tasks = []
    for index in range(200):
        contact = rng.choice(contacts[:360])
        due = now + timedelta(days=rng.randint(-10, 20), hours=rng.randint(0, 8))
        done = rng.random() < 0.3
        # created before it is due (never in the future), completed after it was created
        created = min(due - timedelta(days=3), now - timedelta(hours=rng.randint(1, 48)))
        completed = created + (min(due, now) - created) * rng.uniform(0.2, 1.0) if done else None
        tasks.append(
            Task(
                tenant=tenant,
                title=rng.choice(TASKS),
                due_at=due,
                assignee=contact.owner or rng.choice(agents),
                status=TaskStatus.DONE if done else TaskStatus.OPEN,
                completed_at=completed,
                contact=contact if index % 3 else None,
                deal=rng.choice(deals) if index % 3 == 0 else None,
                created_at=created,
            )
        )
    Task.objects.bulk_create(tasks)
    notes = []
    for _index in range(260):
        contact = rng.choice(contacts[:360])
        email = rng.random() < 0.2
        notes.append(
            Note(
                tenant=tenant,
                contact=contact,
                author=contact.owner,
                body=rng.choice(NOTES),
                kind=NoteKind.EMAIL if email else NoteKind.NOTE,
                subject="Re: your quote" if email else "",
                created_at=now - timedelta(days=rng.randint(0, 90), hours=rng.randint(0, 23)),
            )
        )
    Note.objects.bulk_create(notes)
    activity.refresh(Deal.objects.for_tenant(tenant))  # bulk writes skip its receivers
    # A few real stage moves so deal timelines show stage changes.
    for deal in deals[:12]:
        open_stages = [s for s in stages if s.pipeline_id == deal.pipeline_id and s.pk != deal.stage_id]
        services.move_deal(tenant, actor, deal, rng.choice(open_stages).pk)
    summary = (
        f"{len(companies)} companies, {len(contacts)} contacts, {len(deals)} deals, {len(tasks)} tasks, "
        f"{len(notes)} notes"
    )
    audit.record(tenant, actor, "crm.demo_loaded", object_type="crm", changes={"loaded": [None, summary]})
    return f"CRM demo data: {summary}."
